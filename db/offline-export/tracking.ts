import type postgres from 'postgres';
import { type PortableType } from '../../contracts/offline-export';
import { BatchStatus, RelationStatus } from './statuses';
import type { Db, Sql } from '../sql';

// bulk_import_exports (one row per portable and relation of an offline export) and bulk_import_export_batches.
// Inserts use "on conflict do nothing" against the unique indexes, transitions are guarded by the status they
// come from: retried activities and re-run workflows never create a second row or undo a finished one.

export interface ExportRow {
  id: number;
  groupId: number | null;
  projectId: number | null;
  relation: string;
  status: number;
  error: string | null;
  batched: boolean;
  batchesCount: number;
  totalObjectsCount: number;
  bytes: number;
  objectKey: string | null;
  sha256: string | null;
}

const exportRowColumns = (sql: Db) => sql`
  id, group_id as "groupId", project_id as "projectId", relation, status, error, batched,
  batches_count as "batchesCount", total_objects_count as "totalObjectsCount", bytes, object_key as "objectKey", sha256`;

/** GitLab's BulkImports::Export.for_offline_export_and_relation; answered by its (offline_export_id, relation) index. */
export function forOfflineExportAndRelation(sql: Db, exportId: number, relation: string) {
  return sql<ExportRow[]>`
    select ${exportRowColumns(sql)} from bulk_import_exports
    where offline_export_id = ${exportId} and relation = ${relation}`;
}

const portableColumn = (type: PortableType) => (type === 'group' ? 'group_id' : 'project_id');

/**
 * ProcessService#create_descendant_self_relations: a PENDING 'self' row for every descendant subgroup (any depth)
 * and every project in the hierarchy of each requested group. Works page by page over the requested group rows
 * (ids up to `upToSelfId`) so no statement grows with the whole hierarchy; returns how many rows were new.
 * traversal_ids ranges use the btree index: descendants of {1,4} are >= {1,4} and < {1,5}.
 */
export async function createDescendantSelfRows(
  sql: Sql,
  exportId: number,
  afterSelfId: number,
  upToSelfId: number,
  pageSize: number,
): Promise<{ groups: number; projects: number; lastSelfId: number | undefined }> {
  return sql.begin(async (tx) => {
    const page = await tx<{ id: number }[]>`
      select id from bulk_import_exports
      where offline_export_id = ${exportId} and relation = 'self' and group_id is not null
        and id > ${afterSelfId} and id <= ${upToSelfId}
      order by id limit ${pageSize}`;
    if (page.length === 0) return { groups: 0, projects: 0, lastSelfId: undefined };
    const ids = page.map((r) => r.id);
    const scope = tx`
      select distinct n.id, n.traversal_ids from bulk_import_exports e
      join namespaces g on g.id = e.group_id
      join namespaces n on n.traversal_ids >= g.traversal_ids
        and n.traversal_ids < g.traversal_ids[1:cardinality(g.traversal_ids) - 1] || (g.traversal_ids[cardinality(g.traversal_ids)] + 1)
      where e.id = any(${ids}::bigint[])`;
    const groups = await tx`
      insert into bulk_import_exports (offline_export_id, user_id, relation, status, group_id)
      select ${exportId}, x.user_id, 'self', ${RelationStatus.PENDING}, s.id
      from (${scope}) s cross join (select user_id from import_offline_exports where id = ${exportId}) x
      order by s.traversal_ids
      on conflict do nothing`;
    const projects = await tx`
      insert into bulk_import_exports (offline_export_id, user_id, relation, status, project_id)
      select ${exportId}, x.user_id, 'self', ${RelationStatus.PENDING}, p.id
      from (${scope}) s join projects p on p.namespace_id = s.id
      cross join (select user_id from import_offline_exports where id = ${exportId}) x
      order by s.traversal_ids, p.id
      on conflict do nothing`;
    return { groups: groups.count, projects: projects.count, lastSelfId: ids[ids.length - 1] };
  });
}

export async function maxSelfRowId(sql: Db, exportId: number): Promise<number> {
  const [row] = await sql<{ id: number | null }[]>`
    select max(id) as id from bulk_import_exports where offline_export_id = ${exportId} and relation = 'self'`;
  return row?.id ?? 0;
}

