import type { Deps } from '../deps';
import type {
  BulkUpdateBatchInput,
  BulkUpdateBatchResult,
  FailedRangeInput,
  FailedRangeResult,
} from '../../contracts/bulk-update';
import { notifyFailures, type NotifyInput, type NotifyResult } from './notify';
import { failUnprocessedRange, processBatchRange } from './process-batch';
import { createRedisStore } from '../../db/bulk-update/redis-store';
import {
  cleanupTracking,
  collectPage,
  createTracking,
  finishRun,
  planRun,
  startRun,
  type CollectInput,
  type CollectResult,
  type PlanInput,
  type PlanResult,
  type StartRunInput,
  type StartRunResult,
} from './scheduling';

/** Activities of the security-inventory bulk update. */
export function createBulkUpdateActivities(deps: Deps) {
  const store = createRedisStore(deps.redis);
  const scheduling = {
    sql: deps.sql,
    store,
    batchSize: deps.config.BULK_UPDATE_BATCH_SIZE,
    maxConcurrentBatches: deps.config.BULK_UPDATE_MAX_CONCURRENT_BATCHES,
    maxBatchesPerRun: deps.config.BULK_UPDATE_BATCHES_PER_RUN,
    maxBatchesPerChild: deps.config.BULK_UPDATE_BATCHES_PER_CHILD,
  };
  const notify = {
    sql: deps.sql,
    mailer: deps.mailer,
    mailFrom: deps.config.MAIL_FROM,
    instanceBaseUrl: deps.config.INSTANCE_BASE_URL,
  };
  return {
    startBulkUpdateRun: (input: StartRunInput): Promise<StartRunResult> => startRun(scheduling, input),
    collectBulkUpdateProjects: (input: CollectInput): Promise<CollectResult> => collectPage(scheduling, input),
    planBulkUpdateBatches: (input: PlanInput): Promise<PlanResult> => planRun(scheduling, input),
    createBulkUpdateTracking: (input: { operationId: string }) => createTracking(scheduling, input),
    processBulkUpdateBatches: (input: BulkUpdateBatchInput): Promise<BulkUpdateBatchResult> =>
      processBatchRange({ sql: deps.sql, store }, input),
    failUnprocessedBulkUpdateBatches: (input: FailedRangeInput): Promise<FailedRangeResult> =>
      failUnprocessedRange({ sql: deps.sql, store }, input),
    notifyBulkUpdateFailures: (input: NotifyInput): Promise<NotifyResult> => notifyFailures(notify, input),
    cleanupBulkUpdateTracking: (input: { operationId: string }) => cleanupTracking(scheduling, input),
    finishBulkUpdate: (input: { operationId: string; status: 'finished' | 'failed' }) => finishRun(scheduling, input),
  };
}

export type BulkUpdateActivities = ReturnType<typeof createBulkUpdateActivities>;
