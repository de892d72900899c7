import { databaseName, withDatabase } from '../../db/sql';
import { loadEnvFile } from '../../contracts/env-file';

/**
 * Tests run against the local stack but in a database of their own (<name>_test), recreated by the global
 * setup, so a developer's seeded data is never touched.
 */
export function applyTestEnv(): void {
  loadEnvFile();
  if (!process.env.TEST_DATABASE_URL && process.env.DATABASE_URL) {
    const url = process.env.DATABASE_URL;
    const name = databaseName(url);
    // TEST_DB_SUFFIX lets two test runs share one stack without dropping each other's database.
    const suffix = process.env.TEST_DB_SUFFIX ? `_${process.env.TEST_DB_SUFFIX.replace(/[^a-z0-9_]/gi, '')}` : '';
    process.env.TEST_DATABASE_URL = withDatabase(url, `${name.replace(/_test$/, '')}_test${suffix}`);
  }
  if (process.env.TEST_DATABASE_URL) process.env.DATABASE_URL = process.env.TEST_DATABASE_URL;
  process.env.LOG_LEVEL ??= 'warn';
}
