import { z } from 'zod';
import { featureEnabled } from '../../../db/access';
import { readOfflineExportSettings } from '../../../db/offline-export/create';
import { listExportRelations } from '../../../db/offline-export/export-relations-read';
import { findOfflineExportForUser, listOfflineExportsForUser } from '../../../db/offline-export/exports-read';
import { EXPORT_STATUS_NAMES, type ExportStatusValue } from '../../../db/offline-export/statuses';
import {
  cancelOfflineExport,
  OfflineExportNotCancellableError,
  OfflineExportNotFoundError,
} from '../../offline-export/cancel-service';
import {
  createOfflineExport,
  FEATURE_FLAG,
  OfflineExportRequestError,
  OfflineExportStartError,
  toEntity,
} from '../../offline-export/create-service';
import { toRelationEntity } from '../../offline-export/relation-entity';
import { ApiError, conflict, invalidParameter, notFound, paginationHeaders, recordNotFound } from '../errors';
import { jsonSchema, paginationHeaders as paginationHeaderDocs, paginationQuery, routeSchema } from '../openapi';
import { readPagination } from '../pagination';
import { integerParam, parseQuery } from '../query';
import { rateLimited } from '../rate-limit';
import { currentUser, type RouteModule } from '../server';
import type { FastifyRequest } from 'fastify';

const STATUS_BY_NAME = Object.fromEntries(
  Object.entries(EXPORT_STATUS_NAMES).map(([value, name]) => [name, Number(value)]),
) as Record<string, ExportStatusValue>;

// Parameters Grape does not declare are ignored, as GitLab ignores them; page and per_page are readPagination's.
const listQuery = z.object({
  sort: z.enum(['asc', 'desc']).default('desc'),
  status: z.enum(['created', 'started', 'finished', 'failed']).optional(),
});
const relationsQuery = z.object({
  status: z.enum(['pending', 'started', 'finished', 'failed']).optional(),
  relation: z.string().max(255).optional().describe("A relation's name (`self`, `labels`, `issues`, ...)"),
});
const idParams = z.object({ id: z.int().describe("The export's id") });

