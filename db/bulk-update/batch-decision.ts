import type { Db } from '../sql';
import type { Outcome, ProjectOutcome } from './batches';
import type { AttributeRef } from './project-attributes';

// The set-based statements of one batch, run inside the caller's transaction: lock the batch, read what the rules
// need for all of its projects at once, apply every change and write every outcome, each in one statement.

interface OutcomeRow {
  project_id: number;
  outcome: Outcome | null;
  error_code: ProjectOutcome['errorCode'];
  error_message: string | null;
  error_details: string[] | null;
  entity_name: string | null;
  entity_full_path: string | null;
}

/**
 * Locks every outcome row of the batch, in project-id order (concurrent attempts of the same batch queue on the
 * first one, so a project is never decided twice), and returns them as they are once the locks are held.
 */
export async function lockBatchOutcomes(tx: Db, operationId: string, batchNumber: number): Promise<ProjectOutcome[]> {
  const rows = await tx<OutcomeRow[]>`
    select project_id, outcome, error_code, error_message, error_details, entity_name, entity_full_path
    from background_operation_projects
    where operation_id = ${operationId} and batch_number = ${batchNumber}
    order by project_id
    for update`;
  return rows.map((r) => ({
    projectId: Number(r.project_id),
    outcome: r.outcome,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    errorDetails: r.error_details ?? [],
    entityName: r.entity_name,
    entityFullPath: r.entity_full_path,
  }));
}

/**
 * Takes the per-project lock that serialises attribute changes (the same FOR NO KEY UPDATE as the per-project
 * path) on every given project that still exists, in id order so that two operations over the same projects
 * never deadlock. Returns the ids locked; a project deleted meanwhile is simply absent.
 */
export async function lockProjects(tx: Db, projectIds: number[]): Promise<Set<number>> {
  if (projectIds.length === 0) return new Set();
  const rows = await tx<{ id: number }[]>`
    select p.id from projects p where p.id = any(${projectIds}::bigint[]) order by p.id for no key update of p`;
  return new Set(rows.map((r) => Number(r.id)));
}

export interface BatchProjectState {
  id: number;
  name: string;
  fullPath: string;
  traversalIds: number[];
  rootNamespaceId: number;
  /** The user's effective access level on the project (as db/access.ts computes it). */
  accessLevel: number;
  /** The project's current, non-deleted attributes. */
  current: AttributeRef[];
}

interface StateRow {
  id: number;
  name: string;
  full_path: string | null;
  traversal_ids: number[];
  level: number;
  current: {
    id: number;
    namespace_id: number;
    category_id: number;
    category_name: string;
    multiple_selection: boolean;
  }[];
  available: StateRow['current'] | null;
}

const toRef = (r: StateRow['current'][number]): AttributeRef => ({
  id: Number(r.id),
  namespaceId: Number(r.namespace_id),
  categoryId: Number(r.category_id),
  categoryName: r.category_name,
  multipleSelection: r.multiple_selection,
});

/**
 * Everything the rules read, for all the locked projects in one statement: label, top-level group, the user's
 * access level, current attributes, and (on every row, the same) the requested attributes that exist and are not
 * deleted. Run after lockProjects, as a statement of its own: under READ COMMITTED its snapshot is taken once the
 * locks are held, so it sees the links another operation committed while this one waited.
 */
export async function readBatchState(
  tx: Db,
  userId: number,
  projectIds: number[],
  attributeIds: number[],
): Promise<{ projects: Map<number, BatchProjectState>; available: AttributeRef[] }> {
  if (projectIds.length === 0) return { projects: new Map(), available: [] };
  const rows = await tx<StateRow[]>`
    select p.id, p.name, r.path as full_path, n.traversal_ids,
      case
        when u.id is null or u.state <> 'active' then 0
        when u.admin then 50
        else greatest(
          coalesce((select max(m.access_level) from members m
                    where m.user_id = u.id and m.source_type = 'Project' and m.source_id = p.id), 0),
          coalesce((select max(m.access_level) from members m
                    where m.user_id = u.id and m.source_type = 'Namespace' and m.source_id = any(n.traversal_ids)), 0))
      end as level,
      coalesce((select json_agg(json_build_object('id', a.id, 'namespace_id', a.namespace_id, 'category_id', c.id,
                                                  'category_name', c.name, 'multiple_selection', c.multiple_selection)
                                order by a.id)
                from project_to_security_attributes pa
                join security_attributes a on a.id = pa.security_attribute_id
                join security_categories c on c.id = a.security_category_id
                where pa.project_id = p.id and a.deleted_at is null and c.deleted_at is null), '[]'::json) as current,
      (select json_agg(json_build_object('id', a.id, 'namespace_id', a.namespace_id, 'category_id', c.id,
                                         'category_name', c.name, 'multiple_selection', c.multiple_selection)
                       order by a.id)
       from security_attributes a
       join security_categories c on c.id = a.security_category_id
       where a.id = any(${attributeIds}::bigint[]) and a.deleted_at is null and c.deleted_at is null) as available
    from projects p
    join namespaces n on n.id = p.namespace_id
    left join routes r on r.source_type = 'Project' and r.source_id = p.id
    left join users u on u.id = ${userId}
    where p.id = any(${projectIds}::bigint[])
    order by p.id`;
  const projects = new Map<number, BatchProjectState>();
  for (const row of rows) {
    const traversalIds = row.traversal_ids.map(Number);
    projects.set(Number(row.id), {
      id: Number(row.id),
      name: row.name,
      fullPath: row.full_path ?? '',
      traversalIds,
      rootNamespaceId: traversalIds[0] ?? 0,
      accessLevel: Number(row.level),
      current: row.current.map(toRef),
    });
  }
  return { projects, available: (rows[0]?.available ?? []).map(toRef) };
}

