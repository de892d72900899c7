import { migrate } from '../../../db/migrate';
import { seedInstance, type SeedOptions } from '../../../db/seed/generate';
import { createSql, type Sql } from '../../../db/sql';
import {
  stackDown,
  stackUp,
  startStackService,
  stopStackService,
  type StackServiceName,
} from '../../../scripts/stack/index';
import { createRunNamespace } from '../../../scripts/stack/namespaces';
import { loadConfig, storagePaths, type Config } from '../../../contracts/config';
import { note } from './worker';
import { privatePostgresUrl, startPrivatePostgres, stopPrivatePostgres } from './private-postgres';

// The fault-injection tests' own stack: a Temporal dev server, MinIO, maildev and Redis on other ports with their
// own data dir, and a PostgreSQL cluster of their own, so stopping and restarting servers never disturbs the
// shared stack other engineers' tests run on. Settings reach the code under test only through the config object
// (and the environment of the worker processes), never through dev.env.

export const CHAOS_ENV = {
  TEMPORAL_ADDRESS: '127.0.0.1:17233',
  TEMPORAL_UI_PORT: '18233',
  S3_ENDPOINT: 'http://127.0.0.1:19100', // MinIO's console then listens on 19101
  SMTP_PORT: '11025',
  MAILDEV_WEB_PORT: '11080',
  REDIS_URL: 'redis://127.0.0.1:16379/0',
  STACK_DATA_DIR: '.data/chaos',
  METRICS_PORT: '',
} as const;

export interface ChaosStack {
  /** The settings the code under test runs with: the private stack, this file's database and namespace. */
  config: Config;
  /** Environment for a worker process: the private stack, this file's database and namespace. */
  env: Record<string, string>;
  sql: Sql;
  log: string[];
  /** The settings `up`, `down` and a bounce use: the dev server's own namespace, which always exists. */
  stackConfig: Config;
}

const quiet = (lines: string[]) => (line: string) => {
  lines.push(`${new Date().toISOString()} ${line}`);
};

/**
 * Brings the private stack up (starting what does not answer), recreates the file's database on the private
 * PostgreSQL, migrates and seeds it, and registers a Temporal namespace for this run of the database (the dev
 * server's SQLite outlives the database, whose export ids, and so workflow ids, start at 1 again).
 */
export async function chaosStackUp(database: string, seed: SeedOptions): Promise<ChaosStack> {
  const log: string[] = [];
  await startPrivatePostgres();
  // The jest setup set TEMPORAL_NAMESPACE to the shared stack's test namespace, which this server does not have.
  const stackEnv: Record<string, string> = {
    ...CHAOS_ENV,
    TEMPORAL_NAMESPACE: 'default',
    DATABASE_URL: privatePostgresUrl(database),
  };
  const stackConfig = loadConfig({ ...process.env, ...stackEnv });
  const admin = createSql(privatePostgresUrl('postgres'), { max: 1 });
  try {
    await admin.unsafe(`drop database if exists "${database}" with (force)`);
    await admin.unsafe(`create database "${database}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  note('private stack starting');
  await stackUp(stackConfig, { log: quiet(log) });
  const namespace = await createRunNamespace(stackConfig, database, quiet(log));
  const env = { ...stackEnv, TEMPORAL_NAMESPACE: namespace };
  const config: Config = { ...stackConfig, TEMPORAL_NAMESPACE: namespace };
  note(`private stack up (namespace ${namespace}); seeding`);
  const sql = createSql(config.DATABASE_URL, { max: 4 });
  await migrate(sql);
  await seedInstance(sql, { ...seed, files: { storage: storagePaths(config) } });
  note('seeded');
  return { config, env, sql, log, stackConfig };
}

/** Stops what the private stack started, then the private PostgreSQL cluster. */
export async function chaosStackDown(stack: ChaosStack | undefined): Promise<void> {
  if (stack) {
    await stack.sql.end({ timeout: 5 }).catch(() => undefined);
    await stackDown(stack.stackConfig, { log: quiet(stack.log) });
  }
  await stopPrivatePostgres();
}

/** Takes one private server away for `downMs`, then starts it again and waits until it answers. */
export async function bounceService(stack: ChaosStack, name: StackServiceName, downMs: number): Promise<void> {
  await stopStackService(stack.stackConfig, name, { log: quiet(stack.log) });
  await new Promise((r) => setTimeout(r, downMs));
  await startStackService(stack.stackConfig, name, { log: quiet(stack.log) });
}
