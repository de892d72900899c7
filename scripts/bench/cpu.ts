import { readdirSync, readFileSync } from 'node:fs';

// CPU seconds used by the processes of the stack during a measured window (from /proc: utime + stime), so the
// report says where the machine's time went: Temporal server, PostgreSQL, MinIO, the worker, everything else.

const TICKS = 100; // USER_HZ on Linux

function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return 0;
  }
}

function classify(pid: number, workerPids: number[]): string | undefined {
  if (workerPids.includes(pid)) return 'worker';
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    if (cmd.includes('temporal server start-dev')) return 'temporal server';
    if (cmd.includes('minio server')) return 'minio';
    if (/^postgres[: ]/.test(cmd) || cmd.includes('/postgres ')) return 'postgresql';
    return undefined;
  } catch {
    return undefined;
  }
}

function totalTicks(): { busy: number; all: number } {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const v = cpu!.split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const all = v.reduce((s, x) => s + x, 0);
  return { busy: all - idle, all };
}

export type CpuSnapshot = { perPid: Map<number, number>; total: { busy: number; all: number } };

export function cpuSnapshot(): CpuSnapshot {
  const perPid = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    perPid.set(Number(name), cpuTicks(Number(name)));
  }
  return { perPid, total: totalTicks() };
}

/** CPU seconds per role between two snapshots; "machine busy" is every process, others' included. */
export function cpuUsage(before: CpuSnapshot, after: CpuSnapshot, workerPids: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, ticks] of after.perPid) {
    const role = classify(pid, workerPids);
    if (!role) continue;
    out[role] = (out[role] ?? 0) + (ticks - (before.perPid.get(pid) ?? 0)) / TICKS;
  }
  out['machine busy (all processes)'] = (after.total.busy - before.total.busy) / TICKS;
  out['machine capacity'] = (after.total.all - before.total.all) / TICKS;
  return out;
}
