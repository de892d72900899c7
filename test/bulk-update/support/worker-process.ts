import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** SIGKILL: no graceful shutdown, in-flight activities and workflow tasks are simply lost. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real worker entry point (worker/main.ts) in a process of its own, polling only the test's task queue and
 * using the given database.
 */
export async function startWorkerProcess(taskQueue: string, databaseUrl: string): Promise<WorkerProcess> {
  // node itself with tsx as a loader (not the tsx CLI, which runs the script in a child of its own): the pid we
  // SIGKILL is the worker.
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_TASK_QUEUE_BULK_UPDATE: taskQueue,
      TEMPORAL_TASK_QUEUE_EXPORT: taskQueue,
      LOG_LEVEL: 'info',
      METRICS_PORT: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      child.stdout.destroy();
      child.stderr.destroy();
      resolve();
    }),
  );
  const deadline = Date.now() + 90_000;
  while (!output.includes('worker polling')) {
    if (child.exitCode !== null) throw new Error(`worker exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`worker did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => output,
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
