import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  deprecatePatch,
  isCancellation,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  ExportErrorType,
  PORTABLE_CHUNKS_PATCH,
  SA_EXPORT_STATUS,
  SA_GITLAB_USER_ID,
  SA_OFFLINE_EXPORT_ID,
  SA_WORKFLOW_KIND,
  WORKFLOW_KIND_EXPORT,
  emptyTotals,
  offlineExportProgressQuery,
  validateExportInput,
  type OfflineExportInput,
  type OfflineExportProgress,
  type OfflineExportResult,
  type OfflineExportResume,
} from '../../contracts/offline-export';
import { bucketShort, dbLong, dbShort, email } from './activity-profiles';
import { ChunkWindow } from './chunk-window';
import { addTotals, newProgress, nextChunkSize, progressDetails, updateProgress } from './export-progress';

/**
 * Import::Offline::ExportWorker + ProcessService as one durable workflow: records the 'self' rows of every
 * descendant, starts the export, runs one child workflow per chunk of portables in a sliding window, continues as
 * new with a cursor so history stays small whatever the number of portables, then completes the export (metadata,
 * status, email) and purges the stored credentials after a durable timer.
 */
export async function OfflineExportWorkflow(input: OfflineExportInput): Promise<OfflineExportResult> {
  const invalid = validateExportInput(input);
  if (invalid)
    throw ApplicationFailure.create({ type: ExportErrorType.InvalidInput, message: invalid, nonRetryable: true });
  const { exportId } = input;

  const progress = newProgress(exportId, input.resume?.run ?? 1);
  setHandler(offlineExportProgressQuery, () => progress);
  let window: ChunkWindow | undefined;
  const show = (s: OfflineExportResume, phase: OfflineExportProgress['phase'] = progress.phase) => {
    progress.phase = phase;
    updateProgress(progress, s.totals, window?.running ?? new Map());
    setCurrentDetails(progressDetails(progress));
  };

  try {
    const begun = input.resume ? { state: input.resume } : await begin(exportId, progress);
    if ('completed' in begun) return { exportId, status: begun.completed, hasFailures: false, totals: emptyTotals() };
    const s = begun.state;
    const w = new ChunkWindow(
      { exportId, userId: s.userId, maxConcurrentRelations: s.limits.maxConcurrentRelations },
      (r) => {
        addTotals(s.totals, r);
        show(s);
      },
    );
    window = w;
    show(s, 'exporting');
    // The per-portable shape this patch replaced is gone; histories recorded with its marker still replay.
    deprecatePatch(PORTABLE_CHUNKS_PATCH);

    const { portablesPerChunk, maxConcurrentChunks, chunksPerRun } = s.limits;
    for (let chunksThisRun = 0; ; chunksThisRun++) {
      if (chunksThisRun >= chunksPerRun || workflowInfo().continueAsNewSuggested) {
        // Drain the window so no child is left behind, then start afresh with only the cursor and counters.
        await w.drain();
        await condition(allHandlersFinished);
        return continueAsNew<typeof OfflineExportWorkflow>({ exportId, resume: { ...s, run: s.run + 1 } });
      }
      // Planned while the window is still full, so the next chunk starts the moment a slot frees.
      const left = s.totals.portablesTotal - s.portablesHandedOut;
      const { size, finalSize } = nextChunkSize(left, portablesPerChunk, maxConcurrentChunks, s.finalChunkSize);
      s.finalChunkSize = finalSize;
      const chunk = await dbShort.nextPortableChunk({ exportId, afterSelfId: s.afterSelfId, maxPortables: size });
      if (!chunk) break;
      await w.start(chunk, maxConcurrentChunks);
      s.afterSelfId = chunk.lastSelfId;
      s.portablesHandedOut += chunk.portables;
      show(s);
    }
    await w.drain();

    show(s, 'completing');
    const outcome = await bucketShort.completeExport({ exportId });
    upsertSearchAttributes([{ key: SA_EXPORT_STATUS, value: outcome.status }]);
    await email.sendExportEmail({ exportId });

    show(s, 'waiting-to-purge');
    await sleep(s.limits.credentialsPurgeDelayMs);
    await dbShort.purgeExportCredentials({ exportId });
    show(s, 'done');
    return { exportId, status: outcome.status, hasFailures: outcome.hasFailures, totals: s.totals };
  } catch (err) {
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => cancelExport(exportId, progress, window));
    throw err;
  }
}

/**
 * The first run's start: loads the export, tags the workflow, records the descendants. Returns the state the
 * export loop starts from, or how an export already completed ended (started again: nothing to redo, and the
 * email and purge already happened).
 */
async function begin(
  exportId: number,
  progress: OfflineExportProgress,
): Promise<{ state: OfflineExportResume } | { completed: 'finished' | 'failed' }> {
  const loaded = await dbShort.loadExport({ exportId });
  upsertSearchAttributes([
    { key: SA_OFFLINE_EXPORT_ID, value: exportId },
    { key: SA_GITLAB_USER_ID, value: loaded.userId },
    { key: SA_WORKFLOW_KIND, value: WORKFLOW_KIND_EXPORT },
    { key: SA_EXPORT_STATUS, value: loaded.status },
  ]);
  if (loaded.status === 'finished' || loaded.status === 'failed') {
    progress.phase = 'done';
    return { completed: loaded.status };
  }
  progress.phase = 'discovering';
  setCurrentDetails('Recording the descendant groups and projects of the requested groups');
  const prepared = await dbLong.prepareExport({ exportId });
  upsertSearchAttributes([{ key: SA_EXPORT_STATUS, value: 'started' }]);
  return {
    state: {
      afterSelfId: 0,
      limits: loaded.limits,
      userId: loaded.userId,
      exportPrefix: loaded.exportPrefix,
      totals: { ...emptyTotals(), portablesTotal: prepared.portables },
      run: 1,
      portablesHandedOut: 0,
    },
  };
}

/** GitLab's cancel: the chunks abort their uploads, the rows and the export fail, one email, credentials purged. */
async function cancelExport(
  exportId: number,
  progress: OfflineExportProgress,
  window: ChunkWindow | undefined,
): Promise<void> {
  progress.phase = 'cancelling';
  // Cancelled children abort their uploads first (WAIT_CANCELLATION_COMPLETED), then the rows are failed.
  await window?.drain();
  await dbShort.cancelExport({ exportId });
  upsertSearchAttributes([{ key: SA_EXPORT_STATUS, value: 'failed' }]);
  await email.sendExportEmail({ exportId });
  // Nothing will be uploaded any more: the credentials go now rather than after the purge delay.
  await dbShort.purgeExportCredentials({ exportId });
  setCurrentDetails(`**Cancelled**: export ${exportId} marked failed, unfinished uploads aborted, credentials purged`);
}
