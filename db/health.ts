import type { Db } from './sql';

// Probes of the database for readiness and stack checks: cheap, read-only, no table of their own.

/** One round trip to the server; throws when it cannot be reached. */
export async function ping(db: Db): Promise<void> {
  await db`select 1`;
}

/** How many migrations schema_migrations records as applied (throws when the table does not exist yet). */
export async function appliedMigrationCount(db: Db): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from schema_migrations`;
  return row?.n ?? 0;
}
