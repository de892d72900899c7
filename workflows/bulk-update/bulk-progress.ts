import type { BulkUpdateProgress, BulkUpdateRunState } from '../../contracts/bulk-update';

// The operation's state on a first run, and its progress as the query answers it and the Web UI shows it. Pure: no
// Temporal calls, so it is unit-tested without a server.

export function initialState(): BulkUpdateRunState {
  return {
    phase: 'starting',
    userId: 0,
    batchSize: 0,
    maxConcurrentBatches: 0,
    maxBatchesPerRun: 0,
    maxBatchesPerChild: 0,
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
}

export function progressOf(operationId: string, state: BulkUpdateRunState, batchesRunning: number): BulkUpdateProgress {
  return {
    operationId,
    phase: state.phase,
    tracked: state.tracked,
    collected: state.collected,
    totalItems: state.totalItems,
    successfulItems: state.successfulItems,
    failedItems: state.failedItems,
    batchCount: state.batchCount,
    batchesDone: state.batchesDone,
    batchesRunning,
    runs: state.runs,
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The Markdown the Web UI shows as the workflow's current details. */
export function describe(state: BulkUpdateRunState, batchesRunning: number): string {
  switch (state.phase) {
    case 'starting':
      return 'Loading the request';
    case 'collecting':
      return `Collecting the projects the user can read: ${fmt(state.collected)} so far (after project id ${state.afterProjectId})`;
    case 'planning':
      return `Collected ${fmt(state.collected)} projects; planning batches of ${state.batchSize}`;
    case 'processing':
      return (
        `**Updating ${fmt(state.totalItems)} projects** (${state.tracked ? 'tracked in Redis, failure email on' : 'notifications flag off: no tracking, no email'})\n\n` +
        `- batches: ${state.batchesDone} of ${state.batchCount} done, ${batchesRunning} running\n` +
        `- successful: ${fmt(state.successfulItems)}, failed: ${fmt(state.failedItems)}\n` +
        `- run ${state.runs + 1} of this workflow (continues as new every ${state.maxBatchesPerRun} batches)`
      );
    case 'notifying':
      return `All ${state.batchCount} batches done (${fmt(state.successfulItems)} successful, ${fmt(state.failedItems)} failed); sending the report and cleaning up`;
    case 'finished':
      return `Finished: ${fmt(state.totalItems)} projects, ${fmt(state.successfulItems)} successful, ${fmt(state.failedItems)} failed`;
  }
}
