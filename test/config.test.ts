import { ConfigError, loadConfig, redactedConfig } from '../contracts/config';
import { createLogger } from '../contracts/logger';

const valid = {
  DATABASE_URL: 'postgres://app:pa55word@db.internal:5432/gitlab',
  REDIS_URL: 'redis://:redispass@127.0.0.1:6379/0',
  S3_ENDPOINT: 'http://127.0.0.1:9000',
  S3_ACCESS_KEY_ID: 'access',
  S3_SECRET_ACCESS_KEY: 'super-secret-value',
  S3_BUCKET: 'offline-transfer-export',
  ENCRYPTION_KEY: 'a'.repeat(64),
  INSTANCE_BASE_URL: 'https://gitlab.example.com',
};

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
    expect(config.EXPORT_MAX_CONCURRENT_PORTABLES).toBe(5);
    expect(config.ENCRYPTION_KEY).toHaveLength(32);
    expect(config.ALLOW_LOCAL_NETWORK_ENDPOINTS).toBe(false);
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

  it('treats empty variables as unset', () => {
    expect(problems({ ...valid, REDIS_URL: '' })).toEqual([expect.stringMatching(/^REDIS_URL is missing/)]);
  });
});

describe('Temporal connection settings', () => {
  it('follow Temporal envconfig: API key and TLS from the standard variables, address from the config', async () => {
    const { temporalConnectionOptions } = await import('../contracts/temporal');
    const local = temporalConnectionOptions(loadConfig(valid));
    expect(local).toMatchObject({ address: '127.0.0.1:7233' });
    expect(local.apiKey).toBeUndefined();

    const cloud = temporalConnectionOptions(
      loadConfig({ ...valid, TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'key-123' }),
    );
    expect(cloud).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', apiKey: 'key-123' });
    // envconfig turns TLS on whenever an API key is given.
    expect(cloud.tls).toBeTruthy();
  });
});