/** Every removal of the batch in one delete, every new link in one insert (existing links skipped). */
export async function applyBatchChanges(
  tx: Db,
  changes: { projectId: number; traversalIds: number[]; add: number[]; remove: number[] }[],
): Promise<{ added: number; removed: number }> {
  const removeProjects: number[] = [];
  const removeAttributes: number[] = [];
  const addProjects: number[] = [];
  const addAttributes: number[] = [];
  // Traversal ids travel as text ('{1,2}') per row: unnest cannot take a ragged two-dimensional array.
  const addTraversal: string[] = [];
  for (const c of changes) {
    for (const a of c.remove) {
      removeProjects.push(c.projectId);
      removeAttributes.push(a);
    }
    for (const a of c.add) {
      addProjects.push(c.projectId);
      addAttributes.push(a);
      addTraversal.push(`{${c.traversalIds.join(',')}}`);
    }
  }
  let removed = 0;
  let added = 0;
  if (removeProjects.length > 0) {
    const res = await tx`
      delete from project_to_security_attributes pa
      using unnest(${removeProjects}::bigint[], ${removeAttributes}::bigint[]) as d(project_id, attribute_id)
      where pa.project_id = d.project_id and pa.security_attribute_id = d.attribute_id`;
    removed = res.count;
  }
  if (addProjects.length > 0) {
    const res = await tx`
      insert into project_to_security_attributes (project_id, security_attribute_id, traversal_ids)
      select i.project_id, i.attribute_id, i.traversal_ids::bigint[]
      from unnest(${addProjects}::bigint[], ${addAttributes}::bigint[], ${addTraversal}::text[])
        as i(project_id, attribute_id, traversal_ids)
      order by i.project_id, i.attribute_id
      on conflict (project_id, security_attribute_id) do nothing`;
    added = res.count;
  }
  return { added, removed };
}

/**
 * Writes the outcome of every decided project in one update. Each row's lock is held by the caller and its outcome
 * was null under that lock, so every row is written.
 */
export async function recordBatchOutcomes(
  tx: Db,
  operationId: string,
  outcomes: (Omit<ProjectOutcome, 'outcome'> & { outcome: Outcome })[],
): Promise<number> {
  if (outcomes.length === 0) return 0;
  const res = await tx`
    update background_operation_projects bop
    set outcome = o.outcome, error_code = o.error_code, error_message = o.error_message,
        error_details = coalesce((select array_agg(d.v order by d.n)
                                  from json_array_elements_text(o.error_details::json) with ordinality d(v, n)), '{}'),
        entity_name = o.entity_name, entity_full_path = o.entity_full_path, processed_at = now()
    from unnest(${outcomes.map((o) => o.projectId)}::bigint[], ${outcomes.map((o) => o.outcome)}::text[],
                ${outcomes.map((o) => o.errorCode)}::text[], ${outcomes.map((o) => o.errorMessage)}::text[],
                ${outcomes.map((o) => JSON.stringify(o.errorDetails))}::text[],
                ${outcomes.map((o) => o.entityName)}::text[], ${outcomes.map((o) => o.entityFullPath)}::text[])
      as o(project_id, outcome, error_code, error_message, error_details, entity_name, entity_full_path)
    where bop.operation_id = ${operationId} and bop.project_id = o.project_id and bop.outcome is null`;
  return res.count;
}
