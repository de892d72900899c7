import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../contracts/config';

const ROOT = join(__dirname, '..', '..');

/** The Temporal CLI the tools build (npm run tools), as operators use it. */
export const TEMPORAL_CLI = join(ROOT, process.env.STACK_TOOLS_DIR ?? '.tools', 'bin', 'temporal');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the project's CLI (client/cli/main.ts) as a user would, with extra environment variables. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'client', 'cli', 'main.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts a workflow by hand with the Temporal CLI, as an operator would, in the config's namespace. */
export async function startWithTemporalCli(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>,
  workflow: { type: string; taskQueue: string; workflowId: string; input: string },
): Promise<string> {
  const flags = {
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    'task-queue': workflow.taskQueue,
    type: workflow.type,
    'workflow-id': workflow.workflowId,
    input: workflow.input,
  };
  const args = ['workflow', 'start', ...Object.entries(flags).flatMap(([flag, value]) => [`--${flag}`, value])];
  await promisify(execFile)(TEMPORAL_CLI, args);
  return workflow.workflowId;
}
