import { databaseName, withDatabase } from '../../db/sql';
import { loadEnvFile } from '../../contracts/env-file';

/**
 * Tests run against the local stack but in a database of their own (<name>_test), recreated by the global
 * setup, so a developer's seeded data is never touched; and in a Temporal namespace of their own, registered by the
 * global setup for each run and named after that database (see scripts/stack/namespaces.ts), so the rebuilt
 * database's export ids never meet an earlier run's workflows.
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
  // The stack's own namespace (dev.env's), the one `stack up` checks; no test runs a workflow in it.
  process.env.TEST_STACK_NAMESPACE ??= process.env.TEMPORAL_NAMESPACE ?? 'default';
  // Set by the global setup in jest's parent process, before it starts the test files, which inherit it.
  if (process.env.TEST_TEMPORAL_NAMESPACE) process.env.TEMPORAL_NAMESPACE = process.env.TEST_TEMPORAL_NAMESPACE;
  process.env.LOG_LEVEL ??= 'warn';
}
