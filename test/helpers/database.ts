import { loadConfig } from '../../contracts/config';
import { createSql, databaseName, withDatabase, type Sql } from '../../db/sql';
import { createRunNamespace, deleteRunNamespace } from '../../scripts/stack/namespaces';

export interface ScratchDatabase {
  url: string;
  sql: Sql;
  /** With { temporalNamespace: true }: a Temporal namespace of this database's own, deleted with it. */
  namespace?: string;
  drop: () => Promise<void>;
}

/**
 * A new, empty database next to the test database; dropped by the returned cleanup. One whose exports start
 * workflows asks for a Temporal namespace of its own: its export ids start at 1 like the shared database's, and
 * workflow ids derive from them.
 */
export async function createScratchDatabase(
  suffix: string,
  opts: { temporalNamespace?: boolean } = {},
): Promise<ScratchDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set; the jest setup should have set it');
  const name = `${databaseName(base)}_${suffix}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = createSql(withDatabase(base, 'postgres'), { max: 1 });
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.unsafe(`create database "${name}"`);
  const url = withDatabase(base, name);
  const sql = createSql(url, { max: 5 });
  const config = loadConfig();
  const namespace = opts.temporalNamespace ? await createRunNamespace(config, name) : undefined;
  return {
    url,
    sql,
    namespace,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
      if (namespace) await deleteRunNamespace(config, namespace);
    },
  };
}

export interface Written {
  exports: number;
  configurations: number;
  relations: number;
  operations: number;
}

/** Row counts of every table a request could write. */
export async function writtenRows(sql: Sql): Promise<Written> {
  const [row] = await sql<Written[]>`
    select (select count(*) from import_offline_exports)::int as exports,
           (select count(*) from import_offline_configurations)::int as configurations,
           (select count(*) from bulk_import_exports)::int as relations,
           (select count(*) from background_operations)::int as operations`;
  return row!;
}
