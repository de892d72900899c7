import type { Db } from '../sql';
import { RelationStatus } from './statuses';

// Reads of an offline export's per-portable, per-relation rows (bulk_import_exports) for the API's relations
// endpoint. The caller has already checked that the export is the user's own.

export type RelationStatusName = 'pending' | 'started' | 'finished' | 'failed';

/** GitLab's BulkImports::Export state names for the stored codes. */
export const RELATION_STATUS_BY_NAME: Record<RelationStatusName, number> = {
  pending: RelationStatus.PENDING,
  started: RelationStatus.STARTED,
  finished: RelationStatus.FINISHED,
  failed: RelationStatus.FAILED,
};

const NAME_BY_STATUS = new Map<number, RelationStatusName>(
  Object.entries(RELATION_STATUS_BY_NAME).map(([name, code]) => [code, name as RelationStatusName]),
);

export interface ExportRelationRow {
  portableType: 'group' | 'project';
  portableId: number;
  /** null only when the portable's route row is gone. */
  portableFullPath: string | null;
  relation: string;
  status: RelationStatusName;
  error: string | null;
  batched: boolean;
  batchesCount: number;
  totalObjectsCount: number;
  updatedAt: Date;
}

interface Row {
  group_id: number | null;
  project_id: number | null;
  full_path: string | null;
  relation: string;
  status: number;
  error: string | null;
  batched: boolean;
  batches_count: number;
  total_objects_count: number;
  updated_at: Date;
}

export interface ExportRelationFilter {
  status?: RelationStatusName;
  relation?: string;
}

/** A page of the export's relation rows, ordered by portable path then relation, and the total for X-Total. */
export async function listExportRelations(
  sql: Db,
  exportId: number,
  filter: ExportRelationFilter,
  page: { page: number; perPage: number },
): Promise<{ rows: ExportRelationRow[]; total: number }> {
  const statusFilter =
    filter.status === undefined ? sql`` : sql`and e.status = ${RELATION_STATUS_BY_NAME[filter.status]}`;
  const relationFilter = filter.relation === undefined ? sql`` : sql`and e.relation = ${filter.relation}`;
  // index_bulk_import_exports_on_offline_export_id_and_{relation,status} narrow the rows; an export has at most
  // (portables x relations) of them, so the sort by path runs over one export's rows only. Byte order ("C"), so
  // that pages do not depend on the database's collation.
  const rows = await sql<Row[]>`
    select e.group_id, e.project_id, coalesce(rg.path, rp.path) as full_path, e.relation, e.status, e.error,
           e.batched, e.batches_count, e.total_objects_count, e.updated_at
    from bulk_import_exports e
    left join routes rg on rg.source_type = 'Namespace' and rg.source_id = e.group_id
    left join routes rp on rp.source_type = 'Project' and rp.source_id = e.project_id
    where e.offline_export_id = ${exportId} ${statusFilter} ${relationFilter}
    order by coalesce(rg.path, rp.path) collate "C" asc nulls last, e.relation collate "C" asc, e.id asc
    limit ${page.perPage} offset ${(page.page - 1) * page.perPage}`;
  const [count] = await sql<{ total: number }[]>`
    select count(*)::int as total from bulk_import_exports e
    where e.offline_export_id = ${exportId} ${statusFilter} ${relationFilter}`;
  return {
    rows: rows.map((r) => ({
      portableType: r.group_id !== null ? 'group' : 'project',
      portableId: Number(r.group_id ?? r.project_id),
      portableFullPath: r.full_path,
      relation: r.relation,
      // The column's check constraint allows only the four codes.
      status: NAME_BY_STATUS.get(r.status) as RelationStatusName,
      error: r.error,
      batched: r.batched,
      batchesCount: r.batches_count,
      totalObjectsCount: r.total_objects_count,
      updatedAt: r.updated_at,
    })),
    total: count?.total ?? 0,
  };
}
