import type { OperationStatus } from './operation-status';

/** A failed project as the API shows it (GitLab's failed item of a background operation). */
export interface FailedItemEntity {
  entity_type: 'Project';
  entity_id: number;
  entity_full_path?: string;
  error_message: string;
  errors: string[];
  error_code: string;
}

/** A durable outcome row (db/bulk-update) as the API's failed item: one mapping for the API and the CLI. */
export function toFailedItemEntity(f: {
  projectId: number;
  entityFullPath: string | null;
  errorMessage: string | null;
  errorDetails: string[];
  errorCode: string | null;
}): FailedItemEntity {
  return {
    entity_type: 'Project',
    entity_id: f.projectId,
    ...(f.entityFullPath !== null ? { entity_full_path: f.entityFullPath } : {}),
    error_message: f.errorMessage ?? 'Unknown error',
    errors: f.errorDetails,
    error_code: f.errorCode ?? 'unexpected_error',
  };
}

/** An operation read from its workflow (the Redis record is gone) as the API shows it. */
export function workflowOperationEntity<F>(id: string, s: OperationStatus, failures: F[]) {
  return {
    id,
    operation_type: s.operationType,
    status: s.state,
    ...(s.phase ? { phase: s.phase } : {}),
    source: 'workflow' as const,
    total_items: s.totalItems,
    successful_items: s.successfulItems,
    failed_items: s.failedItems,
    ...(s.batchesDone !== undefined ? { batches_done: s.batchesDone } : {}),
    ...(s.done ? { notification: s.notification ?? null } : {}),
    // Redis forgets the failed items when the operation ends; the durable outcomes still have them.
    failures,
    workflow_id: s.workflowId,
  };
}
