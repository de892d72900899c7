import { describe as describeState, initialState, progressOf } from '../../workflows/bulk-update/bulk-progress';

describe('bulk update progress', () => {
  const processing = {
    ...initialState(),
    phase: 'processing' as const,
    userId: 2,
    batchSize: 50,
    maxConcurrentBatches: 10,
    maxBatchesPerRun: 300,
    maxBatchesPerChild: 10,
    collected: 1200,
    totalItems: 1200,
    batchCount: 24,
    batchesDone: 10,
    successfulItems: 480,
    failedItems: 20,
    tracked: true,
    runs: 1,
  };

  it('answers the query with the run state and the batches running now', () => {
    expect(progressOf('op', processing, 4)).toEqual({
      operationId: 'op',
      phase: 'processing',
      tracked: true,
      collected: 1200,
      totalItems: 1200,
      successfulItems: 480,
      failedItems: 20,
      batchCount: 24,
      batchesDone: 10,
      batchesRunning: 4,
      runs: 1,
    });
  });

  it('shows each phase in words, with thousands separated', () => {
    expect(describeState(initialState(), 0)).toBe('Loading the request');
    expect(describeState({ ...processing, phase: 'collecting', collected: 12345, afterProjectId: 99 }, 0)).toBe(
      'Collecting the projects the user can read: 12,345 so far (after project id 99)',
    );
    expect(describeState(processing, 4)).toBe(
      '**Updating 1,200 projects** (tracked in Redis, failure email on)\n\n' +
        '- batches: 10 of 24 done, 4 running\n' +
        '- successful: 480, failed: 20\n' +
        '- run 2 of this workflow (continues as new every 300 batches)',
    );
    expect(describeState({ ...processing, tracked: false }, 0)).toContain(
      'notifications flag off: no tracking, no email',
    );
    expect(describeState({ ...processing, phase: 'finished' }, 0)).toBe(
      'Finished: 1,200 projects, 480 successful, 20 failed',
    );
  });
});
