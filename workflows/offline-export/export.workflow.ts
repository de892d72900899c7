import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OfflineExportActivities } from '../../activities/offline-export/index';
import { dbShort } from './activity-profiles';
import type { PortableRef } from '../../db/offline-export/tracking';
import { OfflineExportChunkWorkflow } from './chunk.workflow';
import {
  DEFAULT_CHUNKS_PER_RUN,
  DEFAULT_MAX_CONCURRENT_CHUNKS,
  DEFAULT_PORTABLES_PER_CHUNK,
  ExportErrorType,
  PORTABLE_CHUNKS_PATCH,
  SA_EXPORT_STATUS,
  SA_GITLAB_USER_ID,
  SA_OFFLINE_EXPORT_ID,
  SA_PORTABLE_FULL_PATH,
  SA_WORKFLOW_KIND,
  WORKFLOW_KIND_EXPORT,
  WORKFLOW_KIND_CHUNK,
  WORKFLOW_KIND_PORTABLE,
  chunkWorkflowId,
  emptyTotals,
  offlineExportProgressQuery,
  portableWorkflowId,
  validateExportInput,
  type OfflineExportInput,
  type OfflineExportProgress,
  type OfflineExportResult,
  type ChunkExportResult,
  type OfflineExportResume,
  type PortableChunk,
  type ProgressTotals,
} from '../../contracts/offline-export';
import { OfflineExportPortableWorkflow } from './portable.workflow';

/** Discovery pages through a whole hierarchy and heartbeats its cursor. */
const dbLong = proxyActivities<OfflineExportActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Completion writes to the user's bucket: a few more attempts with longer waits. */
const bucketShort = proxyActivities<OfflineExportActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
});

const email = proxyActivities<OfflineExportActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** Portables fetched per nextPortables call: small enough that a page never weighs on history. */
const PORTABLE_PAGE = 20;

/** A finished child's counts added to the export's. */
function addTotals(totals: ProgressTotals, r: ChunkExportResult): void {
  totals.portablesFinished += r.portablesFinished;
  totals.portablesFailed += r.portablesFailed;
  totals.relationsFinished += r.relationsFinished;
  totals.relationsFailed += r.relationsFailed;
  totals.objectsWritten += r.objectsWritten;
  totals.bytesWritten += r.bytesWritten;
  totals.recordsWritten += r.recordsWritten;
}

const formatBytes = (n: number): string =>
  n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;

/**
 * Import::Offline::ExportWorker + ProcessService as one durable workflow: records the 'self' rows of every
 * descendant, starts the export, runs one child workflow per portable in a sliding window, continues as new with a
 * cursor so history stays small whatever the number of portables, then completes the export (metadata, status,
 * email) and purges the stored credentials after a durable timer.
 */
