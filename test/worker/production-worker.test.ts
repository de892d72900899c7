import { Client, Connection } from '@temporalio/client';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { STACK_CHECK_WORKFLOW, stackCheckWorkflowId } from '../../contracts/stack-check';
import type { StackCheckWorkflow } from '../../workflows/stack-check/workflow';

const ROOT = join(__dirname, '..', '..');

// The worker as it runs in production: compiled, loading the prebuilt workflow bundle, configured only by its
// environment, and shutting down cleanly on SIGTERM.
describe('production worker', () => {
  const config = loadConfig();
  const taskQueue = `test-production-${randomUUID().slice(0, 8)}`;
  const metricsPort = 19_000 + Math.floor(Math.random() * 1000);
  let worker: ChildProcess;
  let output = '';

  beforeAll(async () => {
    await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, timeout: 180_000 });
    worker = spawn(process.execPath, [join(ROOT, 'dist', 'worker', 'main.js')], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        TEMPORAL_TASK_QUEUE_EXPORT: taskQueue,
        TEMPORAL_TASK_QUEUE_BULK_UPDATE: `${taskQueue}-bulk`,
        LOG_LEVEL: 'info',
        METRICS_PORT: String(metricsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    worker.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!output.includes('worker polling')) {
      if (worker.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 240_000);

  afterAll(() => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  });

  it('runs workflows from the prebuilt bundle', async () => {
    expect(output).not.toMatch(/Workflow bundle created/); // nothing was bundled at start-up
    const connection = await Connection.connect(temporalConnectionOptions(config));
    try {
      const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
      const result = await client.workflow.execute<typeof StackCheckWorkflow>(STACK_CHECK_WORKFLOW, {
        workflowId: stackCheckWorkflowId(randomUUID()),
        taskQueue,
        args: [{ requestedBy: 'production test' }],
      });
      expect(result.ok).toBe(true);
    } finally {
      await connection.close();
    }
  });

  it('serves Prometheus metrics of the Temporal runtime on METRICS_PORT', async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^temporal_/m);
    expect(text).toContain(`task_queue="${taskQueue}"`);
  });

  it('logs structured lines without secrets and stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = output.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(
      expect.arrayContaining(['starting worker', 'worker polling', 'worker stopped']),
    );
    expect(output).not.toContain(config.S3_SECRET_ACCESS_KEY);
    expect(output).not.toContain(config.ENCRYPTION_KEY.toString('base64'));
  });
});
