import {
  emptyTotals,
  type ChunkExportResult,
  type PortableChunk,
  type PortableType,
} from '../../contracts/offline-export';
import { BatchStatus, RelationStatus } from './statuses';
import type { Db, Sql } from '../sql';
import { type ExportRow } from './tracking';

// A chunk is a run of consecutive 'self' rows of one export, (afterSelfId, lastSelfId]: the unit a chunk child
// workflow exports. Only the bounds travel through Temporal; the portables are read here.

/** The next chunk of at most `maxPortables` portables still to export after a cursor, or undefined at the end. */
export async function nextChunk(
  sql: Db,
  exportId: number,
  afterSelfId: number,
  maxPortables: number,
): Promise<PortableChunk | undefined> {
  const [row] = await sql<
    {
      firstSelfId: number | null;
      lastSelfId: number | null;
      portables: number;
      firstPath: string | null;
      lastPath: string | null;
    }[]
  >`
    with c as (
      select e.id, coalesce(e.group_id, e.project_id) as portable_id, e.group_id is not null as is_group
      from bulk_import_exports e
      where e.offline_export_id = ${exportId} and e.relation = 'self' and e.id > ${afterSelfId}
        and e.status in (${RelationStatus.PENDING}, ${RelationStatus.STARTED})
      order by e.id limit ${maxPortables}),
    ends as (select min(id) as first_id, max(id) as last_id, count(*)::int as n from c)
    select ends.first_id as "firstSelfId", ends.last_id as "lastSelfId", ends.n as portables,
           (select r.path from c join routes r on r.source_id = c.portable_id
              and r.source_type = case when c.is_group then 'Namespace' else 'Project' end
            where c.id = ends.first_id) as "firstPath",
           (select r.path from c join routes r on r.source_id = c.portable_id
              and r.source_type = case when c.is_group then 'Namespace' else 'Project' end
            where c.id = ends.last_id) as "lastPath"
    from ends`;
  if (!row || row.firstSelfId === null || row.lastSelfId === null || row.portables === 0) return undefined;
  return {
    afterSelfId,
    firstSelfId: row.firstSelfId,
    lastSelfId: row.lastSelfId,
    portables: row.portables,
    firstPath: row.firstPath ?? '',
    lastPath: row.lastPath ?? '',
  };
}

/** One portable of a chunk, by its 'self' row. */
export interface PortableRef {
  selfExportId: number;
  portableType: PortableType;
  portableId: number;
  fullPath: string;
}

/** Every portable of a chunk, in 'self' row order, whatever its status (a retry must see finished ones too). */
export async function chunkPortables(
  sql: Db,
  exportId: number,
  afterSelfId: number,
  lastSelfId: number,
): Promise<PortableRef[]> {
  return sql<PortableRef[]>`
    select e.id as "selfExportId", case when e.group_id is not null then 'group' else 'project' end as "portableType",
           coalesce(e.group_id, e.project_id) as "portableId", '' as "fullPath"
    from bulk_import_exports e
    where e.offline_export_id = ${exportId} and e.relation = 'self' and e.id > ${afterSelfId} and e.id <= ${lastSelfId}
    order by e.id`;
}

/** The relation rows (all of them, 'self' included) of the given portables of an export. */
export async function chunkRelationRows(
  sql: Db,
  exportId: number,
  groupIds: number[],
  projectIds: number[],
): Promise<ExportRow[]> {
  return sql<ExportRow[]>`
    select id, group_id as "groupId", project_id as "projectId", relation, status, error, batched,
           batches_count as "batchesCount", total_objects_count as "totalObjectsCount", bytes,
           object_key as "objectKey", sha256
    from bulk_import_exports
    where offline_export_id = ${exportId}
      and (group_id = any(${groupIds}::bigint[]) or project_id = any(${projectIds}::bigint[]))`;
}

