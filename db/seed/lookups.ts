import type { Sql } from '../sql';

// Look-ups by name into a seeded instance, for the demo, the benchmarks and the tests.

export async function namespaceIdByPath(sql: Sql, fullPath: string): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    select source_id as id from routes where source_type = 'Namespace' and path = ${fullPath}`;
  if (!row) throw new Error(`no group ${fullPath}`);
  return row.id;
}

export async function projectIdByPath(sql: Sql, fullPath: string): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    select source_id as id from routes where source_type = 'Project' and path = ${fullPath}`;
  if (!row) throw new Error(`no project ${fullPath}`);
  return row.id;
}

/** A security attribute of a root group, by the root's path and the attribute's name. */
export async function attributeIdByName(sql: Sql, rootPath: string, name: string): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    select a.id from security_attributes a
    join routes r on r.source_type = 'Namespace' and r.source_id = a.namespace_id
    where r.path = ${rootPath} and a.name = ${name}`;
  if (!row) throw new Error(`no attribute ${name} in ${rootPath}`);
  return row.id;
}

/** The first project (by id) anywhere under a group: a project of that group whatever the seed's size. */
export async function firstProjectUnder(sql: Sql, groupPath: string): Promise<{ id: number; path: string }> {
  const [row] = await sql<{ id: number; path: string }[]>`
    select source_id as id, path from routes
    where source_type = 'Project' and starts_with(path, ${`${groupPath}/`}) order by source_id limit 1`;
  if (!row) throw new Error(`no project under ${groupPath}`);
  return row;
}
