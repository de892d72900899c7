import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BulkUpdateActivities } from '../../activities/bulk-update/index';
import { BulkUpdateBatchWorkflow } from './batch.workflow';
import {
  BATCH_RANGES_PATCH,
  BULK_OPERATION_ID,
  bulkUpdateBatchRangeWorkflowId,
  bulkUpdateBatchWorkflowId,
  bulkUpdateProgressQuery,
  BulkUpdateErrorType,
  checkBulkUpdateWorkflowInput,
  COLLECT_PAGE_SIZE,
  GITLAB_USER_ID,
  MAX_BATCHES_PER_CHILD,
  MAX_BATCHES_PER_RUN,
  nextRangeSize,
  WORKFLOW_KIND,
  WORKFLOW_KIND_BULK_UPDATE,
  WORKFLOW_KIND_BULK_UPDATE_BATCH,
  type BulkUpdateProgress,
  type BulkUpdateRunState,
  type BulkUpdateWorkflowInput,
  type BulkUpdateWorkflowResult,
  type NotificationOutcome,
} from '../../contracts/bulk-update';

// --- Activity profiles ---

// Short PostgreSQL/Redis steps: idempotent, so retried until the stores are back.
const dbShort = proxyActivities<BulkUpdateActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// The report: enough attempts to outlast the notification lease (5 min) after a crash mid-send; a refused
// message stops at once.
const email = proxyActivities<BulkUpdateActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 12,
    nonRetryableErrorTypes: [BulkUpdateErrorType.EmailRejected, BulkUpdateErrorType.OperationNotFound],
  },
});

// --- Helpers ---

const fmt = (n: number) => n.toLocaleString('en-US');

function describe(state: BulkUpdateRunState, running: number): string {
  switch (state.phase) {
    case 'starting':
      return 'Loading the request';
    case 'collecting':
      return `Collecting the projects the user can read: ${fmt(state.collected)} so far (after project id ${state.afterProjectId})`;
    case 'planning':
      return `Collected ${fmt(state.collected)} projects; planning batches of ${state.batchSize}`;
    case 'processing':
      return (
        `**Updating ${fmt(state.totalItems)} projects** (${state.tracked ? 'tracked in Redis, failure email on' : 'legacy path: no tracking, no email'})\n\n` +
        `- batches: ${state.batchesDone} of ${state.batchCount} done, ${running} running\n` +
        `- successful: ${fmt(state.successfulItems)}, failed: ${fmt(state.failedItems)}\n` +
        `- run ${state.runs + 1} of this workflow (continues as new every ${state.maxBatchesPerRun ?? MAX_BATCHES_PER_RUN} batches)`
      );
    case 'notifying':
      return `All ${state.batchCount} batches done (${fmt(state.successfulItems)} successful, ${fmt(state.failedItems)} failed); sending the report and cleaning up`;
    case 'finished':
      return `Finished: ${fmt(state.totalItems)} projects, ${fmt(state.successfulItems)} successful, ${fmt(state.failedItems)} failed`;
  }
}

/**
 * A permanent refusal from an activity (unknown operation, finished operation) becomes the workflow's own
 * failure with the same type and message, so `temporal workflow show` and the Web UI say why at the top level.
 */
function surfacePermanent(err: unknown): Error {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) {
    return ApplicationFailure.create({ type: err.cause.type ?? undefined, message: err.cause.message, nonRetryable: true });
  }
  return err instanceof Error ? err : new Error(String(err));
}

// --- Workflow ---

/**
 * BulkUpdateSchedulerWorker as a workflow: collects the projects page by page into PostgreSQL, plans batches,
 * runs batch children in a sliding window, and, once every batch has finished (it knows; no "last batch"
 * detection), sends the failure report and deletes the Redis keys. Only ids, cursors and counters ever enter
 * the history; it continues as new every MAX_BATCHES_PER_RUN batches.
 */
