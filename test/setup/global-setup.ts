import { stackUp } from '../../scripts/stack/index';
import { createRunNamespace } from '../../scripts/stack/namespaces';
import { migrate } from '../../db/migrate';
import { seedInstance } from '../../db/seed/generate';
import { createSql, databaseName, withDatabase } from '../../db/sql';
import { destinationDatabaseUrl, destinationStoragePaths, loadConfig, storagePaths } from '../../contracts/config';
import { seedDestination } from '../../db/seed/destination';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { applyTestEnv } from './test-env';

/** The instance every test file shares; tests that need other data create a database of their own. */
export const SHARED_SEED = { projects: 60, issues: 3000 } as const;

export default async function globalSetup(): Promise<void> {
  applyTestEnv();
  // The stack is brought up (and checked) with its own namespace; the run's namespace does not exist yet.
  const config = loadConfig({ ...process.env, TEMPORAL_NAMESPACE: process.env.TEST_STACK_NAMESPACE });
  // Builds the tools on first use and starts what is not already answering; a running stack is reused.
  await stackUp(config);

  const name = databaseName(config.DATABASE_URL);
  // The destination an offline import writes: <test database>_destination, recreated empty (users and the landing
  // group only) with the same migrations.
  const destinationUrl = destinationDatabaseUrl(config);
  const admin = createSql(withDatabase(config.DATABASE_URL, 'postgres'), { max: 1 });
  try {
    for (const db of [name, databaseName(destinationUrl)]) {
      await admin.unsafe(`drop database if exists "${db}" with (force)`);
      await admin.unsafe(`create database "${db}"`);
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
  // A new database starts its export ids at 1 again, so it gets a new namespace too: earlier runs' workflows (and
  // their ids) stay behind in theirs, and are deleted with them.
  const namespace = await createRunNamespace(config, name, (line) => process.stdout.write(`test setup: ${line}\n`));
  process.env.TEST_TEMPORAL_NAMESPACE = namespace;
  process.env.TEMPORAL_NAMESPACE = namespace;
  const sql = createSql(config.DATABASE_URL, { max: 2 });
  try {
    await migrate(sql);
    await seedInstance(sql, { ...SHARED_SEED, files: { storage: storagePaths(config) } });
  } finally {
    await sql.end({ timeout: 5 });
  }
  const destination = createSql(destinationUrl, { max: 2 });
  try {
    await migrate(destination);
    await seedDestination(destination);
  } finally {
    await destination.end({ timeout: 5 });
  }
  // The destination's storage starts empty too: a repository left by an earlier run would be taken for an import's.
  rmSync(resolve(destinationStoragePaths(config).repositories, '..'), { recursive: true, force: true });
}
