import { condition, ParentClosePolicy, startChild } from '@temporalio/workflow';
import {
  BULK_OPERATION_ID,
  bulkUpdateBatchRangeWorkflowId,
  GITLAB_USER_ID,
  WORKFLOW_KIND,
  WORKFLOW_KIND_BULK_UPDATE_BATCH,
  type BulkUpdateRunState,
} from '../../contracts/bulk-update';
import { BulkUpdateBatchWorkflow } from './batch.workflow';

/**
 * The range children in flight (a sliding window). Each finished range adds its counts to the run state; the first
 * failure is kept, and the workflow stops starting ranges once it sees it.
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
        this.failure ??= err;
      } finally {
        this.running--;
        this.runningBatches -= batches;
        this.onChange();
      }
    })();
  }

  freeSlot(): Promise<void> {
    return condition(() => this.running < this.state.maxConcurrentBatches);
  }

  drain(): Promise<void> {
    return condition(() => this.running === 0);
  }
}
