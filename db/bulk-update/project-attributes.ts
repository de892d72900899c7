import type { Db } from '../sql';

// Reads and writes of project_to_security_attributes for one project, run inside the caller's transaction.

export interface ProjectForUpdate {
  id: number;
  name: string;
  fullPath: string;
  rootNamespaceId: number;
  traversalIds: number[];
}

/**
 * Takes a row lock on the project that serialises attribute changes per project (two operations adding to the
 * same single-selection category must not both pass the check; FOR NO KEY UPDATE still lets the link inserts take
 * their foreign-key lock), then loads it with its current attributes that are not deleted (deleted ones neither
 * count nor get removed). Two statements on purpose: under READ COMMITTED a statement reads in the snapshot it
 * started with, so attributes read by the locking statement itself would miss the links that the operation it
 * waited for had just committed (both operations would then pass the check: the equivalence test caught it).
 */
export async function lockProjectWithAttributes(
  tx: Db,
  projectId: number,
): Promise<{ project: ProjectForUpdate; current: AttributeRef[] } | undefined> {
  const [lock] = await tx<{ id: number }[]>`select id from projects where id = ${projectId} for no key update`;
  if (!lock) return undefined;
  const [row] = await tx<
    { id: number; name: string; full_path: string | null; traversal_ids: number[]; current: AttributeRow[] }[]
  >`
    select p.id, p.name, r.path as full_path, n.traversal_ids,
      coalesce((select json_agg(json_build_object('id', a.id, 'namespace_id', a.namespace_id, 'category_id', c.id,
                                                  'category_name', c.name, 'multiple_selection', c.multiple_selection)
                                order by a.id)
                from project_to_security_attributes pa
                join security_attributes a on a.id = pa.security_attribute_id
                join security_categories c on c.id = a.security_category_id
                where pa.project_id = p.id and a.deleted_at is null and c.deleted_at is null), '[]'::json) as current
    from projects p
    join namespaces n on n.id = p.namespace_id
    left join routes r on r.source_type = 'Project' and r.source_id = p.id
    where p.id = ${projectId}`;
  if (!row) return undefined;
  const traversalIds = row.traversal_ids.map(Number);
  return {
    project: {
      id: row.id,
      name: row.name,
      fullPath: row.full_path ?? '',
      rootNamespaceId: traversalIds[0] ?? 0,
      traversalIds,
    },
    current: row.current.map((r) =>
      toRef({ ...r, id: Number(r.id), namespace_id: Number(r.namespace_id), category_id: Number(r.category_id) }),
    ),
  };
}

/** Name and path for a failure report when the update itself could not run. */
export async function projectLabel(db: Db, projectId: number): Promise<{ name: string; fullPath: string } | undefined> {
  const [row] = await db<{ name: string; full_path: string | null }[]>`
    select p.name, r.path as full_path
    from projects p left join routes r on r.source_type = 'Project' and r.source_id = p.id
    where p.id = ${projectId}`;
  return row ? { name: row.name, fullPath: row.full_path ?? '' } : undefined;
}

export interface AttributeRef {
  id: number;
  /** The attribute's top-level group. */
  namespaceId: number;
  categoryId: number;
  categoryName: string;
  multipleSelection: boolean;
}

interface AttributeRow {
  id: number;
  namespace_id: number;
  category_id: number;
  category_name: string;
  multiple_selection: boolean;
}

const toRef = (r: AttributeRow): AttributeRef => ({
  id: r.id,
  namespaceId: r.namespace_id,
  categoryId: r.category_id,
  categoryName: r.category_name,
  multipleSelection: r.multiple_selection,
});

/**
 * The given attributes that exist and are not deleted, in whichever top-level group: GitLab finds them by id, and
 * only the link's validation ties them to the project's group.
 */
export async function liveAttributes(tx: Db, attributeIds: number[]): Promise<AttributeRef[]> {
  if (attributeIds.length === 0) return [];
  const rows = await tx<AttributeRow[]>`
    select a.id, a.namespace_id, c.id as category_id, c.name as category_name, c.multiple_selection
    from security_attributes a
    join security_categories c on c.id = a.security_category_id
    where a.id = any(${attributeIds}::bigint[]) and a.deleted_at is null and c.deleted_at is null
    order by a.id`;
  return rows.map((r) => toRef({ ...r, id: Number(r.id), namespace_id: Number(r.namespace_id) }));
}

/** delete_all of the removed links, then insert of the new ones (skipping links that already exist). */
export async function applyAttributeChanges(
  tx: Db,
  project: Pick<ProjectForUpdate, 'id' | 'traversalIds'>,
  change: { add: number[]; remove: number[] },
): Promise<{ added: number; removed: number }> {
  let removed = 0;
  let added = 0;
  if (change.remove.length > 0) {
    const res = await tx`
      delete from project_to_security_attributes
      where project_id = ${project.id} and security_attribute_id = any(${change.remove}::bigint[])`;
    removed = res.count;
  }
  if (change.add.length > 0) {
    const res = await tx`
      insert into project_to_security_attributes (project_id, security_attribute_id, traversal_ids)
      select ${project.id}, a, ${project.traversalIds}::bigint[] from unnest(${change.add}::bigint[]) a
      on conflict (project_id, security_attribute_id) do nothing`;
    added = res.count;
  }
  return { added, removed };
}
