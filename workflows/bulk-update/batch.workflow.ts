import { ApplicationFailure, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  BULK_OPERATION_ID,
  BulkUpdateErrorType,
  checkBulkUpdateBatchInput,
  WORKFLOW_KIND,
  WORKFLOW_KIND_BULK_UPDATE_BATCH,
  type BulkUpdateBatchInput,
  type BulkUpdateBatchResult,
} from '../../contracts/bulk-update';
import { rangeActivity } from './activity-profiles';

/** A contiguous range of batches of one operation, processed in order by one activity. */
export async function BulkUpdateBatchWorkflow(input: BulkUpdateBatchInput): Promise<BulkUpdateBatchResult> {
  const problem = checkBulkUpdateBatchInput(input);
  if (problem) {
    throw ApplicationFailure.create({
      type: BulkUpdateErrorType.InvalidWorkflowInput,
      message: problem,
      nonRetryable: true,
    });
  }
  // Started by BulkUpdateWorkflow they are set already; by hand (the Temporal CLI) they are not.
  if (!workflowInfo().typedSearchAttributes.get(BULK_OPERATION_ID)) {
    upsertSearchAttributes([
      { key: BULK_OPERATION_ID, value: input.operationId },
      { key: WORKFLOW_KIND, value: WORKFLOW_KIND_BULK_UPDATE_BATCH },
    ]);
  }
  const range = `${input.batchNumber}-${input.lastBatchNumber}`;
  setCurrentDetails(
    `Updating the projects of batches ${range} of operation \`${input.operationId}\` (the activity's heartbeat says which batch)`,
  );
  const result = await rangeActivity.processBulkUpdateBatches(input);
  setCurrentDetails(
    `Batches ${range} done: ${result.projects} projects, ${result.successful} successful, ${result.failed} failed` +
      (result.appliedNow < result.projects
        ? ` (${result.projects - result.appliedNow} already done by an earlier attempt)`
        : ''),
  );
  return result;
}
