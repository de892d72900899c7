import type { Db, Sql } from '../sql';
import type { EncryptedCredentials } from './credentials';
import { type OfflineExportRow, findOfflineExportForUser } from './exports-read';
import { offlineExportWorkflowId } from '../../contracts/offline-export';
import { ExportStatus, RelationStatus } from './statuses';

// The writes of CreateService (gitlab-behaviour.md §A.5): path resolution, the export with its configuration and
// its 'self' rows in one transaction, and the failure mark when its workflow cannot be started.

export interface OfflineExportSettings {
  exportsEnabled: boolean;
  allowS3Compatible: boolean;
}

export async function readOfflineExportSettings(sql: Db): Promise<OfflineExportSettings> {
  const [row] = await sql<{ exports_enabled: boolean; allow_s3_compatible: boolean }[]>`
    select offline_transfer_exports_enabled as exports_enabled,
           allow_s3_compatible_storage_for_offline_transfer as allow_s3_compatible
    from application_settings where id = 1`;
  // The migration inserts the singleton row; without it the column defaults apply, as GitLab's CurrentSettings do.
  return { exportsEnabled: row?.exports_enabled ?? true, allowS3Compatible: row?.allow_s3_compatible ?? true };
}

export interface ResolvedPortables {
  groups: { id: number; fullPath: string; requested: string }[];
  projects: { id: number; fullPath: string; requested: string }[];
  /** Requested paths that name no group or project, in request order. */
  missing: string[];
}

/** Full paths to groups and projects through routes, case-insensitively as GitLab's where_full_path_in does. */
export async function resolvePortables(sql: Db, paths: string[]): Promise<ResolvedPortables> {
  const lowered = paths.map((p) => p.toLowerCase());
  const routes = await sql<{ source_id: number; source_type: 'Namespace' | 'Project'; path: string }[]>`
    select source_id, source_type, path from routes where lower(path) = any(${lowered}::text[])`;
  const byPath = new Map(routes.map((r) => [r.path.toLowerCase(), r]));
  const result: ResolvedPortables = { groups: [], projects: [], missing: [] };
  for (const requested of paths) {
    const route = byPath.get(requested.toLowerCase());
    if (!route) result.missing.push(requested);
    else
      (route.source_type === 'Namespace' ? result.groups : result.projects).push({
        id: route.source_id,
        fullPath: route.path,
        requested,
      });
  }
  return result;
}

export interface NewOfflineExport {
  userId: number;
  provider: number;
  bucket: string;
  exportPrefix: string;
  sourceHostname: string;
  credentials: EncryptedCredentials;
  groupIds: number[];
  projectIds: number[];
}

/**
 * Stores the export (created, with its workflow id), its configuration and one PENDING 'self' row per requested
 * portable in one transaction: either all of it exists or none of it. Descendants are the workflow's job.
 */
export async function insertOfflineExport(sql: Sql, input: NewOfflineExport): Promise<OfflineExportRow> {
  const id = await sql.begin(async (tx) => {
    // The id is taken first so the row is inserted with its deterministic workflow id in one statement.
    const [next] = await tx<{ id: number }[]>`
      select nextval(pg_get_serial_sequence('import_offline_exports', 'id'))::bigint as id`;
    const exportId = next!.id;
    await tx`
      insert into import_offline_exports (id, user_id, status, workflow_id)
      values (${exportId}, ${input.userId}, ${ExportStatus.CREATED}, ${offlineExportWorkflowId(exportId)})`;
    await tx`
      insert into import_offline_configurations
        (offline_export_id, provider, bucket, export_prefix, source_hostname, object_storage_credentials)
      values (${exportId}, ${input.provider}, ${input.bucket}, ${input.exportPrefix}, ${input.sourceHostname},
              ${tx.json(input.credentials as never)})`;
    const selfRows = [
      ...[...new Set(input.groupIds)].map((groupId) => ({ group_id: groupId, project_id: null })),
      ...[...new Set(input.projectIds)].map((projectId) => ({ group_id: null, project_id: projectId })),
    ].map((r) => ({
      ...r,
      user_id: input.userId,
      offline_export_id: exportId,
      relation: 'self',
      status: RelationStatus.PENDING,
    }));
    if (selfRows.length > 0) {
      await tx`
        insert into bulk_import_exports ${tx(selfRows, 'group_id', 'project_id', 'user_id', 'offline_export_id', 'relation', 'status')}
        on conflict do nothing`;
    }
    return exportId;
  });
  const row = await findOfflineExportForUser(sql, input.userId, id);
  if (!row) throw new Error(`offline export ${id} vanished right after it was committed`);
  return row;
}

/**
 * The export was committed but its workflow could not be started: fail it, fail its PENDING rows (nothing will
 * ever run them; a failed row means has_failures, as everywhere else) and wipe the credentials now rather than in
 * 24 hours, since no workflow will read or purge them.
 */
export async function markOfflineExportStartFailed(sql: Sql, exportId: number, error: string): Promise<void> {
  const message = error.slice(0, 255);
  await sql.begin(async (tx) => {
    await tx`
      update import_offline_exports
      set status = ${ExportStatus.FAILED}, has_failures = true, error = ${message}, completed_at = now(), updated_at = now()
      where id = ${exportId}`;
    await tx`
      update bulk_import_exports set status = ${RelationStatus.FAILED}, error = ${message}, updated_at = now()
      where offline_export_id = ${exportId} and status = ${RelationStatus.PENDING}`;
    await tx`
      update import_offline_configurations
      set object_storage_credentials = '{}'::jsonb, credentials_purged_at = now(), updated_at = now()
      where offline_export_id = ${exportId}`;
  });
}
