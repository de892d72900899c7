import rateLimit from '@fastify/rate-limit';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { ping } from '../../db/health';
import type { Sql } from '../../db/sql';
import { userByToken, type AuthenticatedUser } from '../../db/users';
import type { Config } from '../../contracts/config';
import type { Logger } from '../../contracts/logger';
import { ApiError, tooManyRequests, unauthorized } from './errors';

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

/** GitLab-style REST API: PRIVATE-TOKEN auth, {"message": ...} errors, per-user rate limits. */
export async function buildApi(deps: ApiDeps, routes: RouteModule[] = []): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // Deeply nested or huge JSON is refused by the parser before any handler sees it.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof ApiError) return reply.status(error.status).send({ message: error.body });
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.status(status).send({ message: (error as Error).message });
    }
    deps.log.error('api request failed', { method: request.method, url: request.routeOptions.url, error });
    return reply.status(500).send({ message: '500 Internal Server Error' });
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ message: '404 Not Found' }));

  await app.register(rateLimit, {
    global: false,
    redis: deps.redis,
    nameSpace: 'api_rate_limit:',
    hook: 'preHandler',
    keyGenerator: (request) => (request.user ? `user:${request.user.id}` : `ip:${request.ip}`),
    errorResponseBuilder: () => tooManyRequests(),
  });

  app.get('/-/health', async () => ({ status: 'ok' }));
  app.get('/-/readiness', async (_request, reply) => {
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
  });

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
      api.get('/user', async (request) => {
        const { id, username, name, email } = currentUser(request);
        return { id, username, name, email };
      });
      for (const route of routes) await route(api, deps);
    },
    { prefix: '/api/v4' },
  );

  return app;
}
