import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { findOperation } from '../../db/bulk-update/operations';
import type { Sql } from '../../db/sql';
import {
  bulkUpdateProgressQuery,
  type BulkUpdatePhase,
  type BulkUpdateProgress,
  type BulkUpdateWorkflowResult,
  type NotificationOutcome,
} from '../../contracts/bulk-update';
import { operationStateOf } from './workflow-state';

/** What the workflow says about an operation: its live progress while it runs, its result once it has ended. */
export interface OperationStatus {
  operationId: string;
  operationType: string;
  workflowId: string;
  /** 'running' while the workflow runs; then 'finished', 'failed', 'canceled', 'terminated' or 'timed_out'. */
  state: string;
  done: boolean;
  phase?: BulkUpdatePhase;
  totalItems: number;
  successfulItems: number;
  failedItems: number;
  batchesDone?: number;
  notification?: NotificationOutcome;
}

export class OperationNotFoundError extends Error {
  constructor(operationId: string) {
    super(`operation ${operationId} not found`);
    this.name = 'OperationNotFoundError';
  }
}

/**
 * The status of a user's operation, read from its workflow. Someone else's operation, or one whose workflow is
 * gone, is "not found": its existence is not revealed.
 */
export async function readOperationStatus(
  deps: { sql: Sql; temporal: Pick<Client, 'workflow'> },
  operationId: string,
  userId: number,
): Promise<OperationStatus> {
  const record = await findOperation(deps.sql, operationId);
  if (!record || record.userId !== userId) throw new OperationNotFoundError(operationId);
  const base = { operationId, operationType: record.operationType, workflowId: record.workflowId };
  const handle = deps.temporal.workflow.getHandle(record.workflowId);
  try {
    const description = await handle.describe();
    const status = description.status.name;
    if (status === 'RUNNING') {
      const p: BulkUpdateProgress = await handle.query(bulkUpdateProgressQuery);
      return {
        ...base,
        state: 'running',
        done: false,
        phase: p.phase,
        totalItems: p.totalItems,
        successfulItems: p.successfulItems,
        failedItems: p.failedItems,
        batchesDone: p.batchesDone,
      };
    }
    const result = status === 'COMPLETED' ? ((await handle.result()) as BulkUpdateWorkflowResult) : undefined;
    return {
      ...base,
      state: operationStateOf(status),
      done: true,
      totalItems: result?.totalItems ?? record.totalItems ?? 0,
      successfulItems: result?.successfulItems ?? 0,
      failedItems: result?.failedItems ?? 0,
      notification: result?.notification,
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new OperationNotFoundError(operationId);
    throw err;
  }
}
