import { CancellationScope, condition, ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import {
  BULK_OPERATION_ID,
  bulkUpdateBatchRangeWorkflowId,
  FAILED_RANGES_PATCH,
  GITLAB_USER_ID,
  WORKFLOW_KIND,
  WORKFLOW_KIND_BULK_UPDATE_BATCH,
  type BulkUpdateRunState,
} from '../../contracts/bulk-update';
import { dbShort } from './activity-profiles';
import { BulkUpdateBatchWorkflow } from './batch.workflow';

/**
 * The range children in flight (a sliding window). Each finished range adds its counts to the run state. A range
 * whose child fails for good has its unprocessed projects failed as unexpected errors (FAILED_RANGES_PATCH) and
 * counts like any other; the other ranges go on. Only a cancellation of the operation itself (or, in runs started
 * before the patch, any child failure) is kept as `failure`, and the workflow stops starting ranges once it sees it.
 */
export class BatchWindow {
  /** Children in flight, and the batches they hold. */
  running = 0;
  runningBatches = 0;
  failure: unknown;

  constructor(
    private readonly operationId: string,
    private readonly state: BulkUpdateRunState,
    private readonly onChange: () => void,
  ) {}

  /** Starts the child of batches first..last (the caller has waited for a free slot). */
  start(first: number, last: number): void {
    const { operationId, state } = this;
    const batches = last - first + 1;
    this.running++;
    this.runningBatches += batches;
    void (async () => {
      try {
        const child = await startChild(BulkUpdateBatchWorkflow, {
          workflowId: bulkUpdateBatchRangeWorkflowId(operationId, first, last),
          args: [{ operationId, batchNumber: first, lastBatchNumber: last }],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          staticSummary: `Batches ${first + 1}-${last + 1} of ${state.batchCount} of bulk operation ${operationId}`,
          typedSearchAttributes: [
            { key: BULK_OPERATION_ID, value: operationId },
            { key: GITLAB_USER_ID, value: state.userId },
            { key: WORKFLOW_KIND, value: WORKFLOW_KIND_BULK_UPDATE_BATCH },
          ],
        });
        const result = await child.result();
        state.batchesDone += batches;
        state.successfulItems += result.successful;
        state.failedItems += result.failed;
      } catch (err) {
        if (CancellationScope.current().consideredCancelled || !patched(FAILED_RANGES_PATCH)) {
          this.failure ??= err;
        } else {
          await this.failRange(first, last, err);
        }
      } finally {
        this.running--;
        this.runningBatches -= batches;
        this.onChange();
      }
    })();
  }

  /** Records the range's unprocessed projects as failed items, GitLab-style, and adds the range's counts. */
  private async failRange(first: number, last: number, err: unknown): Promise<void> {
    const { operationId, state } = this;
    try {
      const r = await dbShort.failUnprocessedBulkUpdateBatches({
        operationId,
        batchNumber: first,
        lastBatchNumber: last,
        errorMessage: failureMessage(err),
      });
      state.batchesDone += last - first + 1;
      state.successfulItems += r.successful;
      state.failedItems += r.failed;
    } catch (recordErr) {
      // The operation is gone (a permanent refusal): nothing is left to record into.
      this.failure ??= recordErr;
    }
  }

  freeSlot(): Promise<void> {
    return condition(() => this.running < this.state.maxConcurrentBatches);
  }

  drain(): Promise<void> {
    return condition(() => this.running === 0);
  }
}

/**
 * The innermost message of a child's failure (the activity's error, the termination reason, the timeout), one line
 * and bounded, as GitLab records an exception's message against each project it could not update.
 */
export function failureMessage(err: unknown): string {
  let message = 'Unknown error';
  for (let e: unknown = err; e !== undefined && e !== null; e = e instanceof Error ? e.cause : undefined) {
    const line = (e instanceof Error ? e.message : typeof e === 'string' ? e : '').split('\n')[0]?.trim();
    if (line) message = line;
  }
  return message.length > 500 ? `${message.slice(0, 497)}...` : message;
}
