import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  deprecatePatch,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  BATCH_RANGES_PATCH,
  BULK_OPERATION_ID,
  bulkUpdateProgressQuery,
  BulkUpdateErrorType,
  checkBulkUpdateWorkflowInput,
  COLLECT_PAGE_SIZE,
  GITLAB_USER_ID,
  nextRangeSize,
  WORKFLOW_KIND,
  WORKFLOW_KIND_BULK_UPDATE,
  type BulkUpdateRunState,
  type BulkUpdateWorkflowInput,
  type BulkUpdateWorkflowResult,
  type NotificationOutcome,
} from '../../contracts/bulk-update';
import { dbShort, email, surfacePermanent } from './activity-profiles';
import { BatchWindow } from './batch-window';
import { describe, initialState, progressOf } from './bulk-progress';

/**
 * BulkUpdateSchedulerWorker as a workflow: collects the projects page by page into PostgreSQL, plans batches,
 * runs children over ranges of batches in a sliding window, and, once every batch has finished (it knows; no "last
 * batch" detection), sends the failure report and deletes the Redis keys. Only ids, cursors and counters ever
 * enter the history; it continues as new every maxBatchesPerRun batches.
 */
export async function BulkUpdateWorkflow(input: BulkUpdateWorkflowInput): Promise<BulkUpdateWorkflowResult> {
  const problem = checkBulkUpdateWorkflowInput(input);
  if (problem) {
    throw ApplicationFailure.create({
      type: BulkUpdateErrorType.InvalidWorkflowInput,
      message: problem,
      nonRetryable: true,
    });
  }
  const { operationId } = input;
  const state: BulkUpdateRunState = input.state ? { ...input.state } : initialState();
  const show = () => setCurrentDetails(describe(state, window.runningBatches));
  const window = new BatchWindow(operationId, state, show);
  setHandler(bulkUpdateProgressQuery, () => progressOf(operationId, state, window.runningBatches));
  show();

  if (state.phase === 'starting') {
    const start = await dbShort
      .startBulkUpdateRun({ operationId, workflowId: workflowInfo().workflowId })
      .catch((err: unknown) => {
        throw surfacePermanent(err);
      });
    Object.assign(state, {
      userId: start.userId,
      batchSize: start.batchSize,
      maxConcurrentBatches: start.maxConcurrentBatches,
      maxBatchesPerRun: start.maxBatchesPerRun,
      maxBatchesPerChild: start.maxBatchesPerChild,
      phase: 'collecting',
    });
  }
  // Started by startBulkUpdate they are set already; from the Temporal CLI they are not.
  if (
    !workflowInfo().typedSearchAttributes.get(BULK_OPERATION_ID) ||
    !workflowInfo().typedSearchAttributes.get(GITLAB_USER_ID)
  ) {
    upsertSearchAttributes([
      { key: BULK_OPERATION_ID, value: operationId },
      { key: GITLAB_USER_ID, value: state.userId },
      { key: WORKFLOW_KIND, value: WORKFLOW_KIND_BULK_UPDATE },
    ]);
  }
  const continueAsNewNow = async (): Promise<never> => {
    await condition(allHandlersFinished);
    return continueAsNew<typeof BulkUpdateWorkflow>({ operationId, state: { ...state, runs: state.runs + 1 } });
  };

  while (state.phase === 'collecting') {
    show();
    if (workflowInfo().continueAsNewSuggested) await continueAsNewNow();
    const page = await dbShort.collectBulkUpdateProjects({
      operationId,
      afterProjectId: state.afterProjectId,
      pageSize: COLLECT_PAGE_SIZE,
    });
    state.collected += page.count;
    state.afterProjectId = page.lastProjectId;
    if (page.done) state.phase = 'planning';
  }

  if (state.phase === 'planning') {
    show();
    const plan = await dbShort.planBulkUpdateBatches({ operationId, batchSize: state.batchSize });
    Object.assign(state, {
      totalItems: plan.totalItems,
      batchCount: plan.batchCount,
      tracked: plan.tracked,
      phase: 'processing',
    });
    // GitLab schedules nothing (and creates no operation) when no readable project remains.
    if (state.tracked && state.totalItems > 0) await dbShort.createBulkUpdateTracking({ operationId });
  }

  if (state.phase === 'processing') {
    // The one-child-per-batch shape this patch replaced is gone; histories recorded with its marker still replay.
    deprecatePatch(BATCH_RANGES_PATCH);
    let startedThisRun = 0;
    while (state.nextBatch < state.batchCount && window.failure === undefined) {
      if (startedThisRun >= state.maxBatchesPerRun || workflowInfo().continueAsNewSuggested) {
        // Drain the window first, so the next run starts with no children in flight and every batch below
        // nextBatch is finished.
        await window.drain();
        if (window.failure === undefined) await continueAsNewNow();
        break;
      }
      await window.freeSlot();
      const first = state.nextBatch;
      const left = Math.min(state.batchCount - first, state.maxBatchesPerRun - startedThisRun);
      const size = nextRangeSize(left, state.maxConcurrentBatches, state.maxBatchesPerChild);
      startedThisRun += size;
      state.nextBatch += size;
      window.start(first, first + size - 1);
      show();
    }
    await window.drain();
    if (window.failure !== undefined) {
      await dbShort.cleanupBulkUpdateTracking({ operationId });
      await dbShort.finishBulkUpdate({ operationId, status: 'failed' });
      throw ApplicationFailure.create({
        type: 'BulkOperationBatchFailed',
        message: `A batch of bulk operation ${operationId} failed; the operation stopped`,
        nonRetryable: true,
        cause: window.failure instanceof Error ? window.failure : undefined,
      });
    }
    state.phase = 'notifying';
  }

  let notification: NotificationOutcome = 'not_needed';
  if (state.phase === 'notifying') {
    show();
    if (state.tracked && state.totalItems > 0) {
      // An undeliverable report leaves the updates standing; the operation still finishes.
      notification = await email.notifyBulkUpdateFailures({ operationId }).then(
        (r) => r.notification,
        () => 'failed' as const,
      );
      await dbShort.cleanupBulkUpdateTracking({ operationId });
    }
    const { totalItems, successfulItems, failedItems } = await dbShort.finishBulkUpdate({
      operationId,
      status: 'finished',
    });
    Object.assign(state, { totalItems, successfulItems, failedItems, phase: 'finished' });
  }
  show();
  const { tracked, totalItems, successfulItems, failedItems, batchCount } = state;
  return {
    operationId,
    tracked,
    totalItems,
    successfulItems,
    failedItems,
    batchCount,
    notification,
    runs: state.runs + 1,
  };
}
