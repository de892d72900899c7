import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { BulkUpdateActivities } from '../../activities/bulk-update/index';
import {
  bulkUpdateProgressQuery,
  bulkUpdateWorkflowId,
  type BulkUpdateBatchInput,
  type BulkUpdateProgress,
} from '../../contracts/bulk-update';
import type { BulkUpdateWorkflow } from '../../workflows/bulk-update/bulk-update.workflow';
import { useLocalTemporal, workflowBundle } from '../helpers/local-temporal';

// BulkUpdateWorkflow's orchestration with fake activities: collection pages, ranges of batches in the window,
// continue-as-new, the report and the clean-up, and a range that fails for good. The activities themselves are tested against
// the stack in the other files of this folder.

jest.setTimeout(60_000);

const localTemporal = useLocalTemporal();

const operationId = () => `attribute_update_2_1712345678_${randomUUID().slice(0, 8)}`;

interface Options {
  batchCount: number;
  maxConcurrentBatches: number;
  maxBatchesPerChild: number;
  maxBatchesPerRun: number;
  failRange?: number;
}

function fakeOperation(o: Options) {
  const calls: Record<string, unknown[]> = {};
  const record = (name: string, input: unknown) => (calls[name] ??= []).push(input);
  let running = 0;
  let peak = 0;
  const activities: Partial<BulkUpdateActivities> = {
    async startBulkUpdateRun(input) {
      record('startBulkUpdateRun', input);
      return {
        userId: 2,
        batchSize: 5,
        maxConcurrentBatches: o.maxConcurrentBatches,
        maxBatchesPerRun: o.maxBatchesPerRun,
        maxBatchesPerChild: o.maxBatchesPerChild,
      };
    },
    async collectBulkUpdateProjects(input) {
      record('collectBulkUpdateProjects', input);
      // Two pages: the cursor must come back on the second call.
      return input.afterProjectId === 0
        ? { count: 3, lastProjectId: 30, done: false }
        : { count: o.batchCount * 5 - 3, lastProjectId: 90, done: true };
    },
    async planBulkUpdateBatches(input) {
      record('planBulkUpdateBatches', input);
      return { totalItems: o.batchCount * 5, batchCount: o.batchCount, tracked: true };
    },
    async createBulkUpdateTracking(input) {
      record('createBulkUpdateTracking', input);
      return { operationKey: `background_operation:${input.operationId}` };
    },
    async processBulkUpdateBatches(input: BulkUpdateBatchInput) {
      record('processBulkUpdateBatches', input);
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      if (o.failRange === input.batchNumber)
        throw ApplicationFailure.create({ type: 'Broken', message: 'range broke', nonRetryable: true });
      const batches = input.lastBatchNumber - input.batchNumber + 1;
      return {
        batchNumber: input.batchNumber,
        lastBatchNumber: input.lastBatchNumber,
        batches,
        projects: batches * 5,
        successful: batches * 4,
        failed: batches,
        appliedNow: batches * 5,
      };
    },
    async failUnprocessedBulkUpdateBatches(input) {
      record('failUnprocessedBulkUpdateBatches', input);
      // Of each failed batch's five projects, one had succeeded before the range broke: four fail now.
      const batches = input.lastBatchNumber - input.batchNumber + 1;
      return {
        batchNumber: input.batchNumber,
        lastBatchNumber: input.lastBatchNumber,
        projects: batches * 5,
        successful: batches,
        failed: batches * 4,
        failedNow: batches * 4,
      };
    },
    async notifyBulkUpdateFailures(input) {
      record('notifyBulkUpdateFailures', input);
      return { notification: 'sent', failedItems: o.batchCount };
    },
    async cleanupBulkUpdateTracking(input) {
      record('cleanupBulkUpdateTracking', input);
      return { deleted: true };
    },
    async finishBulkUpdate(input) {
      record('finishBulkUpdate', input);
      return { totalItems: o.batchCount * 5, successfulItems: o.batchCount * 4, failedItems: o.batchCount };
    },
  };
  return { calls, activities, peak: () => peak };
}

async function run(fake: ReturnType<typeof fakeOperation>, id: string) {
  const taskQueue = `unit-${randomUUID()}`;
  const worker = await Worker.create({
    connection: localTemporal().nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: fake.activities,
  });
  return worker.runUntil(async () => {
    const handle = await localTemporal().client.workflow.start<typeof BulkUpdateWorkflow>('BulkUpdateWorkflow', {
      taskQueue,
      workflowId: bulkUpdateWorkflowId(id),
      args: [{ operationId: id }],
    });
    const outcome = await handle.result().catch((err: unknown) => err);
    return { outcome, continuedAsNew: (await handle.describe()).runId !== handle.firstExecutionRunId };
  });
}