export async function countSelfRows(sql: Db, exportId: number): Promise<{ total: number; completed: number }> {
  const [row] = await sql<{ total: number; completed: number }[]>`
    select count(*)::int as total,
           count(*) filter (where status in (${RelationStatus.FINISHED}, ${RelationStatus.FAILED}))::int as completed
    from bulk_import_exports where offline_export_id = ${exportId} and relation = 'self'`;
  return row ?? { total: 0, completed: 0 };
}

/** The portable's relation rows (PENDING), created together so progress and cancellation see all of them. */
export async function ensureRelationRows(
  sql: Db,
  exportId: number,
  type: PortableType,
  portableId: number,
  relations: readonly string[],
): Promise<void> {
  const others = relations.filter((r) => r !== 'self');
  if (others.length === 0) return;
  await sql`
    insert into bulk_import_exports (offline_export_id, relation, status, ${sql(portableColumn(type))})
    select ${exportId}, r, ${RelationStatus.PENDING}, ${portableId} from unnest(${others}::text[]) r
    on conflict do nothing`;
}

export async function findRelationRow(
  sql: Db,
  exportId: number,
  type: PortableType,
  portableId: number,
  relation: string,
): Promise<ExportRow | undefined> {
  const [row] = await sql<ExportRow[]>`
    select ${exportRowColumns(sql)} from bulk_import_exports
    where offline_export_id = ${exportId} and relation = ${relation} and ${sql(portableColumn(type))} = ${portableId}`;
  return row;
}

/**
 * What a relation exported whole by one query: its object (a single-object relation), or its only batch (a batched
 * relation of at most one batch of records; firstId/lastId are its id range, absent when it had no record, which
 * leaves it no batch and no object).
 */
export interface WholeRelationOutcome {
  rowId: number;
  batched: boolean;
  records: number;
  bytes: number;
  objectKey?: string;
  sha256?: string;
  firstId?: number;
  lastId?: number;
}

/**
 * Relations exported whole, recorded FINISHED together in one statement: PENDING -> FINISHED (a single-object
 * relation also from STARTED), and for a batched relation its one batch inserted FINISHED with its id range. One
 * commit for many relations instead of two or three statements each. A row another attempt moved on meanwhile
 * (STARTED with batches of its own, finished, failed) is left alone. Returns the ids of the rows recorded.
 */
export async function recordWholeRelations(sql: Db, outcomes: readonly WholeRelationOutcome[]): Promise<number[]> {
  if (outcomes.length === 0) return [];
  // One jsonb parameter: the statement's text is the same whatever the group's size (one prepared statement).
  const input = outcomes.map((o) => ({
    row_id: o.rowId,
    batched: o.batched,
    records: o.records,
    bytes: o.bytes,
    object_key: o.objectKey ?? null,
    sha256: o.sha256 ?? null,
    first_id: o.firstId ?? null,
    last_id: o.lastId ?? null,
  }));
  const rows = await sql<{ id: number }[]>`
    with o as (
      select * from jsonb_to_recordset(${sql.json(input)})
        as o(row_id bigint, batched boolean, records int, bytes bigint, object_key text, sha256 text, first_id bigint, last_id bigint)),
    u as (
      update bulk_import_exports e
      set status = ${RelationStatus.FINISHED}, batched = o.batched,
          batches_count = case when o.batched and o.records > 0 then 1 else 0 end,
          total_objects_count = o.records, bytes = o.bytes,
          object_key = case when o.batched then null else o.object_key end,
          sha256 = case when o.batched then null else o.sha256 end, error = null, updated_at = now()
      from o
      where e.id = o.row_id
        and (e.status = ${RelationStatus.PENDING} or (e.status = ${RelationStatus.STARTED} and not o.batched))
        and not exists (select 1 from bulk_import_export_batches b where b.export_id = e.id)
      returning e.id),
    b as (
      insert into bulk_import_export_batches (export_id, batch_number, first_id, last_id, objects_count, bytes, object_key, sha256, status)
      select o.row_id, 1, o.first_id, o.last_id, o.records, o.bytes, o.object_key, o.sha256, ${BatchStatus.FINISHED}
      from o join u on u.id = o.row_id
      where o.batched and o.records > 0
      on conflict do nothing)
    select id from u`;
  return rows.map((r) => r.id);
}

