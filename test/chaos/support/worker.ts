import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

// The real worker entry point (worker/main.ts) in a process of its own, pointed at the private stack, so a test
// can SIGKILL it the way a crashed machine dies and start a new one.

const ROOT = join(__dirname, '..', '..', '..');

export interface ChaosWorker {
  child: ChildProcess;
  output: () => string;
  /** SIGKILL: no graceful shutdown; in-flight activities and workflow tasks are simply lost. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startChaosWorker(env: Record<string, string>, readyTimeoutMs = 90_000): Promise<ChaosWorker> {
  // `node --import tsx` runs the worker in this one process (the tsx CLI would fork a second one SIGKILL misses).
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // Also on disk (.data/logs/chaos-worker-<pid>.log), so a failed or timed-out case can be read afterwards.
  mkdirSync(join(ROOT, '.data', 'logs'), { recursive: true });
  const log = createWriteStream(join(ROOT, '.data', 'logs', `chaos-worker-${child.pid}.log`));
  const take = (d: Buffer) => {
    output += d.toString();
    log.write(d);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      log.end(`\n[chaos] worker exited: code ${code}, signal ${signal}\n`);
      resolve();
    }),
  );
  const deadline = Date.now() + readyTimeoutMs;
  while (!output.includes('worker polling')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`worker exited early:\n${output.slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker did not start within ${readyTimeoutMs} ms:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** mulberry32: a small seeded generator, so a failing run's kill moments can be replayed with CHAOS_SEED. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: CHAOS_SEED when given, else a fixed default, printed by the tests. */
export function chaosSeed(): number {
  const given = Number(process.env.CHAOS_SEED);
  return Number.isInteger(given) && given > 0 ? given : 20_260_505;
}

export async function pollUntil<T>(fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 50, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const began = Date.now();
/** A progress line on stderr (jest shows it live), so a slow or stuck chaos run tells where it is. */
export function note(line: string): void {
  if (process.env.CHAOS_QUIET) return;
  process.stderr.write(`[chaos +${((Date.now() - began) / 1000).toFixed(1)}s] ${line}\n`);
}
