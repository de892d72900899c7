import type { Db } from '../sql';

// Read-only lookups behind the checks of a new bulk-update request.

export interface RequestUser {
  id: number;
  state: string;
  admin: boolean;
}

export async function findRequestUser(db: Db, userId: number): Promise<RequestUser | undefined> {
  const [row] = await db<RequestUser[]>`select id, state, admin from users where id = ${userId}`;
  return row;
}

export interface RequestedAttribute {
  id: number;
  name: string;
  rootNamespaceId: number;
  rootFullPath: string;
  deleted: boolean;
}

export async function findRequestedAttributes(db: Db, attributeIds: number[]): Promise<RequestedAttribute[]> {
  const rows = await db<{ id: number; name: string; root: number; root_path: string | null; deleted: boolean }[]>`
    select a.id, a.name, a.namespace_id as root, r.path as root_path,
           (a.deleted_at is not null or c.deleted_at is not null) as deleted
    from security_attributes a
    join security_categories c on c.id = a.security_category_id
    left join routes r on r.source_type = 'Namespace' and r.source_id = a.namespace_id
    where a.id = any(${attributeIds}::bigint[])`;
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    rootNamespaceId: r.root,
    rootFullPath: r.root_path ?? `group ${r.root}`,
    deleted: r.deleted,
  }));
}

/** How many of the requested groups and projects exist. */
export async function countExistingItems(db: Db, groupIds: number[], projectIds: number[]): Promise<number> {
  const [row] = await db<{ n: number }[]>`
    select (select count(*) from namespaces where id = any(${groupIds}::bigint[]))::int
         + (select count(*) from projects where id = any(${projectIds}::bigint[]))::int as n`;
  return row?.n ?? 0;
}
