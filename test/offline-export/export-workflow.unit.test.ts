import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { OfflineExportActivities } from '../../activities/offline-export/index';
import {
  SA_PORTABLE_FULL_PATHS,
  SA_WORKFLOW_KIND,
  WORKFLOW_KIND_CREDENTIALS_PURGE,
  chunkWorkflowId,
  credentialsPurgeWorkflowId,
  offlineExportChunkStatusQuery,
  offlineExportProgressQuery,
  offlineExportWorkflowId,
  type ChunkExportResult,
  type ExportLimits,
  type PortableChunk,
} from '../../contracts/offline-export';
import type { OfflineExportWorkflow } from '../../workflows/offline-export/export.workflow';
import { useLocalTemporal, workflowBundle } from '../helpers/local-temporal';

// OfflineExportWorkflow's orchestration with fake activities over an export of `portables` 'self' rows (ids 1..n):
// chunk planning, the window, continue-as-new, completion and cancellation. The activities' own behaviour is
// tested against the stack in the other files of this folder.

jest.setTimeout(60_000);

const localTemporal = useLocalTemporal();

type Calls = Record<string, unknown[]>;

function fakeExport(
  portables: number,
  limits: ExportLimits,
  chunk: (c: { afterSelfId: number; lastSelfId: number }) => Promise<ChunkExportResult>,
) {
  const calls: Calls = {};
  const record = (name: string, input: unknown) => {
    (calls[name] ??= []).push(input);
    (calls.order ??= []).push(name);
  };
  const done = (afterSelfId: number, lastSelfId: number): ChunkExportResult => ({
    portablesFinished: lastSelfId - afterSelfId,
    portablesFailed: 0,
    relationsFinished: (lastSelfId - afterSelfId) * 3,
    relationsFailed: 0,
    objectsWritten: (lastSelfId - afterSelfId) * 3,
    bytesWritten: 1000,
    recordsWritten: 10,
  });
  const activities: Partial<OfflineExportActivities> = {
    async loadExport(input) {
      record('loadExport', input);
      return { userId: 2, status: 'created', exportPrefix: 'prefix', limits };
    },
    async prepareExport(input) {
      record('prepareExport', input);
      return { portables, added: portables };
    },
    async nextPortableChunk(input) {
      record('nextPortableChunk', input);
      if (input.afterSelfId >= portables) return null;
      const lastSelfId = Math.min(portables, input.afterSelfId + input.maxPortables);
      const c: PortableChunk = {
        afterSelfId: input.afterSelfId,
        firstSelfId: input.afterSelfId + 1,
        lastSelfId,
        portables: lastSelfId - input.afterSelfId,
        firstPath: 'a',
        lastPath: 'b',
      };
      return c;
    },
    async exportPortableChunk(input) {
      record('exportPortableChunk', input);
      return chunk(input);
    },
    async failPortableChunk(input) {
      record('failPortableChunk', input);
      return {
        ...done(input.afterSelfId, input.lastSelfId),
        portablesFinished: 0,
        portablesFailed: input.lastSelfId - input.afterSelfId,
      };
    },
    async completeExport(input) {
      record('completeExport', input);
      return { status: 'finished', hasFailures: false, metadataKey: 'prefix/metadata.json.gz' } as Awaited<
        ReturnType<OfflineExportActivities['completeExport']>
      >;
    },
    async sendExportEmail(input) {
      record('sendExportEmail', input);
      return { sent: true };
    },
    async cancelExport(input) {
      record('cancelExport', input);
      return { rowsFailed: 1 };
    },
    async failExport(input) {
      record('failExport', input);
      return { rowsFailed: 1 };
    },
    async purgeExportCredentials(input) {
      record('purgeExportCredentials', input);
      return { purged: true };
    },
    // What the chunk child indexes: portable i is project i at "group/project-i", 'self' plus two relations.
    async chunkPortables(input) {
      record('chunkPortables', input);
      return Array.from({ length: input.lastSelfId - input.afterSelfId }, (_, i) => ({
        portableType: 'project' as const,
        portableId: input.afterSelfId + i + 1,
        fullPath: `group/project-${input.afterSelfId + i + 1}`,
        relations: { total: 3, finished: 0, failed: 0 },
      }));
    },
  };
  return { calls, activities, done };
}

