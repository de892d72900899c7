import { z } from 'zod';
import { featureEnabled } from '../../../db/access';
import { readOfflineExportSettings } from '../../../db/offline-export/create';
import { findOfflineExportForUser, listOfflineExportsForUser } from '../../../db/offline-export/exports-read';
import { EXPORT_STATUS_NAMES, type ExportStatusValue } from '../../../db/offline-export/statuses';
import {
  createOfflineExport,
  FEATURE_FLAG,
  OfflineExportRequestError,
  OfflineExportStartError,
  toEntity,
} from '../../offline-export/create-service';
import { ApiError, notFound, paginationHeaders, recordNotFound } from '../errors';
import { readPagination } from '../pagination';
import { integerParam, parseQuery } from '../query';
import { currentUser, type RouteModule } from '../server';

const STATUS_BY_NAME = Object.fromEntries(
  Object.entries(EXPORT_STATUS_NAMES).map(([value, name]) => [name, Number(value)]),
) as Record<string, ExportStatusValue>;

// Parameters Grape does not declare are ignored, as GitLab ignores them; page and per_page are readPagination's.
const listQuery = z.object({
  sort: z.enum(['asc', 'desc']).default('desc'),
  status: z.enum(['created', 'started', 'finished', 'failed']).optional(),
});

/** lib/api/offline_transfers.rb: POST/GET /offline_exports, GET /offline_exports/:id. */
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

    api.post(
      '/offline_exports',
      { config: { rateLimit: { max: 6, timeWindow: '1 minute' } } },
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

    api.get('/offline_exports', async (request, reply) => {
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
      const url = new URL(request.url.split('?')[0] ?? '', `http://${request.headers.host ?? 'localhost'}`);
      url.searchParams.set('sort', query.sort);
      if (query.status !== undefined) url.searchParams.set('status', query.status);
      return reply.headers(paginationHeaders(url, page, perPage, total)).send(rows.map(toEntity));
    });

    api.get('/offline_exports/:id', async (request) => {
      // GitLab finds the export with `offline_exports.find(id)`: any integer that is not one of the caller's
      // exports (0, negative, beyond the id column) is its RecordNotFound answer, only a non-integer is a 400.
      const id = integerParam(request.params, 'id');
      if (id === undefined) throw new ApiError(400, 'id is missing');
      const row =
        Number.isSafeInteger(id) && id > 0
          ? await findOfflineExportForUser(deps.sql, currentUser(request).id, id)
          : null;
      if (!row) throw recordNotFound();
      return toEntity(row);
    });
  });
};