/** -> FAILED with the error, and the export's has_failures, in one transaction (BulkImports::Export#fail_op). */
export async function failRelation(
  sql: Sql,
  exportId: number,
  type: PortableType,
  portableId: number,
  relation: string,
  error: string,
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      update bulk_import_exports set status = ${RelationStatus.FAILED}, error = ${error.slice(0, 255)}, updated_at = now()
      where offline_export_id = ${exportId} and relation = ${relation} and ${tx(portableColumn(type))} = ${portableId}
        and status <> ${RelationStatus.FINISHED}`;
    await tx`
      update bulk_import_export_batches b set status = ${BatchStatus.FAILED}, error = ${error.slice(0, 255)}, updated_at = now()
      from bulk_import_exports e
      where b.export_id = e.id and e.offline_export_id = ${exportId} and e.relation = ${relation}
        and ${tx(`e.${portableColumn(type)}`)} = ${portableId}
        and b.status in (${BatchStatus.CREATED}, ${BatchStatus.STARTED})`;
    await tx`update import_offline_exports set has_failures = true, updated_at = now() where id = ${exportId} and not has_failures`;
  });
}

// --- batches ---

export interface BatchRow {
  id: number;
  batchNumber: number;
  firstId: number;
  lastId: number;
  status: number;
}

/**
 * A batched relation's start, in one statement: the row PENDING/STARTED -> STARTED, its batches cut by id once
 * (stored, so a retry finds the same ones, even on a worker configured with another batch size), and the first page
 * of unfinished batches, the first of them marked STARTED. `started` is false when the row was already finished or
 * failed. Two attempts racing on one relation cannot cut it twice (the unique batch number); the one that loses sees
 * no batch, and finishing it then fails on the other's unfinished batches, so it is retried rather than wrong.
 */
export async function beginBatchedRelation(
  sql: Db,
  rowId: number,
  ids: postgres.PendingQuery<{ id: number }[]>,
  batchSize: number,
  pageSize: number,
): Promise<{ started: boolean; batchesCount: number; page: BatchRow[] }> {
  const [row] = await sql<{ started: boolean; batchesCount: number; page: BatchRow[] }[]>`
    with live as (
      select 1 from bulk_import_exports where id = ${rowId} and status in (${RelationStatus.PENDING}, ${RelationStatus.STARTED})),
    existing as (
      select id, batch_number, first_id, last_id, status from bulk_import_export_batches where export_id = ${rowId}),
    ins as (
      insert into bulk_import_export_batches (export_id, batch_number, first_id, last_id, objects_count, status)
      select ${rowId}, b.batch_number, min(b.id), max(b.id), count(*),
             (case when b.batch_number = 1 then ${BatchStatus.STARTED} else ${BatchStatus.CREATED} end)::smallint
      from (select s.id, ((row_number() over (order by s.id) - 1) / ${batchSize})::int + 1 as batch_number
            from (${ids}) s) b
      where exists (select 1 from live) and not exists (select 1 from existing)
      group by b.batch_number
      on conflict do nothing
      returning id, batch_number, first_id, last_id, status, objects_count),
    upd as (
      update bulk_import_exports
      set status = ${RelationStatus.STARTED}, batched = true, error = null, updated_at = now(),
          batches_count = case when exists (select 1 from ins) then (select count(*) from ins) else batches_count end,
          total_objects_count = case when exists (select 1 from ins) then (select sum(objects_count) from ins) else total_objects_count end
      where id = ${rowId} and status in (${RelationStatus.PENDING}, ${RelationStatus.STARTED})
      returning batches_count),
    page as (
      select id, batch_number, first_id, last_id, status from ins
      union all
      select id, batch_number, first_id, last_id, status from existing where status <> ${BatchStatus.FINISHED}
      order by batch_number limit ${pageSize}),
    resumed as (
      update bulk_import_export_batches set status = ${BatchStatus.STARTED}, error = null, updated_at = now()
      where exists (select 1 from live)
        and id = (select id from existing where status <> ${BatchStatus.FINISHED} order by batch_number limit 1)
      returning id)
    select exists (select 1 from upd) as started,
           coalesce((select batches_count from upd), 0)::int as "batchesCount",
           coalesce((select json_agg(json_build_object('id', id, 'batchNumber', batch_number, 'firstId', first_id,
                       'lastId', last_id, 'status', status) order by batch_number) from page), '[]'::json) as page`;
  return row ?? { started: false, batchesCount: 0, page: [] };
}

/** Batches not yet finished, in order, a page at a time. */
export async function unfinishedBatches(
  sql: Db,
  rowId: number,
  afterBatch: number,
  limit: number,
): Promise<BatchRow[]> {
  return sql<BatchRow[]>`
    select id, batch_number as "batchNumber", first_id as "firstId", last_id as "lastId", status
    from bulk_import_export_batches
    where export_id = ${rowId} and batch_number > ${afterBatch} and status <> ${BatchStatus.FINISHED}
    order by batch_number limit ${limit}`;
}

export async function startBatch(sql: Db, batchId: number): Promise<void> {
  await sql`
    update bulk_import_export_batches set status = ${BatchStatus.STARTED}, error = null, updated_at = now()
    where id = ${batchId} and status <> ${BatchStatus.FINISHED}`;
}

/** The UPDATE that records a batch FINISHED with its object: a fragment for the statements below. */
const finishedBatch = (sql: Db, batchId: number, outcome: BatchOutcome) => sql`
  update bulk_import_export_batches
  set status = ${BatchStatus.FINISHED}, objects_count = ${outcome.objectsCount}, bytes = ${outcome.bytes},
      object_key = ${outcome.objectKey}, sha256 = ${outcome.sha256 ?? null}, error = null, updated_at = now()
  where id = ${batchId}`;

export interface BatchOutcome {
  objectsCount: number;
  bytes: number;
  objectKey: string;
  /** Null when it could not be computed while streaming (a multipart object whose head was written last). */
  sha256: string | null;
}

export async function finishBatch(sql: Db, batchId: number, outcome: BatchOutcome): Promise<void> {
  // One statement: the batch, and the parent's updated_at as GitLab's RelationBatchExportService touches it (the
  // relation is alive).
  await sql`
    with b as (${finishedBatch(sql, batchId, outcome)} returning export_id)
    update bulk_import_exports set updated_at = now() where id in (select export_id from b)`;
}

/**
 * finishBatch, and in the same statement the next batch of the relation (when known) marked STARTED: one round trip
 * between two batches instead of two.
 */
export async function finishBatchStartNext(
  sql: Db,
  batchId: number,
  outcome: BatchOutcome,
  nextBatchId: number,
): Promise<void> {
  await sql`
    with b as (${finishedBatch(sql, batchId, outcome)} returning export_id),
    n as (
      update bulk_import_export_batches set status = ${BatchStatus.STARTED}, error = null, updated_at = now()
      where id = ${nextBatchId} and status <> ${BatchStatus.FINISHED} returning id)
    update bulk_import_exports set updated_at = now() where id in (select export_id from b)`;
}

/**
 * The end of a statement whose CTE `t` holds a relation's batch sums: the relation STARTED -> FINISHED with them when
 * no batch is unfinished, and the sums returned.
 */
const relationFinishedFrom = (sql: Db, rowId: number) => sql`
    u as (
      update bulk_import_exports e
      set status = ${RelationStatus.FINISHED}, total_objects_count = t.objects, bytes = t.bytes,
          object_key = null, sha256 = null, error = null, updated_at = now()
      from t where e.id = ${rowId} and e.status = ${RelationStatus.STARTED} and t.unfinished = 0
      returning e.id)
    select exists (select 1 from u) as finished, t.objects, t.bytes, t.unfinished from t`;

/**
 * The relation's last batch FINISHED and the relation STARTED -> FINISHED with the sums of its batches, in one
 * statement (the sums count this batch from its new values: the statement's snapshot predates its own update).
 */
export async function finishLastBatch(
  sql: Db,
  rowId: number,
  batchId: number,
  outcome: BatchOutcome,
): Promise<{ finished: boolean; objects: number; bytes: number; unfinished: number }> {
  const [row] = await sql<{ finished: boolean; objects: number; bytes: number; unfinished: number }[]>`
    with b as (${finishedBatch(sql, batchId, outcome)} and export_id = ${rowId} returning id),
    t as (
      select (coalesce(sum(objects_count) filter (where status = ${BatchStatus.FINISHED} and id <> ${batchId}), 0) + ${outcome.objectsCount})::int as objects,
             (coalesce(sum(bytes) filter (where status = ${BatchStatus.FINISHED} and id <> ${batchId}), 0) + ${outcome.bytes})::bigint as bytes,
             count(*) filter (where status <> ${BatchStatus.FINISHED} and id <> ${batchId})::int as unfinished
      from bulk_import_export_batches where export_id = ${rowId}),
    ${relationFinishedFrom(sql, rowId)}`;
  return row ?? { finished: false, objects: 0, bytes: 0, unfinished: 0 };
}

/**
 * A batched relation STARTED -> FINISHED with the sums of its finished batches, in one statement, only when every
 * batch finished. Returns the totals, or the number of unfinished batches when it could not finish.
 */
export async function finishBatchedRelation(
  sql: Db,
  rowId: number,
): Promise<{ finished: boolean; objects: number; bytes: number; unfinished: number }> {
  const [row] = await sql<{ finished: boolean; objects: number; bytes: number; unfinished: number }[]>`
    with t as (
      select coalesce(sum(objects_count) filter (where status = ${BatchStatus.FINISHED}), 0)::int as objects,
             coalesce(sum(bytes) filter (where status = ${BatchStatus.FINISHED}), 0)::bigint as bytes,
             count(*) filter (where status <> ${BatchStatus.FINISHED})::int as unfinished
      from bulk_import_export_batches where export_id = ${rowId}),
    ${relationFinishedFrom(sql, rowId)}`;
  return row ?? { finished: false, objects: 0, bytes: 0, unfinished: 0 };
}

// --- completion and cancellation ---

export interface StatusCounts {
  pending: number;
  started: number;
  finished: number;
  failed: number;
  total: number;
}

/** Rows of the export by status; answered by the (offline_export_id, status) index. */
export async function statusCounts(sql: Db, exportId: number): Promise<StatusCounts> {
  const rows = await sql<{ status: number; n: number }[]>`
    select status, count(*)::int as n from bulk_import_exports where offline_export_id = ${exportId} group by status`;
  const n = (s: number) => rows.find((r) => r.status === s)?.n ?? 0;
  return {
    pending: n(RelationStatus.PENDING),
    started: n(RelationStatus.STARTED),
    finished: n(RelationStatus.FINISHED),
    failed: n(RelationStatus.FAILED),
    total: rows.reduce((s, r) => s + r.n, 0),
  };
}

/** Every row and batch still in progress -> FAILED with the error (cancellation leaves nothing PENDING). */
export async function failUnfinished(sql: Sql, exportId: number, error: string): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`
      update bulk_import_export_batches b set status = ${BatchStatus.FAILED}, error = ${error.slice(0, 255)}, updated_at = now()
      from bulk_import_exports e
      where b.export_id = e.id and e.offline_export_id = ${exportId}
        and b.status in (${BatchStatus.CREATED}, ${BatchStatus.STARTED})`;
    const rows = await tx`
      update bulk_import_exports set status = ${RelationStatus.FAILED}, error = ${error.slice(0, 255)}, updated_at = now()
      where offline_export_id = ${exportId} and status in (${RelationStatus.PENDING}, ${RelationStatus.STARTED})`;
    return rows.count;
  });
}

export interface ExportSize {
  portables: number;
  relations: number;
  records: number;
}

/** How much an export holds: its groups and projects, relation rows and records written. */
export async function exportSize(sql: Db, exportId: number): Promise<ExportSize> {
  const [row] = await sql<ExportSize[]>`
    select count(*) filter (where relation = 'self')::int as portables, count(*)::int as relations,
           coalesce(sum(total_objects_count), 0)::int as records
    from bulk_import_exports where offline_export_id = ${exportId}`;
  return row ?? { portables: 0, relations: 0, records: 0 };
}
