import { stackUp } from '../../scripts/stack/index';
import { migrate } from '../../db/migrate';
import { seedInstance } from '../../db/seed/generate';
import { createSql, databaseName, withDatabase } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { applyTestEnv } from './test-env';

/** The instance every test file shares; tests that need other data create a database of their own. */
export const SHARED_SEED = { projects: 60, issues: 3000 } as const;

export default async function globalSetup(): Promise<void> {
  applyTestEnv();
  const config = loadConfig();
  // Builds the tools on first use and starts what is not already answering; a running stack is reused.
  await stackUp(config);

  const name = databaseName(config.DATABASE_URL);
  const admin = createSql(withDatabase(config.DATABASE_URL, 'postgres'), { max: 1 });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const sql = createSql(config.DATABASE_URL, { max: 2 });
  try {
    await migrate(sql);
    await seedInstance(sql, SHARED_SEED);
    // Workflow ids derive from export ids; every test database starts its exports somewhere else, so a run never
    // collides with a workflow that an earlier run (or another test database) left on the shared dev server.
    const start = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
    await sql.unsafe(`select setval(pg_get_serial_sequence('import_offline_exports', 'id'), ${start})`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