export async function BulkUpdateWorkflow(input: BulkUpdateWorkflowInput): Promise<BulkUpdateWorkflowResult> {
  const problem = checkBulkUpdateWorkflowInput(input);
  if (problem) {
    throw ApplicationFailure.create({ type: BulkUpdateErrorType.InvalidWorkflowInput, message: problem, nonRetryable: true });
  }
  const { operationId } = input;
  /** Child workflows in flight, and the batches they hold (the same before BATCH_RANGES_PATCH). */
  let running = 0;
  let runningBatches = 0;
  const state: BulkUpdateRunState = input.state
    ? { ...input.state }
    : {
        phase: 'starting',
        userId: 0,
        batchSize: 0,
        maxConcurrentBatches: 0,
        afterProjectId: 0,
        collected: 0,
        tracked: false,
        totalItems: 0,
        batchCount: 0,
        nextBatch: 0,
        batchesDone: 0,
        successfulItems: 0,
        failedItems: 0,
        runs: 0,
      };
  const progress = (): BulkUpdateProgress => ({
    operationId,
    phase: state.phase,
    tracked: state.tracked,
    collected: state.collected,
    totalItems: state.totalItems,
    successfulItems: state.successfulItems,
    failedItems: state.failedItems,
    batchCount: state.batchCount,
    batchesDone: state.batchesDone,
    batchesRunning: runningBatches,
    runs: state.runs,
  });
  setHandler(bulkUpdateProgressQuery, progress);
  const show = () => setCurrentDetails(describe(state, runningBatches));
  show();

  if (state.phase === 'starting') {
    let start;
    try {
      start = await dbShort.startBulkUpdateRun({ operationId, workflowId: workflowInfo().workflowId });
    } catch (err) {
      throw surfacePermanent(err);
    }
    state.userId = start.userId;
    state.batchSize = start.batchSize;
    state.maxConcurrentBatches = start.maxConcurrentBatches;
    state.maxBatchesPerRun = start.maxBatchesPerRun;
    // Absent from the results of activities that ran before BATCH_RANGES_PATCH (they replay with it unset).
    state.maxBatchesPerChild = start.maxBatchesPerChild;
    state.phase = 'collecting';
  }
  // Started by startBulkUpdate they are set already; from the CLI they are not.
  if (!workflowInfo().typedSearchAttributes.get(BULK_OPERATION_ID) || !workflowInfo().typedSearchAttributes.get(GITLAB_USER_ID)) {
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
    state.totalItems = plan.totalItems;
    state.batchCount = plan.batchCount;
    state.tracked = plan.tracked;
    // GitLab schedules nothing (and creates no operation) when no readable project remains.
    if (state.tracked && state.totalItems > 0) await dbShort.createBulkUpdateTracking({ operationId });
    state.phase = 'processing';
  }

  if (state.phase === 'processing') {
    // Decided once per run: a run that started its batches one child each before the patch replays that way to its
    // end; its next run (continue-as-new) and every new run give each child a range of batches.
    const batchRanges = patched(BATCH_RANGES_PATCH);
    const maxBatchesPerRun = state.maxBatchesPerRun ?? MAX_BATCHES_PER_RUN;
    let batchFailure: unknown;
    let startedThisRun = 0;
    const runBatches = async (first: number, last: number) => {
      const batches = last - first + 1;
      try {
        const child = await startChild(BulkUpdateBatchWorkflow, {
          workflowId: batchRanges ? bulkUpdateBatchRangeWorkflowId(operationId, first, last) : bulkUpdateBatchWorkflowId(operationId, first),
          args: [batchRanges ? { operationId, batchNumber: first, lastBatchNumber: last } : { operationId, batchNumber: first }],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          staticSummary: batchRanges
            ? `Batches ${first + 1}-${last + 1} of ${state.batchCount} of bulk operation ${operationId}`
            : `Batch ${first + 1} of ${state.batchCount} of bulk operation ${operationId}`,
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
        batchFailure ??= err;
      } finally {
        running--;
        runningBatches -= batches;
        show();
      }
    };

    while (state.nextBatch < state.batchCount && batchFailure === undefined) {
      if (startedThisRun >= maxBatchesPerRun || workflowInfo().continueAsNewSuggested) {
        // Drain the window first, so the next run starts with no children in flight and every batch below
        // nextBatch is finished.
        await condition(() => running === 0);
        if (batchFailure === undefined) await continueAsNewNow();
        break;
      }
      await condition(() => running < state.maxConcurrentBatches);
      const first = state.nextBatch;
      const size = batchRanges
        ? nextRangeSize(
            Math.min(state.batchCount - first, maxBatchesPerRun - startedThisRun),
            state.maxConcurrentBatches,
            state.maxBatchesPerChild ?? MAX_BATCHES_PER_CHILD,
          )
        : 1;
      running++;
      runningBatches += size;
      startedThisRun += size;
      state.nextBatch += size;
      void runBatches(first, first + size - 1);
      show();
    }
    await condition(() => running === 0);
    if (batchFailure !== undefined) {
      await dbShort.cleanupBulkUpdateTracking({ operationId });
      await dbShort.finishBulkUpdate({ operationId, status: 'failed' });
      throw ApplicationFailure.create({
        type: 'BulkOperationBatchFailed',
        message: `A batch of bulk operation ${operationId} failed; the operation stopped`,
        nonRetryable: true,
        cause: batchFailure instanceof Error ? batchFailure : undefined,
      });
    }
    state.phase = 'notifying';
  }

  let notification: NotificationOutcome = 'not_needed';
  if (state.phase === 'notifying') {
    show();
    if (state.tracked && state.totalItems > 0) {
      try {
        notification = (await email.notifyBulkUpdateFailures({ operationId })).notification;
      } catch {
        // The report could not be delivered; the updates stand and the operation still finishes.
        notification = 'failed';
      }
      await dbShort.cleanupBulkUpdateTracking({ operationId });
    }
    const counts = await dbShort.finishBulkUpdate({ operationId, status: 'finished' });
    state.totalItems = counts.totalItems;
    state.successfulItems = counts.successfulItems;
    state.failedItems = counts.failedItems;
    state.phase = 'finished';
  }
  show();
  return {
    operationId,
    tracked: state.tracked,
    totalItems: state.totalItems,
    successfulItems: state.successfulItems,
    failedItems: state.failedItems,
    batchCount: state.batchCount,
    notification,
    runs: state.runs + 1,
  };
}