export async function OfflineExportWorkflow(input: OfflineExportInput): Promise<OfflineExportResult> {
  const invalid = validateExportInput(input);
  if (invalid) throw ApplicationFailure.create({ type: ExportErrorType.InvalidInput, message: invalid, nonRetryable: true });
  const { exportId } = input;

  const progress: OfflineExportProgress = {
    exportId,
    phase: 'loading',
    run: input.resume?.run ?? 1,
    portables: { total: 0, pending: 0, running: 0, finished: 0, failed: 0 },
    relations: { finished: 0, failed: 0 },
    objectsWritten: 0,
    bytesWritten: 0,
    recordsWritten: 0,
    running: [],
  };
  const inFlight = new Map<string, Promise<void>>();
  /** Portables in each running child: 1 for a portable child, the chunk's size for a chunk child. */
  const inFlightPortables = new Map<string, number>();
  const runningPortables = () => [...inFlightPortables.values()].reduce((a, b) => a + b, 0);
  let state: OfflineExportResume | undefined = input.resume;
  const refresh = () => {
    if (!state) return;
    const t = state.totals;
    progress.portables = {
      total: t.portablesTotal,
      running: runningPortables(),
      finished: t.portablesFinished,
      failed: t.portablesFailed,
      pending: Math.max(0, t.portablesTotal - t.portablesFinished - t.portablesFailed - runningPortables()),
    };
    progress.relations = { finished: t.relationsFinished, failed: t.relationsFailed };
    progress.objectsWritten = t.objectsWritten;
    progress.bytesWritten = t.bytesWritten;
    progress.recordsWritten = t.recordsWritten;
    progress.running = [...inFlight.keys()];
    const p = progress.portables;
    setCurrentDetails(
      `**${progress.phase}** (run ${progress.run})\n\n` +
        `- portables: ${p.finished + p.failed} of ${p.total} done (${p.failed} failed), ${p.running} running\n` +
        `- relations: ${t.relationsFinished} finished, ${t.relationsFailed} failed\n` +
        `- written: ${t.recordsWritten} records in ${t.objectsWritten} objects, ${formatBytes(t.bytesWritten)}`,
    );
  };
  setHandler(offlineExportProgressQuery, () => progress);

  try {
    if (!state) {
      const loaded = await dbShort.loadExport({ exportId });
      upsertSearchAttributes([
        { key: SA_OFFLINE_EXPORT_ID, value: exportId },
        { key: SA_GITLAB_USER_ID, value: loaded.userId },
        { key: SA_WORKFLOW_KIND, value: WORKFLOW_KIND_EXPORT },
        { key: SA_EXPORT_STATUS, value: loaded.status },
      ]);
      if (loaded.status === 'finished' || loaded.status === 'failed') {
        // Started again for a completed export: nothing to redo, and the email and purge already happened.
        progress.phase = 'done';
        return { exportId, status: loaded.status, hasFailures: false, totals: emptyTotals() };
      }
      progress.phase = 'discovering';
      setCurrentDetails('Recording the descendant groups and projects of the requested groups');
      const prepared = await dbLong.prepareExport({ exportId });
      upsertSearchAttributes([{ key: SA_EXPORT_STATUS, value: 'started' }]);
      state = {
        afterSelfId: 0,
        limits: loaded.limits,
        userId: loaded.userId,
        exportPrefix: loaded.exportPrefix,
        totals: { ...emptyTotals(), portablesTotal: prepared.portables },
        run: 1,
      };
    }
    const s = state;
    progress.phase = 'exporting';
    refresh();

    const runChild = (p: PortableRef) => {
      const workflowId = portableWorkflowId(exportId, p.portableType, p.portableId);
      const done = (async () => {
        try {
          const child = await startChild(OfflineExportPortableWorkflow, {
            workflowId,
            args: [{ exportId, selfExportId: p.selfExportId, portableType: p.portableType, portableId: p.portableId, maxConcurrentRelations: s.limits.maxConcurrentRelations }],
            // Children never outlive the export: the window is drained before continue-as-new.
            parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
            staticSummary: `Export ${p.portableType} ${p.fullPath} (offline export ${exportId})`,
            typedSearchAttributes: [
              { key: SA_OFFLINE_EXPORT_ID, value: exportId },
              { key: SA_GITLAB_USER_ID, value: s.userId },
              { key: SA_WORKFLOW_KIND, value: WORKFLOW_KIND_PORTABLE },
              { key: SA_PORTABLE_FULL_PATH, value: p.fullPath },
            ],
          });
          const r = await child.result();
          addTotals(s.totals, {
            ...r,
            portablesFinished: r.status === 'finished' ? 1 : 0,
            portablesFailed: r.status === 'finished' ? 0 : 1,
          });
        } catch (err) {
          // A child that failed as a whole is counted here; completeExport fails the rows it left in progress.
          if (!(err instanceof ChildWorkflowFailure && isCancellation(err.cause))) s.totals.portablesFailed++;
        } finally {
          inFlight.delete(workflowId);
          inFlightPortables.delete(workflowId);
          refresh();
        }
      })();
      inFlight.set(workflowId, done);
      inFlightPortables.set(workflowId, 1);
    };

    const runChunk = (c: PortableChunk) => {
      const workflowId = chunkWorkflowId(exportId, c.firstSelfId, c.lastSelfId);
      const done = (async () => {
        try {
          const child = await startChild(OfflineExportChunkWorkflow, {
            workflowId,
            args: [{ exportId, afterSelfId: c.afterSelfId, lastSelfId: c.lastSelfId, maxConcurrentRelations: s.limits.maxConcurrentRelations }],
            parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
            staticSummary: `Export ${c.portables} portables, ${c.firstPath} to ${c.lastPath} (offline export ${exportId})`,
            typedSearchAttributes: [
              { key: SA_OFFLINE_EXPORT_ID, value: exportId },
              { key: SA_GITLAB_USER_ID, value: s.userId },
              { key: SA_WORKFLOW_KIND, value: WORKFLOW_KIND_CHUNK },
            ],
          });
          addTotals(s.totals, await child.result());
        } catch (err) {
          // A chunk that failed as a whole is counted here; completeExport fails the rows it left in progress.
          if (!(err instanceof ChildWorkflowFailure && isCancellation(err.cause))) s.totals.portablesFailed += c.portables;
        } finally {
          inFlight.delete(workflowId);
          inFlightPortables.delete(workflowId);
          refresh();
        }
      })();
      inFlight.set(workflowId, done);
      inFlightPortables.set(workflowId, c.portables);
    };

    const continueAsNewNow = async (): Promise<never> => {
      // Drain the window so no child is left behind, then start afresh with only the cursor and counters.
      await condition(() => inFlight.size === 0);
      await condition(allHandlersFinished);
      return continueAsNew<typeof OfflineExportWorkflow>({ exportId, resume: { ...s, run: s.run + 1 } });
    };

    if (patched(PORTABLE_CHUNKS_PATCH)) {
      // One child per chunk of portables; the run continues as new after chunksPerRun chunks.
      const perChunk = s.limits.portablesPerChunk ?? DEFAULT_PORTABLES_PER_CHUNK;
      const window = s.limits.maxConcurrentChunks ?? DEFAULT_MAX_CONCURRENT_CHUNKS;
      const chunksPerRun = s.limits.chunksPerRun ?? DEFAULT_CHUNKS_PER_RUN;
      let chunksThisRun = 0;
      for (;;) {
        if (chunksThisRun >= chunksPerRun || workflowInfo().continueAsNewSuggested) await continueAsNewNow();
        // Planned while the window is still full, so the next chunk starts the moment a slot frees.
        // The last round splits what is left equally among the window, so its chunks end together.
        const left = s.totals.portablesTotal - (s.portablesHandedOut ?? 0);
        if (left <= perChunk * window) s.finalChunkSize ??= Math.max(1, Math.ceil(left / window));
        const chunk = await dbShort.nextPortableChunk({ exportId, afterSelfId: s.afterSelfId, maxPortables: s.finalChunkSize ?? perChunk });
        if (!chunk) break;
        await condition(() => inFlight.size < window);
        runChunk(chunk);
        s.afterSelfId = chunk.lastSelfId;
        s.portablesHandedOut = (s.portablesHandedOut ?? 0) + chunk.portables;
        chunksThisRun++;
        refresh();
      }
      await condition(() => inFlight.size === 0);
    } else {
      let startedThisRun = 0;
      for (;;) {
        if (startedThisRun >= s.limits.portablesPerRun || workflowInfo().continueAsNewSuggested) {
          await continueAsNewNow();
        }
        const page = await dbShort.nextPortables({
          exportId,
          afterSelfId: s.afterSelfId,
          limit: Math.min(PORTABLE_PAGE, s.limits.portablesPerRun - startedThisRun),
        });
        if (page.length === 0) break;
        for (const p of page) {
          await condition(() => inFlight.size < s.limits.maxConcurrentPortables);
          runChild(p);
          s.afterSelfId = p.selfExportId;
          startedThisRun++;
          refresh();
        }
      }
      await condition(() => inFlight.size === 0);
    }
    progress.phase = 'completing';
    refresh();
    const outcome = await bucketShort.completeExport({ exportId });
    upsertSearchAttributes([{ key: SA_EXPORT_STATUS, value: outcome.status }]);
    await email.sendExportEmail({ exportId });

    progress.phase = 'waiting-to-purge';
    refresh();
    await sleep(s.limits.credentialsPurgeDelayMs);
    await dbShort.purgeExportCredentials({ exportId });
    progress.phase = 'done';
    refresh();
    return { exportId, status: outcome.status, hasFailures: outcome.hasFailures, totals: s.totals };
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        progress.phase = 'cancelling';
        // Cancelled children abort their uploads first (WAIT_CANCELLATION_COMPLETED), then the rows are failed.
        await condition(() => inFlight.size === 0);
        await dbShort.cancelExport({ exportId });
        upsertSearchAttributes([{ key: SA_EXPORT_STATUS, value: 'failed' }]);
        await email.sendExportEmail({ exportId });
        // Nothing will be uploaded any more: the credentials go now rather than after the purge delay.
        await dbShort.purgeExportCredentials({ exportId });
        setCurrentDetails(`**Cancelled**: export ${exportId} marked failed, unfinished uploads aborted, credentials purged`);
      });
    }
    throw err;
  }
}
