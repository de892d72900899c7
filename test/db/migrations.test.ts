import { migrate, readMigrations } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { createScratchDatabase } from '../helpers/database';

describe('migrations', () => {
  let db: Awaited<ReturnType<typeof createScratchDatabase>>;
  beforeAll(async () => {
    db = await createScratchDatabase('migrations');
  });
  afterAll(async () => db.drop());

  const tables = async (sql: Sql) =>
    (
      await sql<{ t: string }[]>`select table_name as t from information_schema.tables where table_schema = 'public'`
    ).map((r) => r.t);

  it('applies every migration to a fresh database and records it', async () => {
    const result = await migrate(db.sql);
    const files = readMigrations();
    expect(result.applied).toEqual(files.map((f) => f.name));
    expect(result.alreadyApplied).toBe(0);
    const recorded = await db.sql<{ version: string }[]>`select version from schema_migrations order by version`;
    expect(recorded.map((r) => r.version)).toEqual(files.map((f) => f.version));
    expect(await tables(db.sql)).toEqual(
      expect.arrayContaining([
        'users',
        'namespaces',
        'projects',
        'routes',
        'members',
        'issues',
        'notes',
        'security_attributes',
      ]),
    );
  });

  it('does nothing when run again', async () => {
    const before = await tables(db.sql);
    const result = await migrate(db.sql);
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toBe(readMigrations().length);
    expect(await tables(db.sql)).toEqual(before);
  });

  it('is safe when several processes migrate at once', async () => {
    const other = await createScratchDatabase('migrations_concurrent');
    const pools = [other.sql, createSql(other.url, { max: 1 }), createSql(other.url, { max: 1 })];
    try {
      const results = await Promise.all(pools.map((sql) => migrate(sql)));
      const appliedCounts = results.map((r) => r.applied.length).sort();
      expect(appliedCounts).toEqual([0, 0, readMigrations().length]);
      const [row] = await other.sql<{ n: number }[]>`select count(*)::int as n from schema_migrations`;
      expect(row?.n).toBe(readMigrations().length);
    } finally {
      await Promise.all(pools.slice(1).map((sql) => sql.end({ timeout: 5 })));
      await other.drop();
    }
  });

  it('rolls back everything when a migration fails', async () => {
    const other = await createScratchDatabase('migrations_failing');
    try {
      const broken = [
        { version: '0001', name: '0001_ok', sql: 'create table first_table (id int)' },
        {
          version: '0002',
          name: '0002_broken',
          sql: 'create table second_table (id int); select * from no_such_table',
        },
      ];
      await expect(migrate(other.sql, broken)).rejects.toThrow(/no_such_table/);
      expect(await tables(other.sql)).toEqual([]);
    } finally {
      await other.drop();
    }
  });
});
