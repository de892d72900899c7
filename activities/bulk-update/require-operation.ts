import { ApplicationFailure } from '@temporalio/common';
import { findOperation, type OperationRecord } from '../../db/bulk-update/operations';
import type { Sql } from '../../db/sql';
import { BulkUpdateErrorType } from '../../contracts/bulk-update';

/** The operation's record, or a non-retryable OperationNotFound: a workflow started without a recorded request. */
export async function requireOperation(sql: Sql, operationId: string): Promise<OperationRecord> {
  const op = await findOperation(sql, operationId);
  if (!op) {
    throw ApplicationFailure.create({
      type: BulkUpdateErrorType.OperationNotFound,
      message: `Bulk operation ${operationId} does not exist; start bulk updates through startBulkUpdate, which records the request first`,
      nonRetryable: true,
    });
  }
  return op;
}
