import {
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  deprecatePatch,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import {
  CREDENTIALS_PURGE_WORKFLOW_PATCH,
  DEFAULT_EXPORT_DEADLINE_MS,
  EXPORT_FAILURE_PATH_PATCH,
  ExportErrorType,
  PORTABLE_CHUNKS_PATCH,
  deadlineError,
  duration,
  failedError,
  emptyTotals,
  offlineExportProgressQuery,
  validateExportInput,
  type OfflineExportInput,
  type OfflineExportProgress,
  type OfflineExportResult,
  type OfflineExportResume,
} from '../../contracts/offline-export';
import { cleanup, dbShort, email, failureMessage } from './activity-profiles';
import { ChunkWindow } from './chunk-window';
import { startCredentialsPurge } from './credentials-purge';
import { exportChunks } from './export-chunks';
import { begin, cancelExport, failExport } from './export-lifecycle';
import { addTotals, newProgress, progressDetails, updateProgress } from './export-progress';

/**
 * Import::Offline::ExportWorker + ProcessService as one durable workflow: records the 'self' rows of every
 * descendant, starts the export, runs one child workflow per chunk of portables in a sliding window, continues as
 * new with a cursor so history stays small whatever the number of portables, then completes the export (metadata,
 * status, email), starts the credential purge as a workflow of its own (OfflineExportCredentialsPurgeWorkflow,
 * which waits the purge delay) and completes: the run ends when the export's work ends.
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

  // Runs started since this patch end failed, with one email and their credentials purged, on any failure and at
  // their deadline, as GitLab's export worker does when its retries are exhausted.
  const failurePath = patched(EXPORT_FAILURE_PATH_PATCH);
  let work: CancellationScope | undefined;
  let deadlineMs = 0;
  let completed = false;
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

    let outcome: Awaited<ReturnType<typeof exportChunks>>;
    if (failurePath) {
      // The deadline is the first run's, carried across continue-as-new; its scope cancels the work when it passes.
      deadlineMs = s.limits.deadlineMs ?? DEFAULT_EXPORT_DEADLINE_MS;
      s.deadlineAt ??= Date.now() + deadlineMs;
      work = new CancellationScope({ cancellable: true, timeout: Math.max(1, s.deadlineAt - Date.now()) });
      outcome = await work.run(() => exportChunks(exportId, s, w, show));
    } else {
      outcome = await exportChunks(exportId, s, w, show);
    }
    completed = true;
    await email.sendExportEmail({ exportId });

    const result = { exportId, status: outcome.status, hasFailures: outcome.hasFailures, totals: s.totals };
    if (patched(CREDENTIALS_PURGE_WORKFLOW_PATCH)) {
      const delayMs = s.limits.credentialsPurgeDelayMs;
      progress.credentialsPurge = { workflowId: await startCredentialsPurge(exportId, s.userId, delayMs), delayMs };
      show(s, 'done');
      setCurrentDetails(
        `${progressDetails(progress)}\n- credentials: purged in ${duration(delayMs)} by ${progress.credentialsPurge.workflowId}`,
      );
      return result;
    }
    // Runs started before the patch keep the purge in their own run.
    show(s, 'waiting-to-purge');
    await sleep(s.limits.credentialsPurgeDelayMs);
    await dbShort.purgeExportCredentials({ exportId });
    show(s, 'done');
    return result;
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    const workflowCancelled = isCancellation(err) && (!failurePath || CancellationScope.current().consideredCancelled);
    if (workflowCancelled) {
      await CancellationScope.nonCancellable(() => cancelExport(exportId, progress, window));
      throw err;
    }
    // Nothing to fail when the export was never loaded (it does not exist).
    if (!failurePath || progress.phase === 'loading') throw err;
    // Completed already (the email, the purge or its start gave up): the export stands; the credentials go now.
    if (completed) {
      await CancellationScope.nonCancellable(() => cleanup.purgeExportCredentials({ exportId }));
      throw err;
    }
    const pastDeadline = isCancellation(err) && work?.consideredCancelled === true;
    const error = pastDeadline ? deadlineError(deadlineMs) : failedError(failureMessage(err));
    await CancellationScope.nonCancellable(() => failExport(exportId, error, progress, work, window));
    if (pastDeadline)
      throw ApplicationFailure.create({ type: ExportErrorType.DeadlineExceeded, message: error, nonRetryable: true });
    throw err;
  }
}