async function withWorker<T>(
  activities: Partial<OfflineExportActivities>,
  run: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `unit-${randomUUID()}`;
  const worker = await Worker.create({
    connection: localTemporal().nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    // As the production worker: a cancellation reaches a heartbeating activity within a second or two.
    maxHeartbeatThrottleInterval: '1 second',
  });
  return worker.runUntil(run(taskQueue));
}

/** Runs one export to its end on a worker with the fakes; resolves with its result, or with what it failed with. */
async function runExport(activities: Partial<OfflineExportActivities>, exportId: number): Promise<unknown> {
  return withWorker(activities, (taskQueue) =>
    localTemporal()
      .client.workflow.execute<typeof OfflineExportWorkflow>('OfflineExportWorkflow', {
        taskQueue,
        workflowId: offlineExportWorkflowId(exportId),
        args: [{ exportId }],
      })
      .catch((err: unknown) => err),
  );
}

const newExportId = () => 1_000 + Math.floor(Math.random() * 1e6);

/** A chunk activity that runs until cancelled, then takes a moment to abort its uploads, and says so. */
const hangingChunk = (calls: () => Calls) => async () => {
  try {
    for (;;) {
      Context.current().heartbeat();
      await Context.current().sleep(50);
    }
  } catch (err) {
    await new Promise((r) => setTimeout(r, 200));
    (calls().order ??= []).push('chunkAborted');
    throw err;
  }
};
const limits: ExportLimits = {
  maxConcurrentRelations: 2,
  credentialsPurgeDelayMs: 50,
  portablesPerChunk: 3,
  maxConcurrentChunks: 2,
  chunksPerRun: 2,
};

