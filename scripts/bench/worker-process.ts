import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// A real worker process (worker/main.ts) on the benchmark's task queue, so its memory is its own: the resident set
// is sampled from /proc while the export runs, and VmHWM (the kernel's peak) read before it stops.

export interface BenchWorker {
  pid: number;
  identity: string;
  ready: Promise<void>;
  /** Starts sampling VmRSS (the export window); the returned function stops and gives the peak in bytes. */
  sample(): () => number;
  /** Resident set when the worker started polling (after bundling the workflows, before any export work). */
  rssAtReady(): number;
  /** VmHWM: peak resident set since the process started (includes start-up, e.g. bundling the workflows). */
  peakSinceStart(): number;
  stop(): Promise<string>;
}

function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function startBenchWorker(env: Record<string, string>, nodeFlags: string[] = []): BenchWorker {
  const root = join(__dirname, '..', '..');
  // `node --import tsx` keeps the worker in this one process, so the pid is the worker's (no tsx wrapper).
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'worker/main.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid ?? 0;
  let out = '';
  let atReady = 0;
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('worker polling')) {
        clearInterval(timer);
        atReady = procStatusKb(pid, 'VmRSS') * 1024;
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`worker exited early:\n${out.slice(-2000)}`));
      }
    }, 100);
  });
  let hwm = 0;
  return {
    rssAtReady: () => atReady,
    pid,
    identity: `${pid}@`,
    ready,
    sample() {
      let peak = 0;
      const timer = setInterval(() => {
        peak = Math.max(peak, procStatusKb(pid, 'VmRSS') * 1024);
        hwm = Math.max(hwm, procStatusKb(pid, 'VmHWM') * 1024);
      }, 100);
      return () => {
        clearInterval(timer);
        peak = Math.max(peak, procStatusKb(pid, 'VmRSS') * 1024);
        return peak;
      };
    },
    peakSinceStart() {
      hwm = Math.max(hwm, procStatusKb(pid, 'VmHWM') * 1024);
      return hwm;
    },
    async stop() {
      hwm = Math.max(hwm, procStatusKb(pid, 'VmHWM') * 1024);
      if (child.exitCode === null) child.kill('SIGTERM');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timeout);
      return out;
    },
  };
}

/**
 * Writes dist/workflow-bundle.js from the current workflows/, so bench workers can start as production workers do
 * (WORKER_PREBUILT_BUNDLE=true): their memory is then the worker's, not webpack's.
 */
export function buildWorkflowBundle(): void {
  execFileSync(process.execPath, ['--import', 'tsx', 'worker/build-workflow-bundle.ts'], {
    cwd: join(__dirname, '..', '..'),
    stdio: 'ignore',
  });
}
