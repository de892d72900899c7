import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createRedisStore } from '../../../db/bulk-update/redis-store';
import { failedProjects } from '../../../db/bulk-update/batches';
import { findOperation } from '../../../db/bulk-update/operations';
import { listFailedItems, listOperationsForUser } from '../../../db/bulk-update/operations-read';
import { cancelOperation, OperationNotCancellableError } from '../../bulk-update/cancel-operation';
import { BulkUpdateRequestError } from '../../bulk-update/request';
import { OperationNotFoundError, readOperationStatus } from '../../bulk-update/operation-status';
import { startBulkUpdate } from '../../bulk-update/start-bulk-update';
import { operationStateOf } from '../../bulk-update/workflow-state';
import { toFailedItemEntity, workflowOperationEntity } from '../../bulk-update/operation-entity';
import { ApiError, conflict, notFound, paginationHeaders } from '../errors';
import { jsonSchema, paginationHeaders as paginationHeaderDocs, paginationQuery, routeSchema } from '../openapi';
import { readPagination } from '../pagination';
import { parseQuery } from '../query';
import { currentUser, type RouteModule } from '../server';
import { WorkflowNotFoundError } from '@temporalio/client';

const operationIdParam = z.object({
  id: z
    .string()
    .regex(/^[a-z_]+_\d+_\d+_[0-9a-f]{8}$/)
    .describe('The operation id, "<operation_type>_<user id>_<unix seconds>_<8 hex>"'),
});

const failedItem = z.object({
  entity_type: z.literal('Project'),
  entity_id: z.int(),
  entity_full_path: z.string().optional(),
  error_message: z.string(),
  errors: z.array(z.string()),
  error_code: z.enum(['service_error', 'unexpected_error']),
});
const operationSummary = z.object({
  id: z.string(),
  operation_type: z.string(),
  status: z
    .string()
    .describe(
      'created, collecting, running, finished or failed; canceled, terminated or timed_out once its workflow ended so',
    ),
  total_items: z.int(),
  successful_items: z.int(),
  failed_items: z.int(),
  created_at: z.iso.datetime(),
  workflow_id: z.string(),
});
const operationDetail = z.object({
  id: z.string(),
  operation_type: z.string(),
  status: z.string(),
  phase: z.string().optional(),
  source: z.enum(['redis', 'workflow']),
  total_items: z.int(),
  successful_items: z.int(),
  failed_items: z.int(),
  batches_done: z.int().optional(),
  notification: z.string().nullable().optional(),
  failures: z.array(failedItem.extend({ entity_type: z.string() })),
  workflow_id: z.string(),
});
const paged = (item: z.ZodType) => ({
  ...jsonSchema(z.array(item)),
  description: 'One page; X-Total, X-Page, X-Per-Page, X-Total-Pages, X-Next-Page, X-Prev-Page and Link headers',
  headers: paginationHeaderDocs,
});
const messageBody = z.object({ message: z.string() });

/** The request's URL without its query, for the Link header. */
const baseUrl = (request: FastifyRequest) =>
  new URL(request.url.split('?')[0] ?? '', `http://${request.headers.host ?? 'localhost'}`);

/**
 * REST counterparts of GitLab's bulkUpdateSecurityAttributes mutation and of reading a background operation.
 * Progress comes from the Redis record while the operation runs and from the workflow once the record is gone.
 */
