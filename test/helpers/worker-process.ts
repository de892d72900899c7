import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

// A real worker process (worker/main.ts), so a test can kill it with SIGKILL the way a crashed machine dies and
// start another.

const ROOT = join(__dirname, '..', '..');

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves once the worker polls; rejects when it exits first or does not start in time (then it is killed). */
  ready: Promise<void>;
  /** SIGKILL: no graceful shutdown; in-flight activities and workflow tasks are simply lost. */
  kill: () => Promise<void>;
  stop: () => Promise<void>;
}

export interface WorkerProcessOptions {
  readyTimeoutMs?: number;
  /** Also write the output to the file this names (given the worker's pid), to be read after a failed case. */
  logFile?: (pid: number) => string;
}

/**
 * Starts the worker with the test's environment plus `env` (info logging, which says when it polls, and no metrics
 * port unless `env` says otherwise). Await `ready` before relying on it.
 */
export function startWorkerProcess(env: Record<string, string>, opts: WorkerProcessOptions = {}): WorkerProcess {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  // `node --import tsx` runs the worker in this one process (the tsx CLI would fork a second one SIGKILL misses).
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', METRICS_PORT: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = opts.logFile && child.pid !== undefined ? createWriteStream(opts.logFile(child.pid)) : undefined;
  let output = '';
  const take = (d: Buffer) => {
    output += d.toString();
    log?.write(d);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const running = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      log?.end(`\n[test] worker exited: code ${code}, signal ${signal}\n`);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve();
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + readyTimeoutMs;
    const timer = setInterval(() => {
      if (output.includes('worker polling')) {
        clearInterval(timer);
        resolve();
      } else if (!running()) {
        clearInterval(timer);
        reject(new Error(`worker exited early:\n${output.slice(-3000)}`));
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        child.kill('SIGKILL');
        reject(new Error(`worker did not start within ${readyTimeoutMs} ms:\n${output.slice(-3000)}`));
      }
    }, 100);
  });
  // A caller that never awaits `ready` (it only stops the worker) must not see an unhandled rejection.
  ready.catch(() => undefined);
  return {
    child,
    output: () => output,
    ready,
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (running()) child.kill('SIGTERM');
      await exited;
    },
  };
}
