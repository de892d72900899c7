import { destinationDatabaseUrl, loadConfigOrExit } from '../contracts/config';
import { loadEnvFile } from '../contracts/env-file';
import { chooseLogFormat, createLogger } from '../contracts/logger';
import { migrate } from './migrate';
import { createSql, databaseName } from './sql';

async function main(): Promise<void> {
  loadEnvFile();
  const config = loadConfigOrExit();
  const log = createLogger({
    level: config.LOG_LEVEL,
    component: 'migrate',
    format: chooseLogFormat(config.LOG_FORMAT, process.stdout, config.NODE_ENV),
  });
  // The source instance and the destination an offline import writes: the same schema on both.
  for (const url of [config.DATABASE_URL, destinationDatabaseUrl(config)]) {
    const sql = createSql(url, { max: 1, applicationName: 'gitlab-temporal-migrate' });
    try {
      const result = await migrate(sql);
      log.info('migrations done', {
        database: databaseName(url),
        applied: result.applied,
        previouslyApplied: result.alreadyApplied,
      });
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
