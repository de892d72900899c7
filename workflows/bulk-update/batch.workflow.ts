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
} from './definitions';

// One batch of projects. The activity records each project's outcome with its change, so retries are free:
// unlimited attempts, and a short heartbeat timeout so a batch whose worker died moves to another worker fast.
const batchActivity = proxyActivities<BulkUpdateActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

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
  setCurrentDetails(`Updating the projects of batch ${input.batchNumber} of operation \`${input.operationId}\``);
  const result = await batchActivity.processBulkUpdateBatch(input);
  setCurrentDetails(
    `Batch ${input.batchNumber} done: ${result.projects} projects, ${result.successful} successful, ${result.failed} failed` +
      (result.appliedNow < result.projects ? ` (${result.projects - result.appliedNow} already done by an earlier attempt)` : ''),
  );
  return result;
}
