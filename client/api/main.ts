import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import { createSql } from '../../db/sql';
import { loadConfigOrExit } from '../../contracts/config';
import { loadEnvFile } from '../../contracts/env-file';
import { chooseLogFormat, createLogger, type Logger } from '../../contracts/logger';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { apiRoutes } from './routes';
import { buildApi } from './server';

// Set once the configuration is read, so that a crash after that is logged with its stack and causes.
let crashLog: Logger | undefined;

async function main(): Promise<void> {
  loadEnvFile();
  const config = loadConfigOrExit();
  const log = createLogger({
    level: config.LOG_LEVEL,
    component: 'api',
    format: chooseLogFormat(config.LOG_FORMAT, process.stdout, config.NODE_ENV),
  });
  crashLog = log;
  const sql = createSql(config.DATABASE_URL, {
    max: config.DATABASE_POOL_SIZE,
    applicationName: 'gitlab-temporal-api',
  });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 });
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const app = await buildApi({ sql, redis, temporal, config, log }, apiRoutes);

  const shutdown = async (signal: string) => {
    log.info('api stopping', { signal });
    await app.close();
    await connection.close();
    await Promise.allSettled([sql.end({ timeout: 5 }), redis.quit()]);
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(signal));

  const address = await app.listen({ host: config.API_HOST, port: config.API_PORT });
  log.info('api listening', { address });
}

main().catch((err: unknown) => {
  if (crashLog) crashLog.error('api failed', { error: err });
  else process.stderr.write(`api: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
