import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../../contracts/config';
import { formatHostPort, isLoopback, parseHostPort, tcpAnswers } from './net';
import type { StackPaths } from './paths';
import { logFile, spawnDetached } from './process';
import { cliSearchAttributeFlags, ensureSearchAttributes } from './search-attributes';
import { errorMessage, type Probe, type Service } from './service';

export function temporalService(config: Config, paths: StackPaths): Service {
  const target = parseHostPort(config.TEMPORAL_ADDRESS);
  const binary = join(paths.toolsBin, 'temporal');
  const namespace = config.TEMPORAL_NAMESPACE;

  const connect = () =>
    Connection.connect({
      address: config.TEMPORAL_ADDRESS,
      tls: config.TEMPORAL_TLS,
      apiKey: config.TEMPORAL_API_KEY,
      connectTimeout: '2s',
    });

  async function withConnection<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
    const conn = await connect();
    try {
      return await fn(conn);
    } finally {
      await conn.close();
    }
  }

  return {
    name: 'temporal',
    address: formatHostPort(target),
    url: `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`,
    configVar: 'TEMPORAL_ADDRESS',
    local: isLoopback(target.host),
    commandToken: 'start-dev',
    toolBinary: binary,
    logFile: logFile(paths, 'temporal'),
    // A fresh SQLite database needs its schema first; on a slow disk that has taken 10-20 s.
    readyTimeoutMs: 60_000,
    groupLeader: true,

    async probe(): Promise<Probe> {
      if (!(await tcpAnswers(target))) return { state: 'down' };
      try {
        // Connection.connect already calls GetSystemInfo, so success means a Temporal frontend answers.
        await withConnection(async () => undefined);
        return { state: 'up' };
      } catch (err) {
        return { state: 'foreign', detail: `answers TCP but not Temporal gRPC (${errorMessage(err)})` };
      }
    },

    async start() {
      const dbDir = join(paths.dataDir, 'temporal');
      mkdirSync(dbDir, { recursive: true });
      const args = [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(target.port),
        '--ui-port',
        String(config.TEMPORAL_UI_PORT),
        // "default" is always created; naming it again is harmless but noise.
        ...(namespace === 'default' ? [] : ['--namespace', namespace]),
        '--db-filename',
        join(dbDir, 'temporal.db'),
        '--log-level',
        'warn',
        // WAL with synchronous=normal: no fsync per history write (the default journal syncs several times per
        // transaction), still durable when the server process is killed. Measured: 200 child workflows 61.6 s -> 11.3 s.
        '--sqlite-pragma',
        'journal_mode=wal',
        '--sqlite-pragma',
        'synchronous=normal',
        // The version check calls out to the internet; offline it only produces errors in the log.
        '--dynamic-config-value',
        'frontend.enableServerVersionCheck=false',
        ...cliSearchAttributeFlags(),
      ];
      return spawnDetached(binary, args, logFile(paths, 'temporal'));
    },

    // start-dev registers --search-attribute only when it creates a namespace, so a database made before an
    // attribute was added to the list would never learn it; a reused server may lack them all.
    async prepare() {
      return withConnection(async (conn) => {
        try {
          await conn.workflowService.describeNamespace({ namespace });
        } catch (err) {
          throw new Error(
            `namespace "${namespace}" does not exist on the Temporal server at ${config.TEMPORAL_ADDRESS} ` +
              `(${errorMessage(err)}); create it or set TEMPORAL_NAMESPACE`,
          );
        }
        const added = await ensureSearchAttributes(conn, namespace);
        return added.length > 0 ? `registered search attributes ${added.join(', ')}` : undefined;
      });
    },
  };
}
