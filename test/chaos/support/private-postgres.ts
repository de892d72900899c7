import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';

// A PostgreSQL cluster of the fault-injection tests' own (Debian's pg_createcluster), so restarting it never
// disturbs the machine's cluster that everyone else's tests and stacks use. Created once, started by the tests,
// stopped at the end of each test file.

export const CHAOS_PG_CLUSTER = 'chaos';
export const CHAOS_PG_PORT = 15433;
const PG_ETC = '/etc/postgresql';

function newestVersion(): string {
  const versions = existsSync(PG_ETC)
    ? readdirSync(PG_ETC)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) {
    throw new Error(`no PostgreSQL under ${PG_ETC}: the fault-injection tests need Debian's postgresql package`);
  }
  return versions[0];
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

const ctl = (version: string, action: 'start' | 'stop' | 'restart') =>
  run('pg_ctlcluster', [
    '--skip-systemctl-redirect',
    version,
    CHAOS_PG_CLUSTER,
    action,
    ...(action === 'start' ? [] : ['-m', 'fast']),
  ]);

export function privatePostgresUrl(database = 'postgres'): string {
  return `postgres://postgres@127.0.0.1:${CHAOS_PG_PORT}/${database}`;
}

/** Creates the cluster the first time (needs root and pg_createcluster), with trust auth on loopback only. */
function ensureCluster(version: string): void {
  const dir = join(PG_ETC, version, CHAOS_PG_CLUSTER);
  if (existsSync(join(dir, 'postgresql.conf'))) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `the private PostgreSQL cluster ${version}/${CHAOS_PG_CLUSTER} does not exist and only root can create it: ` +
        `run "pg_createcluster ${version} ${CHAOS_PG_CLUSTER} --port ${CHAOS_PG_PORT}" as root once`,
    );
  }
  run('pg_createcluster', [
    version,
    CHAOS_PG_CLUSTER,
    '--port',
    String(CHAOS_PG_PORT),
    '--',
    '--auth-local=trust',
    '--auth-host=trust',
  ]);
  // Trust, but only from this machine: the cluster holds throw-away test data.
  writeFileSync(
    join(dir, 'pg_hba.conf'),
    [
      '# fault-injection test cluster (test/chaos): local connections only, no passwords',
      'local all all trust',
      'host all all 127.0.0.1/32 trust',
      'host all all ::1/128 trust',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'conf.d', 'chaos.conf'),
    `port = ${CHAOS_PG_PORT}\nlisten_addresses = '127.0.0.1'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n`,
  );
}

export async function privatePostgresAnswers(): Promise<boolean> {
  const sql = postgres(privatePostgresUrl(), { max: 1, connect_timeout: 2, idle_timeout: 1, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`private PostgreSQL: ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Creates (once) and starts the private cluster; returns whether this call started it. */
export async function startPrivatePostgres(): Promise<boolean> {
  const version = newestVersion();
  ensureCluster(version);
  if (await privatePostgresAnswers()) return false;
  ctl(version, 'start');
  await waitUntil(privatePostgresAnswers, 30_000, 'did not answer');
  return true;
}

export async function stopPrivatePostgres(): Promise<void> {
  const version = newestVersion();
  if (!(await privatePostgresAnswers())) return;
  ctl(version, 'stop');
}

/** Stops the private cluster (fast: open connections are cut), keeps it down for `downMs`, starts it again. */
export async function bouncePrivatePostgres(downMs: number): Promise<void> {
  const version = newestVersion();
  ctl(version, 'stop');
  await new Promise((r) => setTimeout(r, downMs));
  ctl(version, 'start');
  await waitUntil(privatePostgresAnswers, 30_000, 'did not come back');
}
