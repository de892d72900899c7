import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { findOperation } from '../../db/bulk-update/operations';
import type { Db } from '../../db/sql';
import { OperationNotFoundError } from './operation-status';
import { operationStateOf } from './workflow-state';

// Cancelling a bulk update, for the API and the CLI. Projects already updated stay updated (GitLab's operations
// cannot be undone either); the batch in hand finishes whole and no further batch starts.

/** The operation has ended (finished, failed, cancelled, terminated): nothing to cancel. */
export class OperationNotCancellableError extends Error {
  constructor(operationId: string, reason: string) {
    super(`Background operation ${operationId} cannot be cancelled: ${reason}`);
    this.name = 'OperationNotCancellableError';
  }
}

/**
 * Requests cancellation of the user's running operation. Someone else's operation, or one whose workflow is gone,
 * is "not found" (OperationNotFoundError), as for reads.
 */
export async function cancelOperation(
  deps: { sql: Db; temporal: Pick<Client, 'workflow'> },
  operationId: string,
  userId: number,
): Promise<{ id: string; status: 'cancel_requested' }> {
  const record = await findOperation(deps.sql, operationId);
  if (!record || record.userId !== userId) throw new OperationNotFoundError(operationId);
  if (record.status === 'finished' || record.status === 'failed') {
    throw new OperationNotCancellableError(operationId, `it has already ${record.status}`);
  }
  const handle = deps.temporal.workflow.getHandle(record.workflowId);
  try {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') {
      throw new OperationNotCancellableError(operationId, `its workflow is ${operationStateOf(status.name)}`);
    }
    await handle.cancel();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    // Gone before describe: unknown, as GET answers. Gone between describe and cancel: it has just closed.
    const again = await handle.describe().catch(() => undefined);
    if (!again) throw new OperationNotFoundError(operationId);
    throw new OperationNotCancellableError(operationId, `its workflow is ${operationStateOf(again.status.name)}`);
  }
  return { id: operationId, status: 'cancel_requested' };
}
