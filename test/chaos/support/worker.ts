import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startWorkerProcess, type WorkerProcess } from '../../helpers/worker-process';

const ROOT = join(__dirname, '..', '..', '..');

export type ChaosWorker = WorkerProcess;

/**
 * A real worker process pointed at the private stack (`env`), so a test can SIGKILL it the way a crashed machine
 * dies; its output is also kept in .data/logs/chaos-worker-<pid>.log. Resolves once it polls.
 */
export async function startChaosWorker(env: Record<string, string>, readyTimeoutMs = 90_000): Promise<ChaosWorker> {
  mkdirSync(join(ROOT, '.data', 'logs'), { recursive: true });
  const logFile = (pid: number) => join(ROOT, '.data', 'logs', `chaos-worker-${pid}.log`);
  const worker = startWorkerProcess(env, { readyTimeoutMs, logFile });
  await worker.ready;
  return worker;
}

/** The seed of this run: CHAOS_SEED when given, else a fixed default, printed by the tests. */
export function chaosSeed(): number {
  const given = Number(process.env.CHAOS_SEED);
  return Number.isInteger(given) && given > 0 ? given : 20_260_505;
}

const began = Date.now();
/** A progress line on stderr (jest shows it live), so a slow or stuck chaos run tells where it is. */
export function note(line: string): void {
  if (process.env.CHAOS_QUIET) return;
  process.stderr.write(`[chaos +${((Date.now() - began) / 1000).toFixed(1)}s] ${line}\n`);
}