export const bulkUpdateRoutes: RouteModule = async (api, deps) => {
  const store = createRedisStore(deps.redis);

  /** The caller's operation record, or 404 (someone else's operation is reported as missing, not forbidden). */
  const ownOperation = async (request: FastifyRequest) => {
    const { id } = parseQuery(operationIdParam, request.params);
    const record = await findOperation(deps.sql, id);
    if (!record || record.userId !== currentUser(request).id) throw notFound('Background Operation');
    return record;
  };

  api.post(
    '/security/attributes/bulk_update',
    {
      schema: routeSchema({
        summary: "Add, remove or replace security attributes on groups' projects and projects",
        tags: ['security bulk updates'],
        body: z.object({
          group_ids: z.array(z.int()).optional(),
          project_ids: z.array(z.int()).optional(),
          attribute_ids: z.array(z.int()),
          mode: z.enum(['ADD', 'REMOVE', 'REPLACE']),
        }),
        response: {
          202: z.object({
            message: z.string(),
            operation_id: z.string(),
            workflow_id: z.string(),
            errors: z.array(z.string()),
          }),
          422: messageBody,
        },
      }),
    },
    async (request, reply) => {
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
    },
  );

  api.get(
    '/security/background_operations',
    {
      schema: routeSchema({
        summary: "The caller's bulk-update operations, newest first",
        tags: ['security bulk updates'],
        querystring: paginationQuery,
        response: { 200: paged(operationSummary) },
      }),
    },
    async (request, reply) => {
      const { page, perPage } = readPagination(request.query);
      const { rows, total } = await listOperationsForUser(deps.sql, currentUser(request).id, { page, perPage });
      // PostgreSQL has the ending of every operation that finished or failed; one whose workflow was cancelled,
      // terminated or timed out never wrote one, so those still open in the table are asked of Temporal.
      const items = await Promise.all(
        rows.map(async (r) => {
          let status: string = r.status;
          if (r.status !== 'finished' && r.status !== 'failed') {
            const description = await deps.temporal.workflow
              .getHandle(r.workflowId)
              .describe()
              .catch((err: unknown) => {
                if (err instanceof WorkflowNotFoundError) return undefined;
                throw err;
              });
            const name = description?.status.name;
            if (name && name !== 'RUNNING' && name !== 'COMPLETED' && name !== 'CONTINUED_AS_NEW') {
              status = operationStateOf(name);
            }
          }
          return {
            id: r.id,
            operation_type: r.operationType,
            status,
            total_items: r.totalItems,
            successful_items: r.successfulItems,
            failed_items: r.failedItems,
            created_at: r.createdAt.toISOString(),
            workflow_id: r.workflowId,
          };
        }),
      );
      return reply.headers(paginationHeaders(baseUrl(request), page, perPage, total)).send(items);
    },
  );

  api.get(
    '/security/background_operations/:id',
    {
      schema: routeSchema({
        summary: "Progress and failed items of one of the caller's operations",
        tags: ['security bulk updates'],
        params: operationIdParam,
        response: { 200: operationDetail },
      }),
    },
    async (request) => {
      const record = await ownOperation(request);
      const id = record.id;
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
        return workflowOperationEntity(id, status, (await failedProjects(deps.sql, id)).map(toFailedItemEntity));
      } catch (err) {
        if (err instanceof OperationNotFoundError) throw notFound('Background Operation');
        throw err;
      }
    },
  );

  api.get(
    '/security/background_operations/:id/failed_items',
    {
      schema: routeSchema({
        summary: "An operation's failed projects, from PostgreSQL (also after its Redis keys are gone)",
        tags: ['security bulk updates'],
        params: operationIdParam,
        querystring: paginationQuery,
        response: { 200: paged(failedItem) },
      }),
    },
    async (request, reply) => {
      const record = await ownOperation(request);
      const { page, perPage } = readPagination(request.query);
      const { rows, total } = await listFailedItems(deps.sql, record.id, { page, perPage });
      return reply
        .headers(paginationHeaders(baseUrl(request), page, perPage, total))
        .send(rows.map(toFailedItemEntity));
    },
  );

  api.post(
    '/security/background_operations/:id/cancel',
    {
      schema: routeSchema({
        summary: 'Cancel a running operation (projects already updated stay updated)',
        tags: ['security bulk updates'],
        params: operationIdParam,
        response: {
          202: z.object({ id: z.string(), status: z.literal('cancel_requested') }),
          409: messageBody.describe('The operation has already ended'),
        },
      }),
    },
    async (request, reply) => {
      const record = await ownOperation(request);
      try {
        return reply.status(202).send(await cancelOperation(deps, record.id, record.userId));
      } catch (err) {
        if (err instanceof OperationNotFoundError) throw notFound('Background Operation');
        if (err instanceof OperationNotCancellableError) throw conflict(err.message);
        throw err;
      }
    },
  );
};
