import type { Db } from './sql';

// Gitlab::Access levels.
export const AccessLevel = {
  NO_ACCESS: 0,
  GUEST: 10,
  PLANNER: 15,
  REPORTER: 20,
  DEVELOPER: 30,
  MAINTAINER: 40,
  OWNER: 50,
} as const;

/**
 * Effective access level of a user on each project: the highest of a direct project membership and any membership
 * of the project's group or its ancestors (group memberships are inherited). Admins count as owners; blocked or
 * unknown users have no access. Projects that do not exist are absent from the result.
 */
export async function projectAccessLevels(sql: Db, userId: number, projectIds: number[]): Promise<Map<number, number>> {
  if (projectIds.length === 0) return new Map();
  const rows = await sql<{ id: number; level: number }[]>`
    select p.id,
      case
        when u.id is null or u.state <> 'active' then 0
        when u.admin then 50
        else greatest(
          coalesce((select max(m.access_level) from members m
                    where m.user_id = u.id and m.source_type = 'Project' and m.source_id = p.id), 0),
          coalesce((select max(m.access_level) from members m
                    where m.user_id = u.id and m.source_type = 'Namespace' and m.source_id = any(n.traversal_ids)), 0))
      end as level
    from projects p
    join namespaces n on n.id = p.namespace_id
    left join users u on u.id = ${userId}
    where p.id = any(${projectIds}::bigint[])`;
  return new Map(rows.map((r) => [r.id, r.level]));
}

/** Effective access level of a user on each group (memberships of the group or any ancestor). */
export async function groupAccessLevels(sql: Db, userId: number, groupIds: number[]): Promise<Map<number, number>> {
  if (groupIds.length === 0) return new Map();
  const rows = await sql<{ id: number; level: number }[]>`
    select n.id,
      case
        when u.id is null or u.state <> 'active' then 0
        when u.admin then 50
        else coalesce((select max(m.access_level) from members m
                       where m.user_id = u.id and m.source_type = 'Namespace' and m.source_id = any(n.traversal_ids)), 0)
      end as level
    from namespaces n
    left join users u on u.id = ${userId}
    where n.id = any(${groupIds}::bigint[])`;
  return new Map(rows.map((r) => [r.id, r.level]));
}

/** Flipper-style check: on for everyone, or for this actor. */
export async function featureEnabled(
  sql: Db,
  name: string,
  actor?: { type: 'User' | 'Group' | 'Project'; id: number },
): Promise<boolean> {
  const [row] = await sql<{ on: boolean }[]>`
    select coalesce((select enabled from feature_flags where name = ${name}), false)
      or exists (select 1 from feature_flag_actors
                 where name = ${name} and actor_type = ${actor?.type ?? ''} and actor_id = ${actor?.id ?? 0}) as on`;
  return row?.on ?? false;
}

export async function setFeatureFlag(sql: Db, name: string, enabled: boolean): Promise<void> {
  await sql`
    insert into feature_flags (name, enabled) values (${name}, ${enabled})
    on conflict (name) do update set enabled = excluded.enabled, updated_at = now()`;
}
