import {
  ConfigError,
  loadConfig,
  loadConfigOrExit,
  maskUrl,
  redactedConfig,
  SECRET_KEYS,
} from '../../contracts/config';
import { createLogger } from '../../contracts/logger';
import { valid } from './valid-env';

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('accepts a complete environment and applies defaults', () => {
    const config = loadConfig(valid);
    expect(config.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
    expect(config.TEMPORAL_UI_PORT).toBe(8233);
    expect(config.EXPORT_MAX_CONCURRENT_CHUNKS).toBe(3);
    expect(config.ENCRYPTION_KEY).toHaveLength(32);
    expect(config.ALLOW_LOCAL_NETWORK_ENDPOINTS).toBe(false);
  });

  it('gives every optional setting its documented default, as numbers and booleans rather than strings', () => {
    expect(loadConfig(valid)).toMatchObject({
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE_EXPORT: 'offline-export',
      TEMPORAL_TASK_QUEUE_BULK_UPDATE: 'security-bulk-update',
      DATABASE_POOL_SIZE: 10,
      S3_REGION: 'us-east-1',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: 1025,
      SMTP_SECURE: false,
      MAIL_FROM: 'GitLab <gitlab@example.test>',
      MAILDEV_WEB_PORT: 1080,
      INSTANCE_VERSION: '19.3.0',
      INSTANCE_ENTERPRISE: true,
      EXPORT_MAX_CONCURRENT_RELATIONS: 16,
      EXPORT_BATCH_SIZE: 10_000,
      EXPORT_CREDENTIALS_PURGE_DELAY_MS: 24 * 60 * 60 * 1000,
      EXPORT_PORTABLES_PER_CHUNK: 50,
      EXPORT_WORKER_CONCURRENT_RELATIONS: 20,
      EXPORT_CHUNKS_PER_RUN: 200,
      BULK_UPDATE_BATCH_SIZE: 50,
      BULK_UPDATE_MAX_CONCURRENT_BATCHES: 10,
      BULK_UPDATE_BATCHES_PER_RUN: 300,
      BULK_UPDATE_BATCHES_PER_CHILD: 10,
      API_HOST: '127.0.0.1',
      API_PORT: 3000,
      WORKER_PREBUILT_BUNDLE: false,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'auto',
      STACK_DATA_DIR: '.data',
      STACK_TOOLS_DIR: '.tools',
    });
    const config = loadConfig(valid);
    // Optional settings without a default stay absent, so envconfig and the SDK apply their own.
    for (const key of [
      'TEMPORAL_API_KEY',
      'TEMPORAL_TLS',
      'TEMPORAL_PROFILE',
      'SMTP_USER',
      'SMTP_PASSWORD',
      'METRICS_PORT',
      'WORKER_HEALTH_PORT',
      'TEMPORAL_UI_URL',
    ] as const) {
      expect(config[key]).toBeUndefined();
    }
  });

  it('reads numbers, trims values and ignores variables it does not know', () => {
    const config = loadConfig({
      ...valid,
      TEMPORAL_ADDRESS: '  temporal.internal:7233 ',
      SMTP_PORT: '2525',
      BULK_UPDATE_BATCH_SIZE: '1000',
      EXPORT_CREDENTIALS_PURGE_DELAY_MS: '0',
      PATH: '/usr/bin',
      SOMETHING_ELSE: 'x',
    });
    expect(config.TEMPORAL_ADDRESS).toBe('temporal.internal:7233');
    expect(config.SMTP_PORT).toBe(2525);
    expect(config.BULK_UPDATE_BATCH_SIZE).toBe(1000);
    expect(config.EXPORT_CREDENTIALS_PURGE_DELAY_MS).toBe(0);
    expect(config).not.toHaveProperty('PATH');
    expect(config).not.toHaveProperty('SOMETHING_ELSE');
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    [' yes ', true],
    ['1', true],
    ['false', false],
    ['No', false],
    ['0', false],
  ])('reads the boolean %j as %s', (value, expected) => {
    expect(loadConfig({ ...valid, ALLOW_LOCAL_NETWORK_ENDPOINTS: value }).ALLOW_LOCAL_NETWORK_ENDPOINTS).toBe(expected);
    expect(loadConfig({ ...valid, SMTP_SECURE: value }).SMTP_SECURE).toBe(expected);
  });

  it('takes the encryption key as 64 hex characters or as base64 of exactly 32 bytes', () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));
    expect(loadConfig({ ...valid, ENCRYPTION_KEY: bytes.toString('hex') }).ENCRYPTION_KEY).toEqual(bytes);
    expect(loadConfig({ ...valid, ENCRYPTION_KEY: bytes.toString('hex').toUpperCase() }).ENCRYPTION_KEY).toEqual(bytes);
    expect(loadConfig({ ...valid, ENCRYPTION_KEY: bytes.toString('base64') }).ENCRYPTION_KEY).toEqual(bytes);
    expect(loadConfig({ ...valid, ENCRYPTION_KEY: bytes.toString('base64').replace(/=$/, '') }).ENCRYPTION_KEY).toEqual(
      bytes,
    );

    const message =
      'ENCRYPTION_KEY must be 32 random bytes, given as 64 hex characters or base64 (openssl rand -base64 32)';
    expect(problems({ ...valid, ENCRYPTION_KEY: Buffer.alloc(31, 1).toString('base64') })).toEqual([message]);
    expect(problems({ ...valid, ENCRYPTION_KEY: Buffer.alloc(48, 1).toString('base64') })).toEqual([message]);
    expect(problems({ ...valid, ENCRYPTION_KEY: 'g'.repeat(64) })).toEqual([message]);
    expect(problems({ ...valid, ENCRYPTION_KEY: 'a'.repeat(63) })).toEqual([message]);
  });

  it('names every missing variable on its own line', () => {
    const lines = problems({ S3_BUCKET: 'ok-bucket' });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DATABASE_URL is missing/),
        expect.stringMatching(/^REDIS_URL is missing/),
        expect.stringMatching(/^S3_ENDPOINT is missing/),
        expect.stringMatching(/^ENCRYPTION_KEY is missing/),
        expect.stringMatching(/^INSTANCE_BASE_URL is missing/),
      ]),
    );
    expect(lines.some((l) => l.startsWith('S3_BUCKET'))).toBe(false);
  });

  it('lists the required variables in schema order, with what they are for when the schema says so', () => {
    expect(problems({})).toEqual([
      'DATABASE_URL is missing',
      'REDIS_URL is missing',
      'S3_ENDPOINT is missing (S3-compatible endpoint of the local stack)',
      'S3_ACCESS_KEY_ID is missing',
      'S3_SECRET_ACCESS_KEY is missing',
      'S3_BUCKET is missing',
      'ENCRYPTION_KEY is missing (key for credentials at rest; secret)',
      'INSTANCE_BASE_URL is missing (public URL of the GitLab instance, used in email links)',
    ]);
  });

  it('says what a bad value should be', () => {
    const lines = problems({
      ...valid,
      TEMPORAL_ADDRESS: 'localhost',
      SMTP_PORT: '99999',
      ALLOW_LOCAL_NETWORK_ENDPOINTS: 'maybe',
      ENCRYPTION_KEY: 'short',
      S3_BUCKET: 'Bad_Bucket',
      LOG_LEVEL: 'loud',
    });
    expect(lines).toEqual([
      'TEMPORAL_ADDRESS must be host:port, for example 127.0.0.1:7233',
      'S3_BUCKET must be 3-63 characters of a-z, 0-9, "." and "-"',
      'SMTP_PORT must be between 1 and 65535',
      'ENCRYPTION_KEY must be 32 random bytes, given as 64 hex characters or base64 (openssl rand -base64 32)',
      'ALLOW_LOCAL_NETWORK_ENDPOINTS must be true or false',
      'LOG_LEVEL must be debug, info, warn or error',
    ]);
  });

  it('explains bad numbers, URLs and strings setting by setting', () => {
    expect(
      problems({
        ...valid,
        TEMPORAL_NAMESPACE: '   ',
        DATABASE_URL: 'mysql://db.internal/gitlab',
        REDIS_URL: 'http://127.0.0.1:6379',
        S3_ACCESS_KEY_ID: 'ab',
        SMTP_PORT: 'abc',
        MAIL_FROM: 'ab',
        EXPORT_BATCH_SIZE: '0',
        EXPORT_CREDENTIALS_PURGE_DELAY_MS: '-1',
        BULK_UPDATE_BATCH_SIZE: '1001',
        API_PORT: '1.5',
        METRICS_PORT: '0',
      }),
    ).toEqual([
      'TEMPORAL_NAMESPACE must not be empty',
      'DATABASE_URL must be a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/gitlab',
      'REDIS_URL must be a Redis URL such as redis://127.0.0.1:6379/0',
      'S3_ACCESS_KEY_ID must be at least 3 characters',
      'SMTP_PORT must be a port number',
      'MAIL_FROM must be an address such as "GitLab <gitlab@example.com>"',
      'EXPORT_BATCH_SIZE must be at least 1',
      'EXPORT_CREDENTIALS_PURGE_DELAY_MS must not be negative',
      'BULK_UPDATE_BATCH_SIZE must be at most 1000',
      'API_PORT must be a whole number',
      'METRICS_PORT must be between 1 and 65535',
    ]);
    expect(problems({ ...valid, S3_ENDPOINT: 'ftp://s3.example.test' })).toEqual([
      'S3_ENDPOINT must start with http:// or https://',
    ]);
    expect(problems({ ...valid, INSTANCE_BASE_URL: 'not a url' })).toContain(
      'INSTANCE_BASE_URL must be a URL such as http://127.0.0.1:9000',
    );
    expect(problems({ ...valid, S3_BUCKET: 'ab' })).toEqual([
      'S3_BUCKET must be 3-63 characters of a-z, 0-9, "." and "-"',
    ]);
    expect(problems({ ...valid, S3_BUCKET: 'a'.repeat(64) })).toEqual([
      'S3_BUCKET must be 3-63 characters of a-z, 0-9, "." and "-"',
    ]);
  });

  it('takes an instance version GitLab imports offline exports of (19.3 and later), and refuses older ones', () => {
    expect(loadConfig({ ...valid, INSTANCE_VERSION: '19.3.0' }).INSTANCE_VERSION).toBe('19.3.0');
    expect(loadConfig({ ...valid, INSTANCE_VERSION: '20.0.1-ee' }).INSTANCE_VERSION).toBe('20.0.1-ee');
    expect(loadConfig({ ...valid, INSTANCE_VERSION: '19.10.2' }).INSTANCE_VERSION).toBe('19.10.2');
    expect(problems({ ...valid, INSTANCE_VERSION: '18.10.0' })).toEqual([
      'INSTANCE_VERSION must be 19.3.0 or later: GitLab imports offline exports of 19.3 and later',
    ]);
    expect(problems({ ...valid, INSTANCE_VERSION: '19.2.9' })).toHaveLength(1);
    expect(problems({ ...valid, INSTANCE_VERSION: 'latest' })).toEqual([
      'INSTANCE_VERSION must be a GitLab version such as 19.3.0',
      'INSTANCE_VERSION must be 19.3.0 or later: GitLab imports offline exports of 19.3 and later',
    ]);
    expect(loadConfig({ ...valid, INSTANCE_ENTERPRISE: 'false' }).INSTANCE_ENTERPRISE).toBe(false);
  });

  it('takes the Web UI base URL of a remote server or Temporal Cloud, without a trailing slash', () => {
    expect(loadConfig({ ...valid, TEMPORAL_UI_URL: 'https://cloud.temporal.io' }).TEMPORAL_UI_URL).toBe(
      'https://cloud.temporal.io',
    );
    expect(loadConfig({ ...valid, TEMPORAL_UI_URL: ' https://ops.example.com/temporal/ ' }).TEMPORAL_UI_URL).toBe(
      'https://ops.example.com/temporal',
    );
    expect(loadConfig({ ...valid, TEMPORAL_UI_URL: '' }).TEMPORAL_UI_URL).toBeUndefined();
    expect(problems({ ...valid, TEMPORAL_UI_URL: 'temporal-ui:8080' })).toEqual([
      'TEMPORAL_UI_URL must start with http:// or https://',
    ]);
    expect(problems({ ...valid, TEMPORAL_UI_URL: 'not a url' })).toContain(
      'TEMPORAL_UI_URL must be a URL such as http://127.0.0.1:9000',
    );
    expect(problems({ ...valid, TEMPORAL_UI_URL: 'https://ui.example.com/?ns=default' })).toEqual([
      "TEMPORAL_UI_URL must be the Web UI's base URL, without a query or fragment",
    ]);
  });

  it('reads the log format, the worker health port and NODE_ENV', () => {
    expect(
      loadConfig({ ...valid, LOG_FORMAT: 'pretty', WORKER_HEALTH_PORT: '9465', NODE_ENV: 'production' }),
    ).toMatchObject({ LOG_FORMAT: 'pretty', WORKER_HEALTH_PORT: 9465, NODE_ENV: 'production' });
    expect(loadConfig({ ...valid, LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
    expect(problems({ ...valid, LOG_FORMAT: 'yaml', WORKER_HEALTH_PORT: '70000' })).toEqual([
      'WORKER_HEALTH_PORT must be between 1 and 65535',
      'LOG_FORMAT must be auto, json or pretty',
    ]);
  });

  it('accepts the URL forms it documents', () => {
    const config = loadConfig({
      ...valid,
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/gitlab',
      REDIS_URL: 'rediss://redis.internal:6380/1',
      S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com',
    });
    expect(config.DATABASE_URL).toBe('postgresql://postgres@127.0.0.1:5432/gitlab');
    expect(config.REDIS_URL).toBe('rediss://redis.internal:6380/1');
    expect(config.S3_ENDPOINT).toBe('https://s3.eu-west-1.amazonaws.com');
  });

  it('never shows a secret in its messages, its redacted view or the logs', () => {
    const lines = problems({ ...valid, S3_SECRET_ACCESS_KEY: 'tiny', ENCRYPTION_KEY: 'not-a-key-at-all' });
    expect(lines.join('\n')).not.toMatch(/tiny|not-a-key-at-all/);

    const view = JSON.stringify(redactedConfig(loadConfig(valid)));
    expect(view).not.toMatch(/super-secret-value|pa55word|redispass|aaaaaaaa/);
    expect(view).toContain('db.internal');

    const out: string[] = [];
    const log = createLogger({ write: (l) => out.push(l) });
    log.info('starting', { config: loadConfig(valid), url: valid.DATABASE_URL, s3: { secretAccessKey: 'x1y2' } });
    expect(out.join('\n')).not.toMatch(/super-secret-value|pa55word|redispass|x1y2/);
  });

  it('masks every secret setting in the redacted view, keeping the host of URLs and leaving unset secrets unset', () => {
    const config = loadConfig({ ...valid, TEMPORAL_API_KEY: 'tmprl-key', SMTP_PASSWORD: 'smtp-pass' });
    const view = redactedConfig(config);
    expect(view).toMatchObject({
      DATABASE_URL: 'postgres://*****@db.internal:5432/gitlab',
      REDIS_URL: 'redis://*****@127.0.0.1:6379/0',
      S3_SECRET_ACCESS_KEY: '*****',
      ENCRYPTION_KEY: '*****',
      TEMPORAL_API_KEY: '*****',
      SMTP_PASSWORD: '*****',
      // Not secrets: shown as they are.
      S3_ACCESS_KEY_ID: 'access',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
    });
    expect(view.TEMPORAL_TLS_CLIENT_KEY_DATA).toBeUndefined();
    expect(SECRET_KEYS).toEqual(
      expect.arrayContaining(['S3_SECRET_ACCESS_KEY', 'SMTP_PASSWORD', 'ENCRYPTION_KEY', 'DATABASE_URL']),
    );
    // The config itself is untouched.
    expect(config.SMTP_PASSWORD).toBe('smtp-pass');
  });

  it('maskUrl hides any user info and leaves URLs without one alone', () => {
    expect(maskUrl('postgres://app:pw@db:5432/x')).toBe('postgres://*****@db:5432/x');
    expect(maskUrl('redis://:pw@127.0.0.1:6379/0')).toBe('redis://*****@127.0.0.1:6379/0');
    expect(maskUrl('https://token@host/path')).toBe('https://*****@host/path');
    expect(maskUrl('postgres://db:5432/x')).toBe('postgres://db:5432/x');
    expect(maskUrl('https://host/path@not-user-info')).toBe('https://host/path@not-user-info');
  });

  it('treats empty variables as unset', () => {
    expect(problems({ ...valid, REDIS_URL: '' })).toEqual([expect.stringMatching(/^REDIS_URL is missing/)]);
    expect(loadConfig({ ...valid, SMTP_PORT: '', LOG_LEVEL: '' })).toMatchObject({
      SMTP_PORT: 1025,
      LOG_LEVEL: 'info',
    });
  });

  it('ConfigError carries one indented line per problem', () => {
    let error: unknown;
    try {
      loadConfig({ ...valid, SMTP_PORT: '0', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).name).toBe('ConfigError');
    expect((error as ConfigError).message).toBe(
      'Invalid configuration:\n  SMTP_PORT must be between 1 and 65535\n  LOG_LEVEL must be debug, info, warn or error',
    );
  });

  it('loadConfigOrExit returns the config, or prints the problems and exits with EX_CONFIG (78)', () => {
    expect(loadConfigOrExit(valid).S3_BUCKET).toBe('offline-transfer-export');

    const written: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const exit = jest.spyOn(process, 'exit').mockImplementation((code?: string | number | null) => {
      throw new Error(`exit ${code}`);
    });
    try {
      expect(() => loadConfigOrExit({ ...valid, SMTP_PORT: '0' })).toThrow('exit 78');
    } finally {
      write.mockRestore();
      exit.mockRestore();
    }
    expect(written.join('')).toBe('Invalid configuration:\n  SMTP_PORT must be between 1 and 65535\n');
  });
});
