import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sleep } from './net';
import type { StackPaths } from './paths';

export const pidFile = (paths: StackPaths, service: string) => join(paths.pidsDir, `${service}.pid`);
export const logFile = (paths: StackPaths, service: string) => join(paths.logsDir, `${service}.log`);

/** The first line of a pid file is the pid; later lines are free for the service (e.g. the cluster it started). */
export function readPidFile(file: string): { pid: number; extra: string[] } | undefined {
  if (!existsSync(file)) return undefined;
  const [first = '', ...extra] = readFileSync(file, 'utf8').split('\n');
  const pid = Number(first.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid, extra: extra.filter(Boolean) } : undefined;
}

export function writePidFile(file: string, pid: number, extra: string[] = []): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, [String(pid), ...extra].join('\n') + '\n');
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}

/**
 * Alive and still the program we started: after a reboot the pid may belong to something else, which must not be
 * reported as ours, let alone killed.
 */
export function isOurProcess(pid: number, commandToken: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: it belongs to another user, so it is not one this stack started.
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(commandToken);
  } catch {
    return true; // no /proc (macOS): trust the signal check
  }
}

export interface Spawned {
  pid: number;
  /** Set once the process has exited, so readiness waits can stop early instead of timing out. */
  exitedWith(): string | undefined;
}

/** Starts a server that outlives this process: own process group, output to a log file, not waited for. */
export function spawnDetached(
  command: string,
  args: string[],
  log: string,
  extraEnv?: Record<string, string>,
): Spawned {
  mkdirSync(dirname(log), { recursive: true });
  const fd = openSync(log, 'a');
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: extraEnv ? childEnv(extraEnv) : undefined,
    });
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exited with code ${code}`));
    child.once('error', (err) => (exited = err.message));
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    return { pid: child.pid, exitedWith: () => exited };
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(fd);
  }
}

// Children need the inherited environment (PATH, HOME, locale) plus their own settings; this passes it through,
// it does not read configuration from it.
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

export interface RunResult {
  code: number;
  output: string;
}

/** Runs a short command to completion, collecting its output for error messages. */
export function run(command: string, args: string[], opts: { stream?: boolean; env?: Record<string, string> } = {}) {
  return new Promise<RunResult>((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', opts.stream ? 'inherit' : 'pipe', opts.stream ? 'inherit' : 'pipe'],
      env: opts.env ? childEnv(opts.env) : undefined,
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (err) => resolve({ code: 127, output: err.message }));
    child.once('close', (code) => resolve({ code: code ?? 1, output: output.trim() }));
  });
}

function signal(pid: number, sig: NodeJS.Signals, group: boolean): void {
  try {
    // A detached child leads its own process group; signalling the group also reaches anything it forked.
    process.kill(group ? -pid : pid, sig);
  } catch {
    if (group) signal(pid, sig, false);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL if it has not gone after `graceMs`. Resolves to how it ended. */
export async function stopProcess(
  pid: number,
  opts: { group: boolean; graceMs?: number },
): Promise<'terminated' | 'killed'> {
  signal(pid, 'SIGTERM', opts.group);
  const deadline = Date.now() + (opts.graceMs ?? 10_000);
  while (Date.now() < deadline) {
    if (!alive(pid)) return 'terminated';
    await sleep(100);
  }
  signal(pid, 'SIGKILL', opts.group);
  await sleep(200);
  return 'killed';
}

export function tailFile(file: string, lines = 25): string[] {
  if (!existsSync(file)) return [`(no log file at ${file})`];
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all.slice(-lines);
}
