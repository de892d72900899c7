import { ApplicationFailure } from '@temporalio/common';
import { featureEnabled } from '../../db/access';
import { planBatches, savePlan } from '../../db/bulk-update/batches';
import { collectProjectsPage } from '../../db/bulk-update/collect';
import { markCollecting, markFinished, operationCounts, type OperationCounts } from '../../db/bulk-update/operations';
import type { Sql } from '../../db/sql';
import { BulkUpdateErrorType, OPERATION_TYPE_ATTRIBUTE_UPDATE } from '../../contracts/bulk-update';
import type { RedisStore } from '../../db/bulk-update/redis-store';
import { requireOperation } from './require-operation';

// BulkUpdateSchedulerWorker's steps, one activity each so the workflow can page, plan and continue as new.

export const NOTIFICATIONS_FLAG = 'security_bulk_operations_notifications';

export interface SchedulingDeps {
  sql: Sql;
  store: RedisStore;
  batchSize: number;
  maxConcurrentBatches: number;
  maxBatchesPerRun: number;
  maxBatchesPerChild: number;
}

export interface StartRunInput {
  operationId: string;
  workflowId: string;
}

export interface StartRunResult {
  userId: number;
  /** Settings travel to the workflow through this result: workflow code cannot read configuration. */
  batchSize: number;
  maxConcurrentBatches: number;
  maxBatchesPerRun: number;
  /** Batches per child workflow. */
  maxBatchesPerChild: number;
}

export async function startRun(deps: SchedulingDeps, input: StartRunInput): Promise<StartRunResult> {
  const op = await requireOperation(deps.sql, input.operationId);
  if (op.workflowId !== input.workflowId) {
    throw ApplicationFailure.create({
      type: BulkUpdateErrorType.OperationNotRunnable,
      message: `Bulk operation ${op.id} belongs to workflow ${op.workflowId}, not ${input.workflowId}`,
      nonRetryable: true,
    });
  }
  if (op.status === 'finished' || op.status === 'failed') {
    throw ApplicationFailure.create({
      type: BulkUpdateErrorType.OperationNotRunnable,
      message: `Bulk operation ${op.id} already ${op.status}${op.finishedAt ? ` at ${op.finishedAt.toISOString()}` : ''}`,
      nonRetryable: true,
    });
  }
  await markCollecting(deps.sql, op.id);
  return {
    userId: op.userId,
    batchSize: op.batchSize ?? deps.batchSize,
    maxConcurrentBatches: deps.maxConcurrentBatches,
    maxBatchesPerRun: deps.maxBatchesPerRun,
    maxBatchesPerChild: deps.maxBatchesPerChild,
  };
}

export interface CollectInput {
  operationId: string;
  afterProjectId: number;
  pageSize: number;
}

export interface CollectResult {
  count: number;
  lastProjectId: number;
  done: boolean;
}

export async function collectPage(deps: SchedulingDeps, input: CollectInput): Promise<CollectResult> {
  const op = await requireOperation(deps.sql, input.operationId);
  const page = await collectProjectsPage(deps.sql, {
    operationId: op.id,
    userId: op.userId,
    groupIds: op.groupIds,
    projectIds: op.projectIds,
    afterProjectId: input.afterProjectId,
    limit: input.pageSize,
  });
  return {
    count: page.count,
    lastProjectId: page.lastProjectId ?? input.afterProjectId,
    done: page.count < input.pageSize,
  };
}

export interface PlanInput {
  operationId: string;
  batchSize: number;
}

export interface PlanResult {
  totalItems: number;
  batchCount: number;
  tracked: boolean;
}

/**
 * Numbers the batches and takes the flag decision once, for the root group of the first collected project
 * (GitLab checks Feature.enabled?(:security_bulk_operations_notifications, root_namespace)).
 */
export async function planRun(deps: SchedulingDeps, input: PlanInput): Promise<PlanResult> {
  await requireOperation(deps.sql, input.operationId);
  return deps.sql.begin(async (tx) => {
    const plan = await planBatches(tx, input.operationId, input.batchSize);
    if (plan.alreadyPlanned && plan.tracked !== null) {
      return { totalItems: plan.totalItems, batchCount: plan.batchCount, tracked: plan.tracked };
    }
    const tracked =
      plan.firstRootNamespaceId !== undefined &&
      (await featureEnabled(tx, NOTIFICATIONS_FLAG, { type: 'Group', id: plan.firstRootNamespaceId }));
    await savePlan(tx, input.operationId, { ...plan, tracked });
    return { totalItems: plan.totalItems, batchCount: plan.batchCount, tracked };
  });
}

export async function createTracking(
  deps: SchedulingDeps,
  input: { operationId: string },
): Promise<{ operationKey: string }> {
  const op = await requireOperation(deps.sql, input.operationId);
  await deps.store.createOperation({
    id: op.id,
    operationType: OPERATION_TYPE_ATTRIBUTE_UPDATE,
    userId: op.userId,
    totalItems: op.totalItems ?? 0,
    parameters: { attribute_ids: op.attributeIds, mode: op.mode },
  });
  return { operationKey: `background_operation:${op.id}` };
}

export async function cleanupTracking(
  deps: SchedulingDeps,
  input: { operationId: string },
): Promise<{ deleted: boolean }> {
  const existed = await deps.store.getOperation(input.operationId);
  await deps.store.deleteOperation(input.operationId);
  return { deleted: existed !== undefined };
}

export async function finishRun(
  deps: SchedulingDeps,
  input: { operationId: string; status: 'finished' | 'failed' },
): Promise<OperationCounts> {
  await markFinished(deps.sql, input.operationId, input.status);
  return operationCounts(deps.sql, input.operationId);
}
