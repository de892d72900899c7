import { ActivityCancellationType, ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { OfflineExportActivities } from '../../activities/offline-export/index';

// How each kind of export activity is timed and retried; every activity is idempotent, so retries are safe.

/** Short PostgreSQL steps: retried through a database restart. */
export const dbShort = proxyActivities<OfflineExportActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Discovery pages through a whole hierarchy and heartbeats its cursor. */
export const dbLong = proxyActivities<OfflineExportActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Completion writes to the user's bucket: a few more attempts with longer waits. */
export const bucketShort = proxyActivities<OfflineExportActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
});

export const email = proxyActivities<OfflineExportActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * A chunk streams for a long time: it heartbeats (a killed worker is noticed within the heartbeat timeout and the
 * retry resumes from the finished rows and batches), retries each relation in-process through a few minutes of a
 * bucket or database being away, and on cancellation the workflow waits for it to abort its uploads.
 */
export const chunkLong = proxyActivities<OfflineExportActivities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '20 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** The message a person should read in bulk_import_exports.error: the application failure's, not the wrapper's. */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * The failure path's own steps (fail the rows and the export, purge the credentials): an export must not stay
 * started with its credentials kept because the database was away when it failed, so these retry until it is back.
 */
export const cleanup = proxyActivities<OfflineExportActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
