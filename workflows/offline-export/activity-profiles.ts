import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { OfflineExportActivities } from '../../activities/offline-export/index';

/** Short PostgreSQL steps of the export workflows: idempotent, retried through a database restart. */
export const dbShort = proxyActivities<OfflineExportActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** The message a person should read in bulk_import_exports.error: the application failure's, not the wrapper's. */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
