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
import { loadConfig, type Config } from '../../../contracts/config';
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
  config: Config;
  /** Environment for a worker process: the private stack and this file's database. */
  env: Record<string, string>;
  sql: Sql;
  log: string[];
}

const quiet = (lines: string[]) => (line: string) => {
  lines.push(`${new Date().toISOString()} ${line}`);
};

/**
 * Brings the private stack up (starting what does not answer), recreates the file's database on the private
 * PostgreSQL, migrates and seeds it, and moves the export ids to a random range (the Temporal server's SQLite
 * outlives the database, and workflow ids derive from export ids).
 */
export async function chaosStackUp(database: string, seed: SeedOptions): Promise<ChaosStack> {
  const log: string[] = [];
  await startPrivatePostgres();
  const env: Record<string, string> = { ...CHAOS_ENV, DATABASE_URL: privatePostgresUrl(database) };
  const config = loadConfig({ ...process.env, ...env });
  const admin = createSql(privatePostgresUrl('postgres'), { max: 1 });
  try {
    await admin.unsafe(`drop database if exists "${database}" with (force)`);
    await admin.unsafe(`create database "${database}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  note('private stack starting');
  await stackUp(config, { log: quiet(log) });
  note('private stack up; seeding');
  const sql = createSql(config.DATABASE_URL, { max: 4 });
  await migrate(sql);
  await seedInstance(sql, seed);
  await sql.unsafe(
    `select setval(pg_get_serial_sequence('import_offline_exports', 'id'), ${1_000_000 + Math.floor(Math.random() * 1_000_000_000)})`,
  );
  note('seeded');
  return { config, env, sql, log };
}

/** Stops what the private stack started, then the private PostgreSQL cluster. */
export async function chaosStackDown(stack: ChaosStack | undefined): Promise<void> {
  if (stack) {
    await stack.sql.end({ timeout: 5 }).catch(() => undefined);
    await stackDown(stack.config, { log: quiet(stack.log) });
  }
  await stopPrivatePostgres();
}

/** Takes one private server away for `downMs`, then starts it again and waits until it answers. */
export async function bounceService(stack: ChaosStack, name: StackServiceName, downMs: number): Promise<void> {
  await stopStackService(stack.config, name, { log: quiet(stack.log) });
  await new Promise((r) => setTimeout(r, downMs));
  await startStackService(stack.config, name, { log: quiet(stack.log) });
}
