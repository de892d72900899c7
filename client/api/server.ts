import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyRequest, type RouteOptions } from 'fastify';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ping } from '../../db/health';
import type { Sql } from '../../db/sql';
import { userByToken, type AuthenticatedUser } from '../../db/users';
import type { Config } from '../../contracts/config';
import type { Logger } from '../../contracts/logger';
import { ApiError, unauthorized } from './errors';
import { openApiRoute, registerOpenApi, routeSchema } from './openapi';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id';

export interface ApiDeps {
  sql: Sql;
  redis: Redis;
  temporal: Client;
  config: Config;
  log: Logger;
  /** Overrides the configured task queues (tests run their own worker). */
  taskQueues?: { export?: string; bulkUpdate?: string };
}

declare module 'fastify' {
  interface FastifyRequest {
    user?: AuthenticatedUser;
  }
}

export type RouteModule = (app: FastifyInstance, deps: ApiDeps) => void | Promise<void>;

/** The authenticated user of a request under /api/v4 (the onRequest hook guarantees one). */
export function currentUser(request: FastifyRequest): AuthenticatedUser {
  if (!request.user) throw unauthorized();
  return request.user;
}

const API_VERSION = '4';

/**
 * GitLab-style REST API: PRIVATE-TOKEN auth, {"message": ...} errors ({"error": ...} for refused parameters),
 * per-user rate limits with GitLab's RateLimit-* headers, request ids, one access log line per request, and the
 * OpenAPI document of every route.
 */
export async function buildApi(
  deps: ApiDeps,
  routes: RouteModule[] = [],
  options: {
    /** Sees every route as it is registered (the OpenAPI test checks the document against them). */
    onRoute?: (route: RouteOptions) => void;
  } = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // Deeply nested or huge JSON is refused by the parser before any handler sees it.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    genReqId: requestIdOf,
  });
  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  await registerOpenApi(app, API_VERSION);

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  // The access log: one line per request, after the answer went out. The route is the pattern, never the URL,
  // so that no query parameter (a token pasted into one, say) reaches the log.
  app.addHook('onResponse', async (request, reply) => {
    deps.log.info('api request', {
      request_id: request.id,
      method: request.method,
      route: request.routeOptions.url ?? null,
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 100) / 100,
      user_id: request.user?.id ?? null,
    });
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof ApiError) return reply.status(error.status).send({ [error.key]: error.body });
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.status(status).send({ message: (error as Error).message });
    }
    deps.log.error('api request failed', {
      request_id: request.id,
      method: request.method,
      route: request.routeOptions.url ?? null,
      user_id: request.user?.id ?? null,
      error,
    });
    return reply.status(500).send({ message: '500 Internal Server Error' });
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ message: '404 Not Found' }));

  const healthSchema = routeSchema({
    summary: 'Liveness: the API process answers',
    tags: ['health'],
    authenticated: false,
    response: { 200: z.object({ status: z.literal('ok') }) },
  });
  app.get('/-/health', { schema: healthSchema }, async () => ({ status: 'ok' }));
  const check = z.enum(['ok', 'failed']);
  const readiness = z.object({
    status: check,
    checks: z.object({ postgresql: check, redis: check, temporal: check }),
  });
  app.get(
    '/-/readiness',
    {
      schema: routeSchema({
        summary: 'Readiness: PostgreSQL, Redis and Temporal answer',
        tags: ['health'],
        authenticated: false,
        response: { 200: readiness, 503: readiness },
      }),
    },
    async (_request, reply) => {
      const probe = async (run: () => Promise<unknown>): Promise<'ok' | 'failed'> =>
        run().then(
          () => 'ok' as const,
          () => 'failed' as const,
        );
      const [postgresql, redis, temporal] = await Promise.all([
        probe(() => ping(deps.sql)),
        probe(() => deps.redis.ping()),
        probe(() => deps.temporal.connection.workflowService.getSystemInfo({})),
      ]);
      const checks = { postgresql, redis, temporal };
      const ok = Object.values(checks).every((c) => c === 'ok');
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'failed', checks });
    },
  );
  openApiRoute(app);

  await app.register(
    async (api) => {
      api.addHook('onRequest', async (request) => {
        const header = request.headers['private-token'];
        const bearer = request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
        const token = (Array.isArray(header) ? header[0] : header) ?? bearer;
        if (!token || token.length > 512) throw unauthorized();
        const user = await userByToken(deps.sql, token);
        if (!user) throw unauthorized();
        request.user = user;
      });
      api.get(
        '/user',
        {
          schema: routeSchema({
            summary: "The token's user",
            tags: ['user'],
            response: { 200: z.object({ id: z.int(), username: z.string(), name: z.string(), email: z.string() }) },
          }),
        },
        async (request) => {
          const { id, username, name, email } = currentUser(request);
          return { id, username, name, email };
        },
      );
      for (const route of routes) await route(api, deps);
    },
    { prefix: '/api/v4' },
  );

  return app;
}
