import { ExportStatus, RelationStatus } from './statuses';
import type { Db } from '../sql';

// import_offline_exports and import_offline_configurations as the workflow moves an export through its states.
// Every transition is guarded by the state it comes from, so a retried activity changes nothing twice.

export interface ExportForWorkflow {
  id: number;
  userId: number;
  status: number;
  hasFailures: boolean;
  exportPrefix: string;
  bucket: string;
  sourceHostname: string;
  createdAt: Date;
}

export async function findExport(sql: Db, exportId: number): Promise<ExportForWorkflow | undefined> {
  const [row] = await sql<ExportForWorkflow[]>`
    select e.id, e.user_id as "userId", e.status, e.has_failures as "hasFailures", c.export_prefix as "exportPrefix",
           c.bucket, c.source_hostname as "sourceHostname", e.created_at as "createdAt"
    from import_offline_exports e join import_offline_configurations c on c.offline_export_id = e.id
    where e.id = ${exportId}`;
  return row;
}

export interface StorageConfiguration {
  bucket: string;
  exportPrefix: string;
  provider: number;
  /** The encrypted jsonb; decrypted only inside the activity that needs it. */
  encryptedCredentials: unknown;
}

export async function findStorageConfiguration(sql: Db, exportId: number): Promise<StorageConfiguration | undefined> {
  const [row] = await sql<StorageConfiguration[]>`
    select bucket, export_prefix as "exportPrefix", provider, object_storage_credentials as "encryptedCredentials"
    from import_offline_configurations where offline_export_id = ${exportId}`;
  return row;
}

/** created -> started; a no-op when it already moved on. */
export async function markExportStarted(sql: Db, exportId: number): Promise<void> {
  await sql`
    update import_offline_exports set status = ${ExportStatus.STARTED}, updated_at = now()
    where id = ${exportId} and status = ${ExportStatus.CREATED}`;
}

/** started -> finished; returns the row's status afterwards. */
export async function markExportFinished(sql: Db, exportId: number, metadataKey: string): Promise<number | undefined> {
  const [row] = await sql<{ status: number }[]>`
    update import_offline_exports
    set status = case when status = ${ExportStatus.STARTED} then ${ExportStatus.FINISHED} else status end,
        metadata_object_key = coalesce(metadata_object_key, ${metadataKey}),
        completed_at = coalesce(completed_at, now()), updated_at = now()
    where id = ${exportId} returning status`;
  return row?.status;
}

/** any (not finished) -> failed, with the error; has_failures records it as GitLab's update_has_failures! does. */
export async function markExportFailed(sql: Db, exportId: number, error: string): Promise<void> {
  await sql`
    update import_offline_exports
    set status = ${ExportStatus.FAILED}, error = coalesce(error, ${error.slice(0, 255)}), has_failures = true,
        completed_at = coalesce(completed_at, now()), updated_at = now()
    where id = ${exportId} and status in (${ExportStatus.CREATED}, ${ExportStatus.STARTED})`;
}

/** Paths of the portables with at least one finished relation export (included_group/project_routes). */
export async function entitiesMapping(sql: Db, exportId: number): Promise<Record<string, string>> {
  const rows = await sql<{ path: string; prefix: string }[]>`
    select r.path, case when e.group_id is not null then 'group_' || e.group_id else 'project_' || e.project_id end as prefix
    from (select distinct group_id, project_id from bulk_import_exports
          where offline_export_id = ${exportId} and status = ${RelationStatus.FINISHED}) e
    join routes r on (e.group_id is not null and r.source_type = 'Namespace' and r.source_id = e.group_id)
                  or (e.project_id is not null and r.source_type = 'Project' and r.source_id = e.project_id)
    order by r.path`;
  return Object.fromEntries(rows.map((r) => [r.path, r.prefix]));
}

export interface NotificationRecipient {
  email: string;
  name: string;
  status: number;
  notifiedAt: Date | null;
}

export async function findNotificationRecipient(sql: Db, exportId: number): Promise<NotificationRecipient | undefined> {
  const [row] = await sql<NotificationRecipient[]>`
    select u.email, u.name, e.status, e.notified_at as "notifiedAt"
    from import_offline_exports e join users u on u.id = e.user_id where e.id = ${exportId}`;
  return row;
}

export async function markNotified(sql: Db, exportId: number): Promise<void> {
  await sql`update import_offline_exports set notified_at = coalesce(notified_at, now()) where id = ${exportId}`;
}

/** ConfigurationPurgeWorker: overwrite the credentials with {} (once). */
export async function purgeCredentials(sql: Db, exportId: number): Promise<boolean> {
  const rows = await sql`
    update import_offline_configurations
    set object_storage_credentials = '{}'::jsonb, credentials_purged_at = now(), updated_at = now()
    where offline_export_id = ${exportId} and credentials_purged_at is null`;
  return rows.count > 0;
}
