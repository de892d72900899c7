import type { Redis } from 'ioredis';
import { failedItemsKey, operationKey, recordedItemsKey } from '../../../db/bulk-update/redis-store';
import type { Sql } from '../../../db/sql';

// Fixtures on a seeded source instance (find groups and attributes by path and name with db/seed/lookups.ts: ids
// depend on the seed's size).

/** Every project's current attribute ids (sorted), for the given projects. */
export async function linksOf(sql: Sql, projectIds: number[]): Promise<Map<number, number[]>> {
  const rows = await sql<{ project_id: number; ids: number[] }[]>`
    select p.id as project_id, coalesce(array_agg(pa.security_attribute_id order by pa.security_attribute_id)
                                        filter (where pa.id is not null), '{}') as ids
    from projects p left join project_to_security_attributes pa on pa.project_id = p.id
    where p.id = any(${projectIds}::bigint[])
    group by p.id`;
  return new Map(rows.map((r) => [r.project_id, r.ids.map(Number)]));
}

export async function projectsUnder(sql: Sql, rootId: number): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    select p.id from projects p join namespaces n on n.id = p.namespace_id
    where n.traversal_ids[1] = ${rootId} order by p.id`;
  return rows.map((r) => r.id);
}

export async function createUser(
  sql: Sql,
  username: string,
  memberships: { sourceType: 'Namespace' | 'Project'; sourceId: number; level: number }[],
  name = username,
): Promise<number> {
  const [user] = await sql<{ id: number }[]>`
    insert into users (username, name, email) values (${username}, ${name}, ${`${username}@example.test`}) returning id`;
  for (const m of memberships) {
    await sql`insert into members (user_id, source_id, source_type, access_level) values (${user!.id}, ${m.sourceId}, ${m.sourceType}, ${m.level})`;
  }
  return user!.id;
}

export async function redisKeysOf(redis: Redis, operationId: string): Promise<number> {
  return redis.exists(operationKey(operationId), failedItemsKey(operationId), recordedItemsKey(operationId));
}

export async function outcomesOf(
  sql: Sql,
  operationId: string,
): Promise<
  {
    project_id: number;
    outcome: string | null;
    error_code: string | null;
    error_message: string | null;
    error_details: string[];
  }[]
> {
  return sql`
    select project_id, outcome, error_code, error_message, error_details from background_operation_projects
    where operation_id = ${operationId} order by project_id`;
}
