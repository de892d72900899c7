import { resolve } from 'node:path';
import { z } from 'zod';

// The one place process.env is read. Every entry point calls loadConfig() once at start-up and passes the
// parts each component needs; nothing else reads the environment.

const bool = () =>
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), {
      message: 'must be true or false',
    })
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce
  .number({ message: 'must be a port number' })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const hostPort = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port, for example 127.0.0.1:7233');

const httpUrl = z
  .string()
  .trim()
  .url('must be a URL such as http://127.0.0.1:9000')
  .refine((v) => /^https?:\/\//.test(v), 'must start with http:// or https://');

const positiveInt = (max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`);

// Durations are plain milliseconds so that no parsing library decides what "1d" means.
const millis = z.coerce
  .number({ message: 'must be a number of milliseconds' })
  .int('must be a whole number of milliseconds')
  .min(0, 'must not be negative');

const encryptionKey = z
  .string()
  .trim()
  .refine((v) => decodeKey(v) !== undefined, {
    message: 'must be 32 random bytes, given as 64 hex characters or base64 (openssl rand -base64 32)',
  })
  .transform((v) => decodeKey(v) as Buffer);

function decodeKey(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(value)) {
    const buf = Buffer.from(value, 'base64');
    if (buf.length === 32) return buf;
  }
  return undefined;
}

const schema = z.object({
  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233').describe('Temporal frontend gRPC address'),
  TEMPORAL_NAMESPACE: z.string().trim().min(1, 'must not be empty').default('default'),
  // The rest of Temporal's standard client variables (envconfig): TLS, API key, a TOML profile file.
  TEMPORAL_API_KEY: z.string().optional().describe('API key for Temporal Cloud; secret'),
  TEMPORAL_TLS: bool().optional(),
  TEMPORAL_PROFILE: z.string().trim().min(1).optional(),
  TEMPORAL_CONFIG_FILE: z.string().trim().min(1).optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().trim().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().trim().min(1).optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().trim().min(1).optional(),
  TEMPORAL_TLS_CLIENT_CERT_DATA: z.string().optional(),
  TEMPORAL_TLS_CLIENT_KEY_DATA: z.string().optional().describe('TLS client key; secret'),
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().trim().min(1).optional(),
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: bool().optional(),
  TEMPORAL_TASK_QUEUE_EXPORT: z.string().trim().min(1, 'must not be empty').default('offline-export'),
  TEMPORAL_TASK_QUEUE_BULK_UPDATE: z.string().trim().min(1, 'must not be empty').default('security-bulk-update'),
  TEMPORAL_TASK_QUEUE_IMPORT: z.string().trim().min(1, 'must not be empty').default('offline-import'),
  TEMPORAL_UI_PORT: port.default(8233),
  // The Web UI every printed link points at: a remote server's UI, or https://cloud.temporal.io for Temporal Cloud.
  // Unset: the local dev server's UI, http://127.0.0.1:<TEMPORAL_UI_PORT> (contracts/temporal.ts).
  TEMPORAL_UI_URL: httpUrl
    .refine((v) => !/[?#]/.test(v), "must be the Web UI's base URL, without a query or fragment")
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),

  DATABASE_URL: z
    .string()
    .trim()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/gitlab'),
  DATABASE_POOL_SIZE: positiveInt(100).default(10),
  // The destination instance an offline import writes (the other side of the air gap). Unset: the database
  // <DATABASE_URL's database>_destination on the same server, which the dev stack creates and migrates.
  DESTINATION_DATABASE_URL: z
    .string()
    .trim()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/gitlab')
    .optional(),
  REDIS_URL: z
    .string()
    .trim()
    .regex(/^rediss?:\/\/.+/, 'must be a Redis URL such as redis://127.0.0.1:6379/0'),

  S3_ENDPOINT: httpUrl.describe('S3-compatible endpoint of the local stack'),
  S3_REGION: z.string().trim().min(1, 'must not be empty').default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().trim().min(3, 'must be at least 3 characters'),
  S3_SECRET_ACCESS_KEY: z.string().min(8, 'must be at least 8 characters'),
  S3_BUCKET: z
    .string()
    .trim()
    .regex(/^[a-z0-9.-]{3,63}$/, 'must be 3-63 characters of a-z, 0-9, "." and "-"'),

  SMTP_HOST: z.string().trim().min(1, 'must not be empty').default('127.0.0.1'),
  SMTP_PORT: port.default(1025),
  SMTP_SECURE: bool().default(false),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  MAIL_FROM: z
    .string()
    .trim()
    .min(3, 'must be an address such as "GitLab <gitlab@example.com>"')
    .default('GitLab <gitlab@example.test>'),
  MAILDEV_WEB_PORT: port.default(1080),

  ENCRYPTION_KEY: encryptionKey.describe('key for credentials at rest; secret'),
  INSTANCE_BASE_URL: httpUrl.describe('public URL of the GitLab instance, used in email links'),
  // instance_version in metadata.json.gz: GitLab's offline import refuses metadata of versions below 19.0, and its
  // documentation names 19.3 as the first version with offline transfer.
  INSTANCE_VERSION: z
    .string()
    .trim()
    .regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'must be a GitLab version such as 19.3.0')
    .refine((v) => {
      const [major = 0, minor = 0] = v.split('.').map(Number);
      return major > 19 || (major === 19 && minor >= 3);
    }, 'must be 19.3.0 or later: GitLab imports offline exports of 19.3 and later')
    .default('19.3.0'),
  // instance_enterprise in metadata.json.gz: the security inventory this project also runs is an EE feature.
  INSTANCE_ENTERPRISE: bool().default(true),
  ALLOW_LOCAL_NETWORK_ENDPOINTS: bool().default(false),

  // --- offline export (add export settings below this line) ---
  // An export runs one child workflow (one activity) per chunk of consecutive portables, EXPORT_MAX_CONCURRENT_CHUNKS
  // chunks at once, EXPORT_MAX_CONCURRENT_RELATIONS relations at once in each: the per-step cost of Temporal, not
  // the bytes, sets the pace of exports of many small portables. See BENCHMARKS.md for how the sizes were chosen.
  EXPORT_MAX_CONCURRENT_RELATIONS: positiveInt(100).default(16),
  EXPORT_BATCH_SIZE: positiveInt(1_000_000).default(10_000),
  EXPORT_CREDENTIALS_PURGE_DELAY_MS: millis.default(24 * 60 * 60 * 1000),
  EXPORT_PORTABLES_PER_CHUNK: positiveInt(1000).default(50),
  // Relation exports at once in one worker process across all its chunks (memory and database connections scale
  // with it; the pool is sized from it). A chunk may use the slots another chunk in its tail leaves free.
  EXPORT_WORKER_CONCURRENT_RELATIONS: positiveInt(200).default(20),
  EXPORT_MAX_CONCURRENT_CHUNKS: positiveInt(100).default(3),
  // Chunks per run of OfflineExportWorkflow before it continues as new (about a dozen history events each).
  EXPORT_CHUNKS_PER_RUN: positiveInt(700).default(200),
  // How long an export may take from its start to its completion; past it, the export fails (rows, email, purge).
  EXPORT_DEADLINE_MS: millis.default(7 * 24 * 60 * 60 * 1000),
  // --- offline import (add import settings below this line) ---
  // An import runs one child workflow (one activity) per chunk of entities, IMPORT_MAX_CONCURRENT_CHUNKS at once.
  IMPORT_ENTITIES_PER_CHUNK: positiveInt(1000).default(20),
  IMPORT_MAX_CONCURRENT_CHUNKS: positiveInt(100).default(3),
  IMPORT_CHUNKS_PER_RUN: positiveInt(700).default(200),
  // Relations a chunk imports at once; relations at once in one worker process across its chunks.
  IMPORT_MAX_CONCURRENT_RELATIONS: positiveInt(100).default(8),
  IMPORT_WORKER_CONCURRENT_RELATIONS: positiveInt(200).default(16),
  IMPORT_CREDENTIALS_PURGE_DELAY_MS: millis.default(24 * 60 * 60 * 1000),
  IMPORT_DEADLINE_MS: millis.default(7 * 24 * 60 * 60 * 1000),
  // What one object of the bucket may be: its size, its size once gunzipped, records per NDJSON object, one line.
  IMPORT_MAX_OBJECT_BYTES: positiveInt(Number.MAX_SAFE_INTEGER).default(5 * 1024 ** 3),
  IMPORT_MAX_DECOMPRESSED_BYTES: positiveInt(Number.MAX_SAFE_INTEGER).default(25 * 1024 ** 3),
  IMPORT_MAX_RECORDS_PER_BATCH: positiveInt(10_000_000).default(100_000),
  IMPORT_MAX_LINE_BYTES: positiveInt(Number.MAX_SAFE_INTEGER).default(50 * 1024 ** 2),
  // --- bulk update (add bulk-update settings below this line) ---
  BULK_UPDATE_BATCH_SIZE: positiveInt(1000).default(50),
  BULK_UPDATE_MAX_CONCURRENT_BATCHES: positiveInt(500).default(10),
  // Batches BulkUpdateWorkflow starts per run before it continues as new (about eight history events each).
  BULK_UPDATE_BATCHES_PER_RUN: positiveInt(1000).default(300),
  // Batches one BulkUpdateBatchWorkflow child runs in order in one activity (Temporal's per-child cost paid once).
  BULK_UPDATE_BATCHES_PER_CHILD: positiveInt(100).default(10),

  // --- API and process ---
  API_HOST: z.string().trim().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  METRICS_PORT: port.optional(),
  // The worker's own HTTP endpoint for probes: /healthz (alive) and /readyz (every worker polling); unset, none.
  WORKER_HEALTH_PORT: port.optional(),
  // Load dist/workflow-bundle.js (built by `npm run build`) instead of bundling workflows/ with webpack at start-up,
  // as production does (NODE_ENV=production always does): the worker starts faster and ~150 MiB smaller.
  WORKER_PREBUILT_BUNDLE: bool().default(false),
  LOG_LEVEL: z
    .enum(['debug', 'info', 'warn', 'error'], { message: 'must be debug, info, warn or error' })
    .default('info'),
  // json: one JSON object per line; pretty: pino-pretty's readable lines; auto: pretty when writing to a terminal
  // outside production, json otherwise (contracts/logger.ts chooseLogFormat).
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty'], { message: 'must be auto, json or pretty' }).default('auto'),
  // Read here like every other variable: production turns off .env files, pretty logs and runtime bundling.
  NODE_ENV: z.string().trim().min(1).optional(),

  STACK_DATA_DIR: z.string().trim().min(1).default('.data'),
  STACK_TOOLS_DIR: z.string().trim().min(1).default('.tools'),
  // Where the source instance keeps its repositories, uploads and LFS objects (GitLab's repository storage,
  // public/uploads and shared/lfs-objects). Unset: <STACK_DATA_DIR>/storage/<database name>, so every database of
  // the dev stack and of the tests has storage of its own.
  STORAGE_PATH: z.string().trim().min(1).optional(),
  // The destination instance's storage (the import writes repositories, uploads and LFS objects here). Unset:
  // <STACK_DATA_DIR>/storage/<destination database name>.
  DESTINATION_STORAGE_PATH: z.string().trim().min(1).optional(),
});

export type Config = z.infer<typeof schema>;

/** The source instance's file storage: bare repositories, upload files, LFS objects (absolute paths). */
export interface StoragePaths {
  repositories: string;
  uploads: string;
  lfsObjects: string;
}

export function storagePaths(config: Pick<Config, 'STORAGE_PATH' | 'STACK_DATA_DIR' | 'DATABASE_URL'>): StoragePaths {
  const database = decodeURIComponent(new URL(config.DATABASE_URL).pathname.replace(/^\//, '')) || 'postgres';
  const root = resolve(config.STORAGE_PATH ?? resolve(config.STACK_DATA_DIR, 'storage', database));
  return {
    repositories: resolve(root, 'repositories'),
    uploads: resolve(root, 'uploads'),
    lfsObjects: resolve(root, 'lfs-objects'),
  };
}

/** The destination database: DESTINATION_DATABASE_URL, or <database>_destination beside DATABASE_URL's. */
export function destinationDatabaseUrl(config: Pick<Config, 'DATABASE_URL' | 'DESTINATION_DATABASE_URL'>): string {
  if (config.DESTINATION_DATABASE_URL) return config.DESTINATION_DATABASE_URL;
  const u = new URL(config.DATABASE_URL);
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
  u.pathname = `/${encodeURIComponent(`${database}_destination`)}`;
  return u.toString();
}

/** The destination instance's file storage, laid out as the source's. */
export function destinationStoragePaths(
  config: Pick<Config, 'DATABASE_URL' | 'DESTINATION_DATABASE_URL' | 'DESTINATION_STORAGE_PATH' | 'STACK_DATA_DIR'>,
): StoragePaths {
  return storagePaths({
    STORAGE_PATH: config.DESTINATION_STORAGE_PATH,
    STACK_DATA_DIR: config.STACK_DATA_DIR,
    DATABASE_URL: destinationDatabaseUrl(config),
  });
}

/** GitLab's LFS layout under the LFS storage: <root>/<oid[0:2]>/<oid[2:4]>/<oid[4:]>. */
export const lfsFilePath = (root: string, oid: string): string =>
  resolve(root, oid.slice(0, 2), oid.slice(2, 4), oid.slice(4));

/** Names of variables whose values must never be printed. */
export const SECRET_KEYS = [
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'S3_SECRET_ACCESS_KEY',
  'SMTP_PASSWORD',
  'ENCRYPTION_KEY',
  'DATABASE_URL',
  'DESTINATION_DATABASE_URL',
  'REDIS_URL',
] as const satisfies readonly (keyof Config)[];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings in the environment mean "not set", as they do in most shells' .env handling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    const missing = issue.code === 'invalid_type' && cleaned[name] === undefined;
    const description = schema.shape[name as keyof typeof schema.shape]?.description;
    return missing ? `${name} is missing${description ? ` (${description})` : ''}` : `${name} ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** For entry points: print one line per problem and stop, never a stack trace. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/** A printable view of the configuration with every secret masked. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const key of SECRET_KEYS) {
    if (out[key] !== undefined) out[key] = key.endsWith('_URL') ? maskUrl(String(config[key])) : '*****';
  }
  return out;
}

export function maskUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//*****@');
}
