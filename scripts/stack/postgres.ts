import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { destinationDatabaseUrl, type Config } from '../../contracts/config';
import { formatHostPort, isLoopback, tcpAnswers, urlHostPort } from './net';
import { alive, run } from './process';
import { errorMessage, type Probe, type Service } from './service';

const PG_ETC = '/etc/postgresql';

// Debian's layout (/etc/postgresql/<version>/main); the newest version wins if several are installed.
function debianCluster(): { version: string; name: string } | undefined {
  if (!existsSync(PG_ETC)) return undefined;
  const versions = readdirSync(PG_ETC)
    .filter((v) => existsSync(join(PG_ETC, v, 'main', 'postgresql.conf')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? { version: versions[0], name: 'main' } : undefined;
}

function clusterPort(version: string, name: string): number | undefined {
  const conf = readFileSync(join(PG_ETC, version, name, 'postgresql.conf'), 'utf8');
  const match = /^\s*port\s*=\s*(\d+)/m.exec(conf);
  return match?.[1] ? Number(match[1]) : undefined;
}

function postmasterPid(version: string, name: string): number | undefined {
  for (const file of [
    `/var/run/postgresql/${version}-${name}.pid`,
    `/var/lib/postgresql/${version}/${name}/postmaster.pid`,
  ]) {
    if (!existsSync(file)) continue;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0) return pid;
  }
  return undefined;
}

const PG_ERRORS_MEANING_DOWN = new Set(['ECONNREFUSED', 'CONNECT_TIMEOUT', 'ECONNRESET', '57P03' /* starting up */]);

export function postgresService(config: Config): Service {
  const url = new URL(config.DATABASE_URL);
  const target = urlHostPort(config.DATABASE_URL, 5432);
  const database =
    decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username) || 'postgres';
  // The maintenance database exists on every server, so it answers even before our database is created.
  const maintenance = new URL(config.DATABASE_URL);
  maintenance.pathname = '/postgres';
  const cluster = debianCluster();
  const databasesOnThisServer = (): string[] => {
    const destination = new URL(destinationDatabaseUrl(config));
    const sameServer = destination.host === url.host;
    const destinationName = decodeURIComponent(destination.pathname.replace(/^\//, ''));
    return sameServer && destinationName && destinationName !== database ? [database, destinationName] : [database];
  };

  async function withSql<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    const sql = postgres(maintenance.toString(), { max: 1, connect_timeout: 3, idle_timeout: 1, onnotice: () => {} });
    try {
      return await fn(sql);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  return {
    name: 'postgres',
    address: `${formatHostPort(target)}/${database}`,
    configVar: 'DATABASE_URL',
    local: isLoopback(target.host),
    commandToken: 'postgres',
    logFile: cluster ? `/var/log/postgresql/postgresql-${cluster.version}-${cluster.name}.log` : '(no PostgreSQL log)',
    readyTimeoutMs: 30_000,
    groupLeader: false,

    async probe(): Promise<Probe> {
      try {
        await withSql((sql) => sql`select 1`);
        return { state: 'up' };
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (PG_ERRORS_MEANING_DOWN.has(code) || !(await tcpAnswers(target))) return { state: 'down' };
        // Messages from the server name the user at most, never the password.
        return { state: 'foreign', detail: `answers but refuses the DATABASE_URL login: ${errorMessage(err)}` };
      }
    },

    async start() {
      const tool = await run('sh', ['-c', 'command -v pg_ctlcluster']);
      if (tool.code !== 0 || !cluster) {
        throw new Error(
          `PostgreSQL does not answer at ${formatHostPort(target)} and is not installed here ` +
            `(${tool.code !== 0 ? 'no pg_ctlcluster' : `no cluster under ${PG_ETC}`}). ` +
            'Install it (apt-get install postgresql) or set DATABASE_URL to a PostgreSQL server that runs.',
        );
      }
      const port = clusterPort(cluster.version, cluster.name);
      if (port !== undefined && port !== target.port) {
        throw new Error(
          `PostgreSQL cluster ${cluster.version}/${cluster.name} listens on port ${port}, DATABASE_URL says ${target.port}`,
        );
      }
      const result = await run('pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, cluster.name, 'start']);
      if (result.code !== 0)
        throw new Error(`pg_ctlcluster ${cluster.version} ${cluster.name} start failed: ${result.output}`);
      const pid = postmasterPid(cluster.version, cluster.name);
      if (pid === undefined)
        throw new Error(`PostgreSQL ${cluster.version}/${cluster.name} started but wrote no pid file`);
      return {
        pid,
        extra: [`${cluster.version} ${cluster.name}`],
        exitedWith: () => (alive(pid) ? undefined : 'exited'),
      };
    },

    // pg_ctlcluster stops in "fast" mode; a plain SIGTERM would wait for every client to disconnect.
    async stop(pid, extra) {
      const [version, name] = (extra[0] ?? '').split(' ');
      if (!version || !name) throw new Error(`postgres pid file lacks its cluster; stop pid ${pid} by hand`);
      const result = await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'stop']);
      if (result.code !== 0) throw new Error(`pg_ctlcluster ${version} ${name} stop failed: ${result.output}`);
    },

    // The source database and, on the same server, the destination an offline import writes (<database>_destination
    // unless DESTINATION_DATABASE_URL names another one); `npm run migrate` migrates both.
    async prepare() {
      return withSql(async (sql) => {
        const created: string[] = [];
        for (const name of databasesOnThisServer()) {
          const rows = await sql`select 1 from pg_database where datname = ${name}`;
          if (rows.length > 0) continue;
          try {
            await sql`create database ${sql(name)}`;
            created.push(name);
          } catch (err) {
            // Another `up` (or a test run) created it in the meantime.
            if ((err as { code?: string }).code === '42P04') continue;
            throw new Error(`could not create database ${name}: ${errorMessage(err)}`);
          }
        }
        return created.length > 0 ? `created database ${created.join(', ')}` : undefined;
      });
    },
  };
}
