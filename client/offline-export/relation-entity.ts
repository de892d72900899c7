import type { ExportRelationRow } from '../../db/offline-export/export-relations-read';

/** One relation of an export as the API shows it (GitLab's export relation status fields, with the portable). */
export function toRelationEntity(r: ExportRelationRow) {
  return {
    portable_type: r.portableType,
    portable_id: r.portableId,
    portable_full_path: r.portableFullPath,
    relation: r.relation,
    status: r.status,
    error: r.error,
    batched: r.batched,
    batches_count: r.batchesCount,
    total_objects_count: r.totalObjectsCount,
    updated_at: r.updatedAt.toISOString(),
  };
}
