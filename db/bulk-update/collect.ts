import type { Db } from '../sql';
import { READABLE_GROUP, READABLE_PROJECT } from './readable';

export interface CollectPageInput {
  operationId: string;
  userId: number;
  groupIds: number[];
  projectIds: number[];
  afterProjectId: number;
  limit: number;
}

export interface CollectPageResult {
  /** Projects of this page (already recorded ones included, so a retried page reports the same number). */
  count: number;
  lastProjectId: number | null;
}

/**
 * Records the next page of the operation's projects, as BulkUpdateSchedulerWorker collects them: every project in
 * the hierarchy of each requested group the user can read (all of them: whether the user may change a project is
 * for its own update to say, and it fails on its own), and the requested projects the user can read. Project-id
 * order after the cursor. Re-running a page inserts nothing twice (primary key), and a project reached both
 * directly and through a group is one row.
 */
export async function collectProjectsPage(db: Db, input: CollectPageInput): Promise<CollectPageResult> {
  const [row] = await db<{ count: number; last: number | null }[]>`
    with u as (select id, state, admin from users where id = ${input.userId}),
    readable_groups as (
      select coalesce(array_agg(n.id), '{}')::bigint[] as ids
      from namespaces n cross join u
      where n.id = any(${input.groupIds}::bigint[]) and ${db.unsafe(READABLE_GROUP)}),
    page as (
      select p.id
      from projects p
      join namespaces n on n.id = p.namespace_id
      cross join u
      cross join readable_groups g
      where p.id > ${input.afterProjectId}
        and (n.traversal_ids && g.ids or (p.id = any(${input.projectIds}::bigint[]) and ${db.unsafe(READABLE_PROJECT)}))
      order by p.id
      limit ${input.limit}),
    recorded as (
      insert into background_operation_projects (operation_id, project_id)
      select ${input.operationId}, id from page
      on conflict (operation_id, project_id) do nothing)
    select count(*)::int as count, max(id) as last from page`;
  return { count: row?.count ?? 0, lastProjectId: row?.last ?? null };
}
