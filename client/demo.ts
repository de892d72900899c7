import { Client, Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { migrate } from '../db/migrate';
import { seedInstance } from '../db/seed/generate';
import { createSql } from '../db/sql';
import { stackUp } from '../scripts/stack/index';
import { loadConfigOrExit, type Config } from '../worker/config';
import { loadEnvFile } from '../worker/env-file';
import { temporalConnectionOptions, webUiLink } from '../worker/temporal';
import type { StackCheckWorkflow } from '../workflows/stack-check/workflow';
import { STACK_CHECK_WORKFLOW, stackCheckWorkflowId } from '../workflows/stack-check/definitions';

const say = (line = '') => process.stdout.write(`${line}\n`);

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [join(__dirname, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(__dirname, '..', 'worker', 'main.ts')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: process.env,
  });
  return child;
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function seed(config: Config): Promise<void> {
  const sql = createSql(config.DATABASE_URL, { max: 2 });
  try {
    await migrate(sql);
    const summary = await seedInstance(sql, { projects: 120, issues: 6000, reset: true });
    say(`Seeded ${summary.groups} groups, ${summary.projects} projects, ${summary.issues} issues, ${summary.notes} notes in ${(summary.ms / 1000).toFixed(1)} s`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function main(): Promise<void> {
  loadEnvFile();
  const config = loadConfigOrExit();
  say('== Local stack');
  await stackUp(config);
  say('\n== Source instance');
  await seed(config);

  say('\n== Worker');
  const worker = startWorker();
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const workflowId = stackCheckWorkflowId(`demo-${Date.now()}`);
    const check = await client.workflow.execute<typeof StackCheckWorkflow>(STACK_CHECK_WORKFLOW, {
      workflowId,
      taskQueue: config.TEMPORAL_TASK_QUEUE_EXPORT,
      args: [{ requestedBy: 'demo' }],
      staticSummary: 'Demo: worker dependency check',
    });
    for (const d of check.dependencies) say(`  ${d.name.padEnd(10)} ${d.ok ? 'ok    ' : 'FAILED'} ${d.detail}`);
    say(`  Web UI: ${webUiLink(config, workflowId)}`);
  } finally {
    await connection.close();
    await stopWorker(worker);
  }
  say(`\nTemporal Web UI: http://127.0.0.1:${config.TEMPORAL_UI_PORT}   Mail: http://127.0.0.1:${config.MAILDEV_WEB_PORT}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