const exportEntity = z.object({
  id: z.int(),
  status: z.enum(['created', 'started', 'finished', 'failed']),
  source_hostname: z.string(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  has_failures: z.boolean(),
  bucket: z.string(),
  export_prefix: z.string(),
});
const relationEntity = z.object({
  portable_type: z.enum(['group', 'project']),
  portable_id: z.int(),
  portable_full_path: z.string().nullable(),
  relation: z.string(),
  status: z.enum(['pending', 'started', 'finished', 'failed']),
  error: z.string().nullable(),
  batched: z.boolean(),
  batches_count: z.int(),
  total_objects_count: z.int(),
  updated_at: z.iso.datetime(),
});
const paged = (item: z.ZodType) => ({
  ...jsonSchema(z.array(item)),
  description: 'One page; X-Total, X-Page, X-Per-Page, X-Total-Pages, X-Next-Page, X-Prev-Page and Link headers',
  headers: paginationHeaderDocs,
});
const messageBody = z.object({ message: z.string() });

/** The path's export id, read as GitLab's `find(id)` does: only a non-integer is a 400. */
function exportIdOf(request: FastifyRequest): number | undefined {
  const id = integerParam(request.params, 'id');
  if (id === undefined) throw invalidParameter('id is missing');
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The request's URL without its query, for the Link header. */
const baseUrl = (request: FastifyRequest) =>
  new URL(request.url.split('?')[0] ?? '', `http://${request.headers.host ?? 'localhost'}`);

/** lib/api/offline_transfers.rb: POST/GET /offline_exports, GET /offline_exports/:id; and ours (relations, cancel). */
export const offlineExportRoutes: RouteModule = async (parent, deps) => {
  await parent.register(async (api) => {
    // GitLab answers 404 for the whole resource unless the flag (for this user) and the instance setting are on.
    api.addHook('preHandler', async (request) => {
      const user = currentUser(request);
      const [settings, flag] = await Promise.all([
        readOfflineExportSettings(deps.sql),
        featureEnabled(deps.sql, FEATURE_FLAG, { type: 'User', id: user.id }),
      ]);
      if (!settings.exportsEnabled || !flag) throw notFound();
    });

    /** One of the caller's exports, or GitLab's RecordNotFound answer. */
    const ownExport = async (request: FastifyRequest) => {
      const id = exportIdOf(request);
      const row = id === undefined ? undefined : await findOfflineExportForUser(deps.sql, currentUser(request).id, id);
      if (!row) throw recordNotFound();
      return row;
    };

    api.post(
      '/offline_exports',
      {
        schema: routeSchema({
          summary: 'Start an offline transfer export',
          description:
            'Body: bucket, exactly one of aws_s3_configuration / s3_compatible_configuration, entities[].full_path. ' +
            '6 requests per minute per user (RateLimit-* headers).',
          tags: ['offline exports'],
          body: z.object({
            bucket: z.string(),
            aws_s3_configuration: z.record(z.string(), z.unknown()).optional(),
            s3_compatible_configuration: z.record(z.string(), z.unknown()).optional(),
            entities: z.array(z.object({ full_path: z.string() })),
          }),
          response: {
            201: exportEntity,
            422: messageBody,
            429: z.object({ message: z.object({ error: z.string() }) }),
            503: messageBody,
          },
        }),
        // GitLab's check_rate_limit!(:offline_export, scope: current_user): Gitlab::ApplicationRateLimiter's
        // bulk-import-like 6 per minute.
        preHandler: rateLimited(deps.redis, { name: 'offline_export', threshold: 6, intervalSeconds: 60 }),
      },
      async (request, reply) => {
        try {
          const { export: entity } = await createOfflineExport(
            { sql: deps.sql, temporal: deps.temporal, config: deps.config, taskQueue: deps.taskQueues?.export },
            { id: currentUser(request).id },
            request.body ?? {},
          );
          return reply.status(201).send(entity);
        } catch (err) {
          if (err instanceof OfflineExportRequestError) throw new ApiError(err.status, err.message);
          if (err instanceof OfflineExportStartError) throw new ApiError(503, err.message);
          throw err;
        }
      },
    );

    api.get(
      '/offline_exports',
      {
        schema: routeSchema({
          summary: "The caller's exports, newest first by default",
          tags: ['offline exports'],
          querystring: listQuery.extend(paginationQuery.shape),
          response: { 200: paged(exportEntity) },
        }),
      },
      async (request, reply) => {
        const query = parseQuery(listQuery, request.query);
        const { page, perPage } = readPagination(request.query);
        const { rows, total } = await listOfflineExportsForUser(deps.sql, currentUser(request).id, {
          page,
          perPage,
          sort: query.sort,
          status: query.status === undefined ? undefined : STATUS_BY_NAME[query.status],
        });
        // The Link header carries the parameters this endpoint reads, with their defaults as GitLab's do; ignored
        // ones are left out so that a long unknown parameter cannot grow the headers past what clients accept.
        const url = baseUrl(request);
        url.searchParams.set('sort', query.sort);
        if (query.status !== undefined) url.searchParams.set('status', query.status);
        return reply.headers(paginationHeaders(url, page, perPage, total)).send(rows.map(toEntity));
      },
    );

    api.get(
      '/offline_exports/:id',
      {
        schema: routeSchema({
          summary: 'One of the caller\'s exports ("404 Not found" for any other id)',
          tags: ['offline exports'],
          params: idParams,
          response: { 200: exportEntity },
        }),
      },
      // GitLab finds the export with `offline_exports.find(id)`: any integer that is not one of the caller's
      // exports (0, negative, beyond the id column) is its RecordNotFound answer, only a non-integer is a 400.
      async (request) => toEntity(await ownExport(request)),
    );

    api.get(
      '/offline_exports/:id/relations',
      {
        schema: routeSchema({
          summary: "An export's relations per group and project, with their status and error",
          description:
            "One row per portable and relation (the 'self' rows included), ordered by portable_full_path then " +
            "relation. Statuses are GitLab's BulkImports::Export states.",
          tags: ['offline exports'],
          params: idParams,
          querystring: relationsQuery.extend(paginationQuery.shape),
          response: { 200: paged(relationEntity) },
        }),
      },
      async (request, reply) => {
        const row = await ownExport(request);
        const query = parseQuery(relationsQuery, request.query);
        const { page, perPage } = readPagination(request.query);
        const { rows, total } = await listExportRelations(deps.sql, row.id, query, { page, perPage });
        const url = baseUrl(request);
        if (query.status !== undefined) url.searchParams.set('status', query.status);
        if (query.relation !== undefined) url.searchParams.set('relation', query.relation);
        return reply.headers(paginationHeaders(url, page, perPage, total)).send(rows.map(toRelationEntity));
      },
    );

    api.post(
      '/offline_exports/:id/cancel',
      {
        schema: routeSchema({
          summary: 'Cancel a running export',
          description:
            "Requests cancellation of the export's workflow: uploads in flight are aborted, unfinished relations " +
            'and the export are marked failed. Answers the export as it stands once cancellation was requested.',
          tags: ['offline exports'],
          params: idParams,
          response: { 200: exportEntity, 409: messageBody.describe('The export has already finished or failed') },
        }),
      },
      async (request) => {
        const id = exportIdOf(request);
        if (id === undefined) throw recordNotFound();
        try {
          return await cancelOfflineExport(deps, currentUser(request).id, id);
        } catch (err) {
          if (err instanceof OfflineExportNotFoundError) throw recordNotFound();
          if (err instanceof OfflineExportNotCancellableError) throw conflict(err.message);
          throw err;
        }
      },
    );
  });
};
