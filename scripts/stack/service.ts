import type { Spawned } from './process';

export type ProbeState = 'up' | 'down' | 'foreign';

export interface Probe {
  state: ProbeState;
  /** Why it is not usable, e.g. "password authentication failed"; never contains secrets. */
  detail?: string;
}

export interface Started extends Partial<Spawned> {
  pid: number;
  /** Lines after the pid in the pid file, for services that need more than a pid to stop (PostgreSQL). */
  extra?: string[];
}

export interface Service {
  name: string;
  /** Printable address, without credentials. */
  address: string;
  url?: string;
  /** The configuration variable that points at this service, for error messages. */
  configVar: string;
  /** Only servers on this machine are started; others are only checked. */
  local: boolean;
  /** Part of /proc/<pid>/cmdline, to tell our process from a reused pid. */
  commandToken: string;
  /** Binary in the tools folder that start() needs, so `up` can build it first. */
  toolBinary?: string;
  logFile: string;
  readyTimeoutMs: number;
  probe(): Promise<Probe>;
  start(): Promise<Started>;
  /** Idempotent set-up once the server answers: bucket, database, search attributes. */
  prepare?(): Promise<string | undefined>;
  /** Stops what start() started; the default is SIGTERM then SIGKILL to its process group. */
  stop?(pid: number, extra: string[]): Promise<void>;
  /** True when `pid` came from a detached spawn and leads its own process group. */
  groupLeader: boolean;
}

export class StackError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
    this.name = 'StackError';
  }
}

export const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
