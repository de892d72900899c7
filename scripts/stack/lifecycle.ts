import type { Logger } from './log';
import type { StackPaths } from './paths';
import { isOurProcess, pidFile, readPidFile, removeFile, stopProcess, tailFile, writePidFile } from './process';
import { sleep } from './net';
import { errorMessage, StackError, type Service, type Started } from './service';

export interface ServiceStatus {
  name: string;
  up: boolean;
  address: string;
  /** Started by this stack (a live process recorded in its pid file). */
  managed: boolean;
  pid?: number;
  url?: string;
  detail?: string;
}

interface Owned {
  pid: number;
  extra: string[];
}

/** The live process this stack recorded for the service; a pid file whose process is gone is deleted. */
export function ownedProcess(service: Service, paths: StackPaths, log?: Logger): Owned | undefined {
  const file = pidFile(paths, service.name);
  const record = readPidFile(file);
  if (record && isOurProcess(record.pid, service.commandToken)) return record;
  if (record) {
    removeFile(file);
    log?.(`${service.name}: removed stale pid file (pid ${record.pid} is gone)`);
  }
  return undefined;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

async function waitUntilUp(service: Service, started: Partial<Started>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = await service.probe();
    if (probe.state === 'up') return;
    const exited = started.exitedWith?.();
    const timedOut = Date.now() >= deadline;
    if (exited || timedOut) {
      throw new StackError([
        exited
          ? `${service.name} ${exited} before answering at ${service.address}`
          : `${service.name} did not answer at ${service.address} within ${seconds(timeoutMs)} s` +
            (started.pid ? ` (pid ${started.pid} left running; \`stack down\` stops it)` : ''),
        `last lines of ${service.logFile}:`,
        ...tailFile(service.logFile).map((line) => `  | ${line}`),
      ]);
    }
    await sleep(250);
  }
}

export async function ensureUp(
  service: Service,
  paths: StackPaths,
  log: Logger,
  timeoutMs?: number,
): Promise<ServiceStatus> {
  const began = Date.now();
  const file = pidFile(paths, service.name);
  let owned = ownedProcess(service, paths, log);
  const probe = await service.probe();
  if (probe.state === 'foreign') {
    throw new StackError([`${service.name}: ${service.address} ${probe.detail ?? 'is used by something else'}`]);
  }
  if (probe.state === 'up') {
    log(
      `${service.name} already running at ${service.address}` +
        (owned ? ` (pid ${owned.pid})` : ' (not started by this stack)'),
    );
  } else if (owned) {
    // Started by an earlier `up` that is still coming up, or hung: wait rather than start a second copy.
    log(`${service.name} started earlier (pid ${owned.pid}) but not answering yet; waiting`);
    await waitUntilUp(service, { pid: owned.pid }, timeoutMs ?? service.readyTimeoutMs);
  } else {
    if (!service.local) {
      throw new StackError([
        `${service.name} does not answer at ${service.address}; the stack only starts servers on this machine, ` +
          `so set ${service.configVar} to one that runs`,
      ]);
    }
    log(`${service.name} starting at ${service.address}`);
    const started = await service.start();
    writePidFile(file, started.pid, started.extra);
    owned = { pid: started.pid, extra: started.extra ?? [] };
    try {
      await waitUntilUp(service, started, timeoutMs ?? service.readyTimeoutMs);
    } catch (err) {
      if (started.exitedWith?.()) removeFile(file);
      throw err;
    }
    log(`${service.name} up at ${service.address} (pid ${started.pid}, ${seconds(Date.now() - began)} s)`);
  }
  const note = await service.prepare?.();
  if (note) log(`${service.name}: ${note}`);
  return {
    name: service.name,
    up: true,
    address: service.address,
    managed: !!owned,
    pid: owned?.pid,
    url: service.url,
  };
}

export async function stopService(service: Service, paths: StackPaths, log: Logger): Promise<void> {
  const owned = ownedProcess(service, paths, log);
  if (!owned) {
    const probe = await service.probe();
    log(
      probe.state === 'up' ? `${service.name} left running (not started by this stack)` : `${service.name} not running`,
    );
    return;
  }
  if (service.stop) await service.stop(owned.pid, owned.extra);
  else {
    const how = await stopProcess(owned.pid, { group: service.groupLeader });
    if (how === 'killed') log(`${service.name} ignored SIGTERM; killed`);
  }
  removeFile(pidFile(paths, service.name));
  log(`${service.name} stopped (pid ${owned.pid})`);
}

export async function statusOf(service: Service, paths: StackPaths): Promise<ServiceStatus> {
  const owned = ownedProcess(service, paths);
  const probe = await service.probe().catch((err: unknown) => ({ state: 'down' as const, detail: errorMessage(err) }));
  return {
    name: service.name,
    up: probe.state === 'up',
    address: service.address,
    managed: !!owned,
    pid: owned?.pid,
    url: service.url,
    detail: probe.detail,
  };
}
