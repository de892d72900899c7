import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { findOfflineExportForUser } from '../../db/offline-export/exports-read';
import type { Db } from '../../db/sql';
import { offlineExportWorkflowId } from '../../contracts/offline-export';
import { toEntity, type OfflineExportEntity } from './entity';

// Cancelling an export, for the API and the CLI: the request cancels the export's workflow, which aborts the
// uploads in flight, fails the unfinished rows and the export, and sends its one email (GitLab's cancel).

export class OfflineExportNotFoundError extends Error {
  constructor(exportId: number) {
    super(`export ${exportId} not found`);
    this.name = 'OfflineExportNotFoundError';
  }
}

/** The export has already ended (finished or failed), or its workflow is no longer running: nothing to cancel. */
export class OfflineExportNotCancellableError extends Error {
  constructor(exportId: number, reason: string) {
    super(`Export ${exportId} cannot be cancelled: ${reason}`);
    this.name = 'OfflineExportNotCancellableError';
  }
}

/**
 * Asks the workflow of the user's export to cancel, and returns the export as it stands (cancellation completes
 * asynchronously: the status turns to failed once the workflow has cleaned up). Someone else's export is "not
 * found", as for reads.
 */
export async function cancelOfflineExport(
  deps: { sql: Db; temporal: Pick<Client, 'workflow'> },
  userId: number,
  exportId: number,
): Promise<OfflineExportEntity> {
  const row = await findOfflineExportForUser(deps.sql, userId, exportId);
  if (!row) throw new OfflineExportNotFoundError(exportId);
  const entity = toEntity(row);
  if (entity.status === 'finished' || entity.status === 'failed') {
    throw new OfflineExportNotCancellableError(exportId, `it has already ${entity.status}`);
  }
  const handle = deps.temporal.workflow.getHandle(row.workflow_id ?? offlineExportWorkflowId(exportId));
  try {
    await handle.cancel();
  } catch (err) {
    // Temporal answers "not found" for a workflow that has already closed (or was never started).
    if (err instanceof WorkflowNotFoundError) {
      throw new OfflineExportNotCancellableError(exportId, 'its workflow is no longer running');
    }
    throw err;
  }
  return entity;
}