/** PENDING relation rows for many portables in one statement (the chunk's equivalent of ensureRelationRows). */
export async function ensureChunkRelationRows(
  sql: Db,
  exportId: number,
  rows: { groupId: number | null; projectId: number | null; relation: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    insert into bulk_import_exports (offline_export_id, relation, status, group_id, project_id)
    select ${exportId}, r.relation, ${RelationStatus.PENDING}, r.group_id, r.project_id
    from unnest(${rows.map((r) => r.relation)}::text[], ${rows.map((r) => r.groupId)}::bigint[], ${rows.map((r) => r.projectId)}::bigint[])
      as r(relation, group_id, project_id)
    on conflict do nothing`;
}

/**
 * ensureChunkRelationRows and chunkRelationRows in one statement: the PENDING rows are created where missing and
 * every relation row of the portables returned. The read sees the rows from before the insert, and the insert
 * returns the ones it made: each row once.
 */
export async function ensureAndReadChunkRelationRows(
  sql: Db,
  exportId: number,
  rows: { groupId: number | null; projectId: number | null; relation: string }[],
): Promise<ExportRow[]> {
  const groupIds = [...new Set(rows.flatMap((r) => (r.groupId !== null ? [r.groupId] : [])))];
  const projectIds = [...new Set(rows.flatMap((r) => (r.projectId !== null ? [r.projectId] : [])))];
  return sql<ExportRow[]>`
    with ins as (
      insert into bulk_import_exports (offline_export_id, relation, status, group_id, project_id)
      select ${exportId}, r.relation, ${RelationStatus.PENDING}, r.group_id, r.project_id
      from unnest(${rows.map((r) => r.relation)}::text[], ${rows.map((r) => r.groupId)}::bigint[], ${rows.map((r) => r.projectId)}::bigint[])
        as r(relation, group_id, project_id)
      on conflict do nothing
      returning id, group_id, project_id, relation, status, error, batched, batches_count, total_objects_count, bytes,
                object_key, sha256)
    select id, group_id as "groupId", project_id as "projectId", relation, status, error, batched,
           batches_count as "batchesCount", total_objects_count as "totalObjectsCount", bytes,
           object_key as "objectKey", sha256
    from (
      select id, group_id, project_id, relation, status, error, batched, batches_count, total_objects_count, bytes,
             object_key, sha256
      from bulk_import_exports
      where offline_export_id = ${exportId}
        and (group_id = any(${groupIds}::bigint[]) or project_id = any(${projectIds}::bigint[]))
      union all
      select * from ins) e`;
}

export type ChunkTotals = ChunkExportResult;

/**
 * What a chunk exported, read back from the rows: exact whatever number of attempts it took. A portable counts as
 * finished when at least one of its relations finished (its 'self' row failing a permission check fails it).
 */
export async function chunkTotals(
  sql: Db,
  exportId: number,
  afterSelfId: number,
  lastSelfId: number,
): Promise<ChunkTotals> {
  const [row] = await sql<ChunkTotals[]>`
    with s as (
      select group_id, project_id from bulk_import_exports
      where offline_export_id = ${exportId} and relation = 'self' and id > ${afterSelfId} and id <= ${lastSelfId}),
    r as (
      select e.* from bulk_import_exports e join s
        on (s.group_id is not null and e.group_id = s.group_id) or (s.project_id is not null and e.project_id = s.project_id)
      where e.offline_export_id = ${exportId}),
    p as (
      select coalesce(group_id, -project_id) as portable, bool_or(status = ${RelationStatus.FINISHED}) as any_finished
      from r group by 1)
    select
      (select count(*) filter (where any_finished) from p)::int as "portablesFinished",
      (select count(*) filter (where not any_finished) from p)::int as "portablesFailed",
      count(*) filter (where status = ${RelationStatus.FINISHED})::int as "relationsFinished",
      count(*) filter (where status = ${RelationStatus.FAILED})::int as "relationsFailed",
      coalesce(sum(case when batched then batches_count else 1 end) filter (where status = ${RelationStatus.FINISHED}), 0)::int as "objectsWritten",
      coalesce(sum(bytes) filter (where status = ${RelationStatus.FINISHED}), 0)::bigint as "bytesWritten",
      coalesce(sum(total_objects_count) filter (where status = ${RelationStatus.FINISHED}), 0)::int as "recordsWritten"
    from r`;
  if (row) return row;
  const { portablesTotal: _total, ...nothing } = emptyTotals();
  return nothing;
}

/**
 * A chunk whose activity gave up: every relation (and batch) of its portables still in progress -> FAILED with the
 * error, and the export's has_failures, in one transaction.
 */
export async function failUnfinishedInChunk(
  sql: Sql,
  exportId: number,
  afterSelfId: number,
  lastSelfId: number,
  error: string,
): Promise<number> {
  const message = error.slice(0, 255);
  return sql.begin(async (tx) => {
    const portables = tx`
      select group_id, project_id from bulk_import_exports
      where offline_export_id = ${exportId} and relation = 'self' and id > ${afterSelfId} and id <= ${lastSelfId}`;
    const rows = await tx<{ id: number }[]>`
      update bulk_import_exports e set status = ${RelationStatus.FAILED}, error = ${message}, updated_at = now()
      from (${portables}) s
      where e.offline_export_id = ${exportId}
        and ((s.group_id is not null and e.group_id = s.group_id) or (s.project_id is not null and e.project_id = s.project_id))
        and e.status in (${RelationStatus.PENDING}, ${RelationStatus.STARTED})
      returning e.id`;
    if (rows.length === 0) return 0;
    await tx`
      update bulk_import_export_batches set status = ${BatchStatus.FAILED}, error = ${message}, updated_at = now()
      where export_id = any(${rows.map((r) => r.id)}::bigint[]) and status in (${BatchStatus.CREATED}, ${BatchStatus.STARTED})`;
    await tx`update import_offline_exports set has_failures = true, updated_at = now() where id = ${exportId} and not has_failures`;
    return rows.length;
  });
}
