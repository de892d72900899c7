import type { OfflineExportRow } from '../../db/offline-export/exports-read';
import { EXPORT_STATUS_NAMES } from '../../db/offline-export/statuses';

/** GitLab's Entities::Import::Offline::Export: what the API returns for an export. No credentials, ever. */
export interface OfflineExportEntity {
  id: number;
  status: 'created' | 'started' | 'finished' | 'failed';
  source_hostname: string;
  created_at: string;
  updated_at: string;
  has_failures: boolean;
  bucket: string;
  export_prefix: string;
}

export function toEntity(row: OfflineExportRow): OfflineExportEntity {
  return {
    id: row.id,
    status: EXPORT_STATUS_NAMES[row.status],
    source_hostname: row.source_hostname,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    has_failures: row.has_failures,
    bucket: row.bucket,
    export_prefix: row.export_prefix,
  };
}
