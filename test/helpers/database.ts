import { createSql, databaseName, withDatabase, type Sql } from '../../db/sql';

/** A new, empty database next to the test database; dropped by the returned cleanup. */
export async function createScratchDatabase(suffix: string): Promise<{ url: string; sql: Sql; drop: () => Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set; the jest setup should have set it');
  const name = `${databaseName(base)}_${suffix}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = createSql(withDatabase(base, 'postgres'), { max: 1 });
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.unsafe(`create database "${name}"`);
  const url = withDatabase(base, name);
  const sql = createSql(url, { max: 5 });
  return {
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}
