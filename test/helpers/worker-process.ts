import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

// A real worker process (worker/main.ts), so a test can kill it with SIGKILL the way a crashed machine dies.

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  ready: Promise<void>;
  kill: () => Promise<void>;
  stop: () => Promise<void>;
}

export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const root = join(__dirname, '..', '..');
  // `node --import tsx` runs the worker in this one process (the tsx CLI would fork a second one SIGKILL misses).
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('worker polling')) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`worker exited early:\n${out.slice(-2000)}`));
      }
    }, 100);
  });
  return {
    child,
    output: () => out,
    ready,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
