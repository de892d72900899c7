import type { Db } from '../sql';
import type { ExportStatusValue } from './statuses';

// Reads of offline exports for the API (GitLab's ExportsFinder): always scoped to the requesting user, always with
// the configuration's public fields, never the credentials column.

export interface OfflineExportRow {
  id: number;
  user_id: number;
  status: ExportStatusValue;
  has_failures: boolean;
  error: string | null;
  workflow_id: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
  provider: number;
  bucket: string;
  export_prefix: string;
  source_hostname: string;
}

const columns = (sql: Db) => sql`
  e.id, e.user_id, e.status, e.has_failures, e.error, e.workflow_id, e.created_at, e.updated_at, e.completed_at,
  c.provider, c.bucket, c.export_prefix, c.source_hostname`;

/** One export of this user, or undefined (also when it belongs to someone else: the API answers 404 alike). */
export async function findOfflineExportForUser(
  sql: Db,
  userId: number,
  exportId: number,
): Promise<OfflineExportRow | undefined> {
  const [row] = await sql<OfflineExportRow[]>`
    select ${columns(sql)}
    from import_offline_exports e
    join import_offline_configurations c on c.offline_export_id = e.id
    where e.id = ${exportId} and e.user_id = ${userId}`;
  return row;
}

export interface ListOptions {
  /** 1-based. */
  page?: number;
  perPage?: number;
  /** By created_at, newest first by default (GitLab's default). */
  sort?: 'asc' | 'desc';
  status?: ExportStatusValue;
}

export const MAX_PER_PAGE = 100;

/** A page of this user's exports and the total count (for X-Total and the Link header). */
export async function listOfflineExportsForUser(
  sql: Db,
  userId: number,
  options: ListOptions = {},
): Promise<{ rows: OfflineExportRow[]; total: number }> {
  const perPage = Math.min(Math.max(1, Math.trunc(options.perPage ?? 20)), MAX_PER_PAGE);
  const page = Math.max(1, Math.trunc(options.page ?? 1));
  const direction = options.sort === 'asc' ? sql`asc` : sql`desc`;
  const statusFilter = options.status === undefined ? sql`` : sql`and e.status = ${options.status}`;
  // Served by index_import_offline_exports_on_user_id_and_created_at.
  const rows = await sql<OfflineExportRow[]>`
    select ${columns(sql)}
    from import_offline_exports e
    join import_offline_configurations c on c.offline_export_id = e.id
    where e.user_id = ${userId} ${statusFilter}
    order by e.created_at ${direction}, e.id ${direction}
    limit ${perPage} offset ${(page - 1) * perPage}`;
  const [count] = await sql<{ total: number }[]>`
    select count(*)::int as total from import_offline_exports e where e.user_id = ${userId} ${statusFilter}`;
  return { rows, total: count?.total ?? 0 };
}