describe('OfflineExportWorkflow with fake activities', () => {
  it('hands out chunks of portablesPerChunk, shares the last round among the window, continues as new, completes once', async () => {
    const fake = fakeExport(10, { ...limits, credentialsPurgeDelayMs: 1_000 }, async (c) =>
      fake.done(c.afterSelfId, c.lastSelfId),
    );
    const exportId = newExportId();
    const { result, runs, status, purgeCallsAtCompletion, progress, purged, purgeDescription } = await withWorker(
      fake.activities,
      async (taskQueue) => {
        const handle = await localTemporal().client.workflow.start<typeof OfflineExportWorkflow>(
          'OfflineExportWorkflow',
          {
            taskQueue,
            workflowId: offlineExportWorkflowId(exportId),
            args: [{ exportId }],
          },
        );
        const result = await handle.result();
        const description = await handle.describe();
        // The run completed before the purge: the credentials go in a workflow of their own, after the delay.
        const purgeCallsAtCompletion = fake.calls.purgeExportCredentials?.length ?? 0;
        const progress = await handle.query(offlineExportProgressQuery);
        const purge = localTemporal().client.workflow.getHandle(credentialsPurgeWorkflowId(exportId));
        const purged = await purge.result();
        const purgeDescription = await purge.describe();
        return {
          result,
          runs: description.runId === handle.firstExecutionRunId ? 1 : 2,
          status: description.status.name,
          purgeCallsAtCompletion,
          progress,
          purged,
          purgeDescription,
        };
      },
    );

    // 10 left > 3 x 2: chunks of 3 until what is left fits one round (4 <= 6), then 4 shared by 2: 2 and 2.
    const asked = (fake.calls.nextPortableChunk as { afterSelfId: number; maxPortables: number }[]).map((c) => [
      c.afterSelfId,
      c.maxPortables,
    ]);
    expect(asked).toEqual([
      [0, 3],
      [3, 3],
      [6, 2],
      [8, 2],
      [10, 2],
    ]);
    expect(fake.calls.exportPortableChunk).toHaveLength(4);
    // Two chunks per run: the first run continued as new.
    expect(runs).toBe(2);
    expect(result).toMatchObject({
      exportId,
      status: 'finished',
      totals: { portablesTotal: 10, portablesFinished: 10, portablesFailed: 0, relationsFinished: 30 },
    });
    expect(fake.calls.loadExport).toHaveLength(1);
    expect(fake.calls.prepareExport).toHaveLength(1);
    expect(fake.calls.completeExport).toHaveLength(1);
    expect(fake.calls.sendExportEmail).toHaveLength(1);
    expect(fake.calls.purgeExportCredentials).toEqual([{ exportId }]);
    expect(fake.calls.cancelExport).toBeUndefined();

    // Completed, not waiting: the purge is OfflineExportCredentialsPurgeWorkflow's, which fired after the delay.
    expect(status).toBe('COMPLETED');
    expect(purgeCallsAtCompletion).toBe(0);
    expect(progress).toMatchObject({
      phase: 'done',
      credentialsPurge: { workflowId: credentialsPurgeWorkflowId(exportId), delayMs: 1_000 },
    });
    expect(purged).toEqual({ exportId, purged: true });
    expect(purgeDescription.status.name).toBe('COMPLETED');
    expect(purgeDescription.type).toBe('OfflineExportCredentialsPurgeWorkflow');
    expect(purgeDescription.typedSearchAttributes.get(SA_WORKFLOW_KIND)).toBe(WORKFLOW_KIND_CREDENTIALS_PURGE);
    expect(purgeDescription.parentExecution?.workflowId).toBe(offlineExportWorkflowId(exportId));
    const waited = purgeDescription.closeTime!.getTime() - purgeDescription.startTime.getTime();
    expect(waited).toBeGreaterThanOrEqual(1_000);
  });

  it('a purge workflow already there (a repeated start) is taken as done: the export completes, no second purge', async () => {
    const fake = fakeExport(2, { ...limits, chunksPerRun: 10, credentialsPurgeDelayMs: 60_000 }, async (c) =>
      fake.done(c.afterSelfId, c.lastSelfId),
    );
    const exportId = newExportId();
    const { client } = localTemporal();
    const outcome = await withWorker(fake.activities, async (taskQueue) => {
      // As if an earlier run of this export had started it already.
      const first = await client.workflow.start('OfflineExportCredentialsPurgeWorkflow', {
        taskQueue,
        workflowId: credentialsPurgeWorkflowId(exportId),
        args: [{ exportId, delayMs: 60_000 }],
      });
      const result = await client.workflow.execute<typeof OfflineExportWorkflow>('OfflineExportWorkflow', {
        taskQueue,
        workflowId: offlineExportWorkflowId(exportId),
        args: [{ exportId }],
      });
      const runs: string[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowId = "${credentialsPurgeWorkflowId(exportId)}"` }))
        runs.push(w.runId);
      const still = (await first.describe()).status.name;
      // Cancelling the purge purges at once (no ending but a terminate leaves the credentials behind).
      await first.cancel();
      const cancelled = await first.result().then(
        () => 'completed',
        (err: unknown) => err,
      );
      return { result, runs, firstRunId: first.firstExecutionRunId, still, cancelled };
    });
    expect(outcome.result).toMatchObject({ exportId, status: 'finished' });
    expect(outcome.runs).toEqual([outcome.firstRunId]);
    expect(outcome.still).toBe('RUNNING');
    expect(outcome.cancelled).toBeInstanceOf(WorkflowFailedError);
    expect((outcome.cancelled as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(fake.calls.purgeExportCredentials).toEqual([{ exportId }]);
  });

  it('a chunk child indexes the full paths of its portables and answers the status query', async () => {
    const fake = fakeExport(3, { ...limits, portablesPerChunk: 3, maxConcurrentChunks: 1 }, async (c) =>
      fake.done(c.afterSelfId, c.lastSelfId),
    );
    const finished = fake.activities.chunkPortables!;
    let reads = 0;
    fake.activities.chunkPortables = async (input) => {
      const portables = await finished(input);
      // The second read, after the chunk's activity: every relation of the first two done, the third all failed.
      if (++reads === 1) return portables;
      return portables.map((p, i) => ({
        ...p,
        relations: i < 2 ? { total: 3, finished: 3, failed: 0 } : { total: 3, finished: 0, failed: 3 },
      }));
    };
    const exportId = newExportId();
    const { client } = localTemporal();
    const { status, paths, found } = await withWorker(fake.activities, async (taskQueue) => {
      await client.workflow.execute<typeof OfflineExportWorkflow>('OfflineExportWorkflow', {
        taskQueue,
        workflowId: offlineExportWorkflowId(exportId),
        args: [{ exportId }],
      });
      const chunk = client.workflow.getHandle(chunkWorkflowId(exportId, 1, 3));
      const found: string[] = [];
      for await (const w of client.workflow.list({
        query: `PortableFullPaths = "group/project-2" AND OfflineExportId = ${exportId}`,
      }))
        found.push(w.workflowId);
      return {
        status: await chunk.query(offlineExportChunkStatusQuery),
        paths: (await chunk.describe()).typedSearchAttributes.get(SA_PORTABLE_FULL_PATHS),
        found,
      };
    });
    expect(paths).toEqual(['group/project-1', 'group/project-2', 'group/project-3']);
    expect(found).toEqual([chunkWorkflowId(exportId, 1, 3)]);
    expect(status).toMatchObject({ exportId, afterSelfId: 0, lastSelfId: 3, phase: 'done', pathsIndexed: 3 });
    expect(status.portables.map((p) => [p.portableType, p.portableId, p.fullPath, p.status, p.relations])).toEqual([
      ['project', 1, 'group/project-1', 'finished', { total: 3, finished: 3, failed: 0 }],
      ['project', 2, 'group/project-2', 'finished', { total: 3, finished: 3, failed: 0 }],
      ['project', 3, 'group/project-3', 'failed', { total: 3, finished: 0, failed: 3 }],
    ]);
    expect(fake.calls.chunkPortables).toHaveLength(2);
  });

  it('a chunk whose activity gives up is failed as a whole, and the export still completes', async () => {
    const fake = fakeExport(4, { ...limits, chunksPerRun: 10 }, async (c) => {
      if (c.afterSelfId === 0)
        throw ApplicationFailure.create({ type: 'BucketGone', message: 'the bucket is gone', nonRetryable: true });
      return fake.done(c.afterSelfId, c.lastSelfId);
    });
    const exportId = newExportId();
    const result = await withWorker(fake.activities, (taskQueue) =>
      localTemporal().client.workflow.execute<typeof OfflineExportWorkflow>('OfflineExportWorkflow', {
        taskQueue,
        workflowId: offlineExportWorkflowId(exportId),
        args: [{ exportId }],
      }),
    );
    expect(fake.calls.failPortableChunk).toEqual([
      { exportId, afterSelfId: 0, lastSelfId: 2, error: 'the bucket is gone' },
    ]);
    expect(result.totals).toMatchObject({ portablesFinished: 2, portablesFailed: 2 });
    expect(fake.calls.sendExportEmail).toHaveLength(1);
  });

  it('cancelled while chunks run: waits for them, fails the export, one email, credentials purged at once', async () => {
    let started = 0;
    const fake = fakeExport(6, limits, async () => {
      started++;
      return hangingChunk(() => fake.calls)();
    });
    const exportId = newExportId();
    const outcome = await withWorker(fake.activities, async (taskQueue) => {
      const handle = await localTemporal().client.workflow.start<typeof OfflineExportWorkflow>(
        'OfflineExportWorkflow',
        {
          taskQueue,
          workflowId: offlineExportWorkflowId(exportId),
          args: [{ exportId }],
        },
      );
      while (started < 2) await new Promise((r) => setTimeout(r, 50));
      await handle.cancel();
      return handle.result().then(
        () => 'completed',
        (err: unknown) => err,
      );
    });
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect((outcome as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(fake.calls.cancelExport).toEqual([{ exportId }]);
    // The rows are failed only once both running chunks have aborted their uploads.
    expect(
      (fake.calls.order as string[]).filter((c) => c !== 'exportPortableChunk' && c !== 'nextPortableChunk').slice(-5),
    ).toEqual(['chunkAborted', 'chunkAborted', 'cancelExport', 'sendExportEmail', 'purgeExportCredentials']);
    expect(fake.calls.sendExportEmail).toEqual([{ exportId }]);
    expect(fake.calls.purgeExportCredentials).toEqual([{ exportId }]);
    expect(fake.calls.completeExport).toBeUndefined();
  });

  it('refuses a malformed input at once with InvalidInput', async () => {
    const fake = fakeExport(1, limits, async (c) => fake.done(c.afterSelfId, c.lastSelfId));
    const outcome = await withWorker(fake.activities, (taskQueue) =>
      localTemporal()
        .client.workflow.execute('OfflineExportWorkflow', {
          taskQueue,
          workflowId: `unit-${randomUUID()}`,
          args: [{ exportId: 1, credentials: 'secret' }],
        })
        .catch((err: unknown) => err),
    );
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    const cause = (outcome as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('InvalidInput');
    expect(cause.message).toContain('"credentials"');
    expect(fake.calls.loadExport).toBeUndefined();
  });

  const endings = (calls: Calls) =>
    ((calls.order ?? []) as string[]).filter(
      (c) => !['exportPortableChunk', 'nextPortableChunk', 'chunkPortables', 'loadExport', 'prepareExport'].includes(c),
    );

  it('a completion that gives up fails the export (GitLab fail_op): rows and export failed, one email, purge at once', async () => {
    const fake = fakeExport(4, { ...limits, chunksPerRun: 10 }, async (c) => fake.done(c.afterSelfId, c.lastSelfId));
    fake.activities.completeExport = async () => {
      throw ApplicationFailure.create({
        type: 'CredentialsUnavailable',
        message: 'the credentials were purged',
        nonRetryable: true,
      });
    };
    const exportId = newExportId();
    const outcome = await runExport(fake.activities, exportId);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect(fake.calls.failExport).toEqual([{ exportId, error: 'Export failed: the credentials were purged' }]);
    expect(endings(fake.calls)).toEqual(['failExport', 'sendExportEmail', 'purgeExportCredentials']);
    expect(fake.calls.cancelExport).toBeUndefined();
  });

  it('a failure while chunks run stops them first, then fails the export with its message', async () => {
    let started = 0;
    const fake = fakeExport(
      9,
      { ...limits, portablesPerChunk: 1, maxConcurrentChunks: 1, chunksPerRun: 10 },
      async () => {
        started++;
        return hangingChunk(() => fake.calls)();
      },
    );
    const next = fake.activities.nextPortableChunk!;
    fake.activities.nextPortableChunk = async (input) => {
      // The second chunk is planned while the first one runs: the database gives up on it for good.
      if (input.afterSelfId > 0) {
        while (started === 0) await new Promise((r) => setTimeout(r, 20));
        throw ApplicationFailure.create({
          type: 'Broken',
          message: 'relation "routes" does not exist',
          nonRetryable: true,
        });
      }
      return next(input);
    };
    const exportId = newExportId();
    const outcome = await runExport(fake.activities, exportId);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect(fake.calls.failExport).toEqual([{ exportId, error: 'Export failed: relation "routes" does not exist' }]);
    expect(endings(fake.calls)).toEqual(['chunkAborted', 'failExport', 'sendExportEmail', 'purgeExportCredentials']);
  });

  it('past its deadline the export fails: chunks aborted, rows and export failed, one email, purge; ExportDeadlineExceeded', async () => {
    const fake = fakeExport(4, { ...limits, deadlineMs: 1_500, chunksPerRun: 10 }, async () =>
      hangingChunk(() => fake.calls)(),
    );
    const exportId = newExportId();
    const outcome = await runExport(fake.activities, exportId);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    const cause = (outcome as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('ExportDeadlineExceeded');
    expect(cause.message).toBe('Export failed: it did not complete within 1.5 seconds (EXPORT_DEADLINE_MS)');
    expect(fake.calls.failExport).toEqual([{ exportId, error: cause.message }]);
    expect(endings(fake.calls)).toEqual([
      'chunkAborted',
      'chunkAborted',
      'failExport',
      'sendExportEmail',
      'purgeExportCredentials',
    ]);
  });

  it('an email that gives up after the export completed leaves the export as it is and still purges the credentials', async () => {
    const fake = fakeExport(2, { ...limits, chunksPerRun: 10 }, async (c) => fake.done(c.afterSelfId, c.lastSelfId));
    fake.activities.sendExportEmail = async () => {
      (fake.calls.order ??= []).push('sendExportEmail');
      throw ApplicationFailure.create({ type: 'MailRejected', message: 'mailbox unavailable', nonRetryable: true });
    };
    const exportId = newExportId();
    const outcome = await runExport(fake.activities, exportId);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect(fake.calls.failExport).toBeUndefined();
    expect(endings(fake.calls)).toEqual(['completeExport', 'sendExportEmail', 'purgeExportCredentials']);
  });
});
