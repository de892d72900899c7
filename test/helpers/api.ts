import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { apiRoutes } from '../../client/api/routes';
import { buildApi, type ApiDeps } from '../../client/api/server';
import { createSql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { createLogger } from '../../contracts/logger';
import { temporalConnectionOptions } from '../../contracts/temporal';

export interface TestApi {
  url: string;
  deps: ApiDeps;
  app: FastifyInstance;
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; rawBody?: string },
  ): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

/** The real API on a random port, against the test database, Redis and Temporal. */
export async function startTestApi(taskQueues?: ApiDeps['taskQueues']): Promise<TestApi> {
  const config = loadConfig();
  const sql = createSql(config.DATABASE_URL, { max: 5 });
  const redis = new Redis(config.REDIS_URL);
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const deps: ApiDeps = { sql, redis, temporal, config, log: createLogger({ level: 'error' }), taskQueues };
  const app = await buildApi(deps, apiRoutes);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: address,
    deps,
    app,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = {};
      if (options.token) headers['PRIVATE-TOKEN'] = options.token;
      let body: string | undefined;
      if (options.rawBody !== undefined) body = options.rawBody;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(`${address}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed };
    },
    async close() {
      await app.close();
      await connection.close();
      await Promise.allSettled([sql.end({ timeout: 5 }), redis.quit()]);
    },
  };
}
