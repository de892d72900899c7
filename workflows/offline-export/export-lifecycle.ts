import { setCurrentDetails, upsertSearchAttributes, type CancellationScope } from '@temporalio/workflow';
import {
  SA_EXPORT_STATUS,
  SA_GITLAB_USER_ID,
  SA_OFFLINE_EXPORT_ID,
  SA_WORKFLOW_KIND,
  WORKFLOW_KIND_EXPORT,
  emptyTotals,
  type OfflineExportProgress,
  type OfflineExportResume,
} from '../../contracts/offline-export';
import { cleanup, dbLong, dbShort, email } from './activity-profiles';
import type { ChunkWindow } from './chunk-window';

// How an export begins, and the two ways it ends other than completing: cancelled, or failed (GitLab's fail_op).

/**
 * The first run's start: loads the export, tags the workflow, records the descendants. Returns the state the
 * export loop starts from, or how an export already completed ended (started again: nothing to redo, and the
 * email and purge already happened).
 */
export async function begin(
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

/**
 * GitLab's fail_op: the chunks still running are cancelled and abort their uploads, the rows and the export fail
 * with the error, one email, and the credentials are purged at once (nothing will upload any more).
 */
export async function failExport(
  exportId: number,
  error: string,
  progress: OfflineExportProgress,
  work: CancellationScope | undefined,
  window: ChunkWindow | undefined,
): Promise<void> {
  progress.phase = 'failing';
  work?.cancel();
  await window?.drain();
  await cleanup.failExport({ exportId, error });
  upsertSearchAttributes([{ key: SA_EXPORT_STATUS, value: 'failed' }]);
  // The export has failed whether or not the mail server takes the message; the credentials still go.
  await email.sendExportEmail({ exportId }).catch(() => undefined);
  await cleanup.purgeExportCredentials({ exportId });
  setCurrentDetails(`**Failed**: export ${exportId}: ${error}; credentials purged`);
}

/** GitLab's cancel: the chunks abort their uploads, the rows and the export fail, one email, credentials purged. */
export async function cancelExport(
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
