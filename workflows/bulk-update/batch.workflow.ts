import { ApplicationFailure, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { BulkUpdateActivities } from '../../activities/bulk-update/index';
import {
  BULK_OPERATION_ID,
  BulkUpdateErrorType,
  checkBulkUpdateBatchInput,
  WORKFLOW_KIND,
  WORKFLOW_KIND_BULK_UPDATE_BATCH,
  type BulkUpdateBatchInput,
  type BulkUpdateBatchResult,
} from '../../contracts/bulk-update';

// One batch of projects. The activity records each project's outcome with its change, so retries are free:
// unlimited attempts, and a short heartbeat timeout so a batch whose worker died moves to another worker fast.
const batchActivity = proxyActivities<BulkUpdateActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// A range of batches (BATCH_RANGES_PATCH): one activity goes through them in order, heartbeating where it is, so
// its timeout is the heartbeat's (a dead worker) rather than a bound on the range's length.
const rangeActivity = proxyActivities<BulkUpdateActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * One batch (children started before BATCH_RANGES_PATCH: no lastBatchNumber) or a contiguous range of batches.
 * The path is chosen by the input, which a replayed history carries unchanged, so old children replay as before.
 */
export async function BulkUpdateBatchWorkflow(input: BulkUpdateBatchInput): Promise<BulkUpdateBatchResult> {
  const problem = checkBulkUpdateBatchInput(input);
  if (problem) {
    throw ApplicationFailure.create({ type: BulkUpdateErrorType.InvalidWorkflowInput, message: problem, nonRetryable: true });
  }
  if (!workflowInfo().typedSearchAttributes.get(BULK_OPERATION_ID)) {
    upsertSearchAttributes([
      { key: BULK_OPERATION_ID, value: input.operationId },
      { key: WORKFLOW_KIND, value: WORKFLOW_KIND_BULK_UPDATE_BATCH },
    ]);
  }
  const { lastBatchNumber } = input;
  if (lastBatchNumber !== undefined) {
    const range = `${input.batchNumber}-${lastBatchNumber}`;
    setCurrentDetails(`Updating the projects of batches ${range} of operation \`${input.operationId}\` (the activity's heartbeat says which batch)`);
    const result = await rangeActivity.processBulkUpdateBatches({ ...input, lastBatchNumber });
    setCurrentDetails(
      `Batches ${range} done: ${result.projects} projects, ${result.successful} successful, ${result.failed} failed` +
        (result.appliedNow < result.projects ? ` (${result.projects - result.appliedNow} already done by an earlier attempt)` : ''),
    );
    return result;
  }
  setCurrentDetails(`Updating the projects of batch ${input.batchNumber} of operation \`${input.operationId}\``);
  const result = await batchActivity.processBulkUpdateBatch(input);
  setCurrentDetails(
    `Batch ${input.batchNumber} done: ${result.projects} projects, ${result.successful} successful, ${result.failed} failed` +
      (result.appliedNow < result.projects ? ` (${result.projects - result.appliedNow} already done by an earlier attempt)` : ''),
  );
  return result;
}
