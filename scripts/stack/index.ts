import type { Config } from '../../contracts/config';
import { ensureUp, statusOf, stopService, type ServiceStatus } from './lifecycle';
import { defaultLogger, type Logger } from './log';
import { maildevService } from './maildev';
import { minioService } from './minio';
import { stackPaths, type StackPaths } from './paths';
import { postgresService } from './postgres';
import { redisService } from './redis';
import { errorMessage, StackError, type Service } from './service';
import { temporalService } from './temporal';
import { ensureTools } from './tools';

export { StackError } from './service';
export type { ServiceStatus } from './lifecycle';
export { SEARCH_ATTRIBUTES } from './search-attributes';

export interface StackUpOptions {
  log?: Logger;
  /** Overrides every service's readiness timeout (ms). */
  readyTimeoutMs?: number;
}

function services(config: Config, paths: StackPaths): Service[] {
  return [
    postgresService(config),
    redisService(config, paths),
    minioService(config, paths),
    maildevService(config, paths),
    temporalService(config, paths),
  ];
}

/** Collects every service's failure rather than stopping at the first, so one run shows all that is wrong. */
function failuresOf(results: PromiseSettledResult<unknown>[], all: Service[]): string[] {
  return results.flatMap((result, i) => {
    if (result.status === 'fulfilled') return [];
    const err: unknown = result.reason;
    if (err instanceof StackError) return err.lines;
    return [`${all[i]?.name ?? 'stack'}: ${errorMessage(err)}`];
  });
}

/** Starts whatever of the local stack does not answer yet and waits until all of it does. Throws StackError. */
export async function stackUp(config: Config, opts: StackUpOptions = {}): Promise<ServiceStatus[]> {
  const log = opts.log ?? defaultLogger;
  const began = Date.now();
  const paths = stackPaths(config);
  const all = services(config, paths);
  await ensureTools(all, log);
  const results = await Promise.allSettled(all.map((s) => ensureUp(s, paths, log, opts.readyTimeoutMs)));
  const failures = failuresOf(results, all);
  if (failures.length > 0) throw new StackError(failures);
  log(`up in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
}

/** Stops only what `up` started; servers it found already running are left alone. */
export async function stackDown(config: Config, opts: { log?: Logger } = {}): Promise<void> {
  const log = opts.log ?? defaultLogger;
  const paths = stackPaths(config);
  const all = services(config, paths);
  const results = await Promise.allSettled(all.map((s) => stopService(s, paths, log)));
  const failures = failuresOf(results, all);
  if (failures.length > 0) throw new StackError(failures);
}

export type StackServiceName = 'postgres' | 'redis' | 'minio' | 'maildev' | 'temporal';

function serviceNamed(config: Config, paths: StackPaths, name: StackServiceName): Service {
  const service = services(config, paths).find((s) => s.name === name);
  if (!service) throw new StackError([`no stack service named ${name}`]);
  return service;
}

/**
 * Stops one service this stack started (as `down` would), leaving the others running; one it did not start is
 * left alone. For fault-injection tests that take a server away mid-run. Throws StackError.
 */
export async function stopStackService(
  config: Config,
  name: StackServiceName,
  opts: { log?: Logger } = {},
): Promise<void> {
  const paths = stackPaths(config);
  const service = serviceNamed(config, paths, name);
  try {
    await stopService(service, paths, opts.log ?? defaultLogger);
  } catch (err) {
    throw err instanceof StackError ? err : new StackError([`${name}: ${errorMessage(err)}`]);
  }
}

/** Starts one service if it does not answer (as `up` would for it alone) and waits until it does. */
export async function startStackService(
  config: Config,
  name: StackServiceName,
  opts: StackUpOptions = {},
): Promise<ServiceStatus> {
  const paths = stackPaths(config);
  const service = serviceNamed(config, paths, name);
  try {
    return await ensureUp(service, paths, opts.log ?? defaultLogger, opts.readyTimeoutMs);
  } catch (err) {
    throw err instanceof StackError ? err : new StackError([`${name}: ${errorMessage(err)}`]);
  }
}

export async function stackStatus(config: Config): Promise<ServiceStatus[]> {
  const paths = stackPaths(config);
  return Promise.all(services(config, paths).map((s) => statusOf(s, paths)));
}

export function formatStatus(statuses: ServiceStatus[]): string[] {
  const rows = statuses.map((s) => [
    s.name,
    s.up ? 'up' : 'down',
    s.address,
    s.managed ? 'managed' : s.up ? 'external' : '-',
    s.pid ? `pid ${s.pid}` : '-',
    [s.url, s.detail].filter(Boolean).join('  '),
  ]);
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}
