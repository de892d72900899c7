import { listFailedItems, listOperationsForUser } from '../../../db/bulk-update/operations-read';
import { findOperation } from '../../../db/bulk-update/operations';
import type { AuthenticatedUser } from '../../../db/users';
import { webUiLink } from '../../../contracts/temporal';
import { toFailedItemEntity, workflowOperationEntity } from '../../bulk-update/operation-entity';
import { cancelOperation, OperationNotCancellableError } from '../../bulk-update/cancel-operation';
import { OperationNotFoundError, readOperationStatus } from '../../bulk-update/operation-status';
import { BulkUpdateRequestError } from '../../bulk-update/request';
import { startBulkUpdate } from '../../bulk-update/start-bulk-update';
import type { BackgroundOperation, BackgroundOperationSummary, FailedItem } from '../api-shapes';
import { CliError, ExitCode, type CliContext } from '../context';
import type { BulkUpdateBackend } from './bulk-update-backend';

// The bulk-update commands' direct mode (--direct --user): loaded only when asked for.

export function directBulkUpdateBackend(ctx: CliContext, user: AuthenticatedUser): BulkUpdateBackend {
  /** The operation's failed projects from PostgreSQL, page by page, in the API's shape. */
  async function* failedPages(id: string): AsyncGenerator<FailedItem[]> {
    for (let page = 1; ; page++) {
      const { rows } = await listFailedItems(ctx.sql, id, { page, perPage: 100 });
      if (rows.length > 0) yield rows.map(toFailedItemEntity);
      if (rows.length < 100) return;
    }
  }
  const failedItems = async (id: string): Promise<FailedItem[]> => {
    const all: FailedItem[] = [];
    for await (const page of failedPages(id)) all.push(...page);
    return all;
  };
  const cliErrorOf = (err: unknown): never => {
    if (err instanceof OperationNotFoundError) throw new CliError(err.message, ExitCode.NOT_FOUND);
    if (err instanceof OperationNotCancellableError) throw new CliError(err.message, ExitCode.USAGE);
    throw err;
  };
  return {
    async start(request) {
      try {
        const started = await startBulkUpdate(
          { sql: ctx.sql, client: ctx.temporal, taskQueue: ctx.config.TEMPORAL_TASK_QUEUE_BULK_UPDATE },
          {
            userId: user.id,
            groupIds: request.group_ids,
            projectIds: request.project_ids,
            attributeIds: request.attribute_ids,
            mode: request.mode,
          },
        );
        return {
          message: started.message,
          operation_id: started.operationId,
          workflow_id: started.workflowId,
          errors: [],
        };
      } catch (err) {
        if (err instanceof BulkUpdateRequestError) throw new CliError(err.problems.join('\n'), ExitCode.USAGE);
        throw err;
      }
    },
    // The workflow's view (the API's `source: "workflow"` answer), with the failed projects from PostgreSQL.
    async show(id) {
      try {
        const s = await readOperationStatus({ sql: ctx.sql, temporal: ctx.temporal }, id, user.id);
        const operation: BackgroundOperation = workflowOperationEntity(id, s, await failedItems(id));
        return { operation, extra: { web_ui: webUiLink(ctx.config, s.workflowId) } };
      } catch (err) {
        return cliErrorOf(err);
      }
    },
    async list(limit) {
      const operations: BackgroundOperationSummary[] = [];
      const perPage = Math.min(100, limit);
      for (let page = 1; operations.length < limit; page++) {
        const { rows } = await listOperationsForUser(ctx.sql, user.id, { page, perPage });
        operations.push(
          ...rows.slice(0, limit - operations.length).map((o) => ({
            id: o.id,
            operation_type: o.operationType,
            status: o.status,
            total_items: o.totalItems,
            successful_items: o.successfulItems,
            failed_items: o.failedItems,
            created_at: o.createdAt.toISOString(),
            workflow_id: o.workflowId,
          })),
        );
        if (rows.length < perPage) break;
      }
      return operations;
    },
    async cancel(id) {
      await cancelOperation({ sql: ctx.sql, temporal: ctx.temporal }, id, user.id).catch(cliErrorOf);
    },
    async *failures(id) {
      const record = await findOperation(ctx.sql, id);
      if (!record || record.userId !== user.id) throw new CliError(`operation ${id} not found`, ExitCode.NOT_FOUND);
      yield* failedPages(id);
    },
  };
}
