import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { BulkUpdateActivities } from '../../activities/bulk-update/index';
import { BulkUpdateErrorType } from '../../contracts/bulk-update';

// How each kind of bulk-update activity is timed and retried; every activity is idempotent, so retries are safe.

/** Short PostgreSQL/Redis steps: retried until the stores are back. */
export const dbShort = proxyActivities<BulkUpdateActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * The report: enough attempts to outlast the notification lease (5 min) after a crash mid-send; a refused message
 * stops at once.
 */
export const email = proxyActivities<BulkUpdateActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 12,
    nonRetryableErrorTypes: [BulkUpdateErrorType.EmailRejected, BulkUpdateErrorType.OperationNotFound],
  },
});

/**
 * A range of batches: one activity goes through them in order, heartbeating where it is, so its timeout is the
 * heartbeat's (a dead worker moves to another fast) rather than a bound on the range's length. Each project's
 * outcome is recorded with its change, so retries are free.
 */
export const rangeActivity = proxyActivities<BulkUpdateActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * A permanent refusal from an activity (unknown operation, finished operation) becomes the workflow's own failure
 * with the same type and message, so `temporal workflow show` and the Web UI say why at the top level.
 */
export function surfacePermanent(err: unknown): Error {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) {
    return ApplicationFailure.create({
      type: err.cause.type ?? undefined,
      message: err.cause.message,
      nonRetryable: true,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}
