import { z } from 'zod';
import { createRedisStore } from '../../../db/bulk-update/redis-store';
import { failedProjects } from '../../../db/bulk-update/batches';
import { findOperation } from '../../../db/bulk-update/operations';
import { BulkUpdateRequestError } from '../../bulk-update/request';
import { OperationNotFoundError, readOperationStatus } from '../../bulk-update/operation-status';
import { startBulkUpdate } from '../../bulk-update/start-bulk-update';
import { ApiError, notFound } from '../errors';
import { parseQuery } from '../query';
import { currentUser, type RouteModule } from '../server';

const operationIdParam = z.object({ id: z.string().regex(/^[a-z_]+_\d+_\d+_[0-9a-f]{8}$/) });

/**
 * REST counterparts of GitLab's bulkUpdateSecurityAttributes mutation and of reading a background operation.
 * Progress comes from the Redis record while the operation runs and from the workflow once the record is gone.
 */
export const bulkUpdateRoutes: RouteModule = async (api, deps) => {
  const store = createRedisStore(deps.redis);

  api.post('/security/attributes/bulk_update', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'body must be a JSON object');
    try {
      const started = await startBulkUpdate(
        {
          sql: deps.sql,
          client: deps.temporal,
          taskQueue: deps.taskQueues?.bulkUpdate ?? deps.config.TEMPORAL_TASK_QUEUE_BULK_UPDATE,
        },
        {
          userId: currentUser(request).id,
          groupIds: body.group_ids ?? [],
          projectIds: body.project_ids ?? [],
          attributeIds: body.attribute_ids,
          mode: body.mode,
        },
      );
      return reply.status(202).send({
        message: started.message,
        operation_id: started.operationId,
        workflow_id: started.workflowId,
        errors: [],
      });
    } catch (err) {
      if (err instanceof BulkUpdateRequestError) throw new ApiError(422, err.problems.join('; '));
      throw err;
    }
  });

  api.get('/security/background_operations/:id', async (request) => {
    const { id } = parseQuery(operationIdParam, request.params);
    const record = await findOperation(deps.sql, id);
    // Someone else's operation is reported as missing, not forbidden.
    if (!record || record.userId !== currentUser(request).id) throw notFound('Background Operation');

    const live = await store.getOperation(id);
    if (live) {
      return {
        id,
        operation_type: live.operation_type,
        status: live.status,
        source: 'redis',
        total_items: live.total_items,
        successful_items: live.successful_items,
        failed_items: live.failed_items,
        failures: (await store.getFailedItems(id)).map((f) => ({
          entity_type: f.entity_type,
          entity_id: f.entity_id,
          entity_full_path: f.entity_full_path,
          error_message: f.error_message,
          errors: f.errors ?? [],
          error_code: f.error_code,
        })),
        workflow_id: record.workflowId,
      };
    }
    try {
      const status = await readOperationStatus({ sql: deps.sql, temporal: deps.temporal }, id, record.userId);
      return {
        id,
        operation_type: status.operationType,
        status: status.state,
        ...(status.phase ? { phase: status.phase } : {}),
        source: 'workflow',
        total_items: status.totalItems,
        successful_items: status.successfulItems,
        failed_items: status.failedItems,
        ...(status.batchesDone !== undefined ? { batches_done: status.batchesDone } : {}),
        ...(status.done ? { notification: status.notification ?? null } : {}),
        // Redis forgets the failed items when the operation ends; the durable outcomes still have them.
        failures: (await failedProjects(deps.sql, id)).map((f) => ({
          entity_type: 'Project',
          entity_id: f.projectId,
          ...(f.entityFullPath !== null ? { entity_full_path: f.entityFullPath } : {}),
          error_message: f.errorMessage ?? 'Unknown error',
          errors: f.errorDetails,
          error_code: f.errorCode ?? 'unexpected_error',
        })),
        workflow_id: status.workflowId,
      };
    } catch (err) {
      if (err instanceof OperationNotFoundError) throw notFound('Background Operation');
      throw err;
    }
  });
};