describe('BulkUpdateWorkflow with fake activities', () => {
  it('covers every batch once in ranges of at most maxBatchesPerChild, within the window, then reports and cleans up', async () => {
    const fake = fakeOperation({
      batchCount: 23,
      maxConcurrentBatches: 3,
      maxBatchesPerChild: 4,
      maxBatchesPerRun: 10,
    });
    const id = operationId();
    const { outcome, continuedAsNew } = await run(fake, id);

    const ranges = (fake.calls.processBulkUpdateBatches as BulkUpdateBatchInput[]).map(
      (r) => [r.batchNumber, r.lastBatchNumber] as const,
    );
    const covered = ranges
      .flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i))
      .sort((x, y) => x - y);
    expect(covered).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(ranges.every(([a, b]) => b - a + 1 <= 4)).toBe(true);
    expect(fake.peak()).toBeLessThanOrEqual(3);
    // 10 batches per run: 23 batches take three runs.
    expect(continuedAsNew).toBe(true);
    expect(outcome).toMatchObject({
      operationId: id,
      tracked: true,
      totalItems: 115,
      successfulItems: 92,
      failedItems: 23,
      batchCount: 23,
      notification: 'sent',
      runs: 3,
    });
    expect(fake.calls.collectBulkUpdateProjects).toEqual([
      { operationId: id, afterProjectId: 0, pageSize: 2000 },
      { operationId: id, afterProjectId: 30, pageSize: 2000 },
    ]);
    expect(fake.calls.createBulkUpdateTracking).toHaveLength(1);
    expect(fake.calls.notifyBulkUpdateFailures).toHaveLength(1);
    expect(fake.calls.cleanupBulkUpdateTracking).toHaveLength(1);
    expect(fake.calls.finishBulkUpdate).toEqual([{ operationId: id, status: 'finished' }]);
  });

  it('a range that fails for good does not stop the operation: its projects fail, the others go on, counts exact', async () => {
    const fake = fakeOperation({
      batchCount: 6,
      maxConcurrentBatches: 2,
      maxBatchesPerChild: 1,
      maxBatchesPerRun: 100,
      failRange: 1,
    });
    const id = operationId();
    const { outcome } = await run(fake, id);
    const ranges = (fake.calls.processBulkUpdateBatches as BulkUpdateBatchInput[]).map((r) => r.batchNumber);
    expect([...new Set(ranges)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    // The failed range's unprocessed projects are failed once, with the failure's own message.
    expect(fake.calls.failUnprocessedBulkUpdateBatches).toEqual([
      { operationId: id, batchNumber: 1, lastBatchNumber: 1, errorMessage: 'range broke' },
    ]);
    expect(outcome).toMatchObject({ operationId: id, notification: 'sent', batchCount: 6 });
    expect(fake.calls.notifyBulkUpdateFailures).toHaveLength(1);
    expect(fake.calls.cleanupBulkUpdateTracking).toHaveLength(1);
    expect(fake.calls.finishBulkUpdate).toEqual([{ operationId: id, status: 'finished' }]);
  });

  it('counts a failed range like any other: its projects as recorded, every batch done', async () => {
    const fake = fakeOperation({
      batchCount: 6,
      maxConcurrentBatches: 1,
      maxBatchesPerChild: 1,
      maxBatchesPerRun: 100,
      failRange: 3,
    });
    const id = operationId();
    // What the progress query says once every batch is done (the report is being sent).
    let atReport: BulkUpdateProgress | undefined;
    fake.activities.notifyBulkUpdateFailures = async () => {
      atReport = await localTemporal()
        .client.workflow.getHandle(bulkUpdateWorkflowId(id))
        .query(bulkUpdateProgressQuery);
      return { notification: 'sent', failedItems: 9 };
    };
    await run(fake, id);
    // Five good ranges of 4 successful + 1 failed, and the failed one: 1 had succeeded, 4 failed now.
    expect(atReport).toMatchObject({
      phase: 'notifying',
      totalItems: 30,
      successfulItems: 21,
      failedItems: 9,
      batchesDone: 6,
      batchesRunning: 0,
    });
  });

  it('an undeliverable report still finishes the operation', async () => {
    const fake = fakeOperation({
      batchCount: 2,
      maxConcurrentBatches: 2,
      maxBatchesPerChild: 2,
      maxBatchesPerRun: 100,
    });
    fake.activities.notifyBulkUpdateFailures = async () => {
      throw ApplicationFailure.create({
        type: 'BulkOperationEmailRejected',
        message: 'mailbox unavailable',
        nonRetryable: true,
      });
    };
    const id = operationId();
    const { outcome } = await run(fake, id);
    expect(outcome).toMatchObject({ notification: 'failed', totalItems: 10 });
    expect(fake.calls.cleanupBulkUpdateTracking).toHaveLength(1);
    expect(fake.calls.finishBulkUpdate).toEqual([{ operationId: id, status: 'finished' }]);
  });
});
