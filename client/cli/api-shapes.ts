// What the REST API answers (docs/api.md), as the CLI reads and prints it in both modes: snake_case, the API's
// names, so that `-o json` is the same whichever way the CLI reached the work.

export type { OfflineExportEntity } from '../offline-export/entity';

/** GET /offline_exports/:id/relations: one relation of one portable (GitLab's BulkImports::Export). */
export interface ExportRelation {
  portable_type: 'group' | 'project';
  portable_id: number;
  portable_full_path: string;
  relation: string;
  status: 'pending' | 'started' | 'finished' | 'failed';
  error: string | null;
  batched: boolean;
  batches_count: number;
  total_objects_count: number;
  updated_at: string;
}

/** A failed item of a bulk update (GET .../background_operations/:id/failed_items, and `failures` of GET :id). */
export interface FailedItem {
  entity_type: string;
  entity_id: number;
  entity_full_path?: string | null;
  error_message: string;
  errors: string[];
  error_code: string;
}

/** GET /security/background_operations/:id */
export interface BackgroundOperation {
  id: string;
  operation_type: string;
  status: string;
  phase?: string;
  source?: 'redis' | 'workflow';
  total_items: number;
  successful_items: number;
  failed_items: number;
  batches_done?: number;
  notification?: unknown;
  failures?: FailedItem[];
  workflow_id: string;
}

/** GET /security/background_operations: one of the caller's operations. */
export interface BackgroundOperationSummary {
  id: string;
  operation_type: string;
  status: string;
  total_items: number;
  successful_items: number;
  failed_items: number;
  created_at: string;
  workflow_id: string;
}

/** A bulk update that ended cancelled: Temporal's CANCELLED lower-cased, and the one-l spelling. */
export const OPERATION_CANCELLED = ['cancelled', 'canceled', 'terminated'];
/** Statuses after which a bulk update changes no more (from the workflow once Redis forgot it). */
export const OPERATION_DONE = ['finished', 'failed', 'timed_out', ...OPERATION_CANCELLED];
