import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { seedToken } from '../../db/seed/generate';
import { loadConfig, redactedConfig } from '../../contracts/config';
import { createLogger } from '../../contracts/logger';
import { startTestApi, type TestApi } from '../helpers/api';
import { waitFor } from '../helpers/wait';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import { historyText } from '../helpers/history';

// One real export through the API, run by a real worker process whose every output line is captured, with the
// API's own log captured too. Then every secret (the S3 secret and access key, the PRIVATE-TOKEN, the SMTP
// password, the encryption key) is looked for in every log line, every API response, and every workflow history
// of the export (parent and children, payloads decoded). Credentials must be purged once the export is done.
//
// SMTP: maildev accepts no AUTH, so a worker given SMTP_USER could not send its email. The worker process gets
// SMTP_PASSWORD (which it must never print, e.g. in its configuration dump) but no SMTP_USER; the redaction of a
// configured user/password pair is asserted at the logger and configuration level below.

const SMTP_PASSWORD = `smtp-secret-${randomUUID()}`;
const TOKEN = seedToken('alice');
let api: TestApi;
let worker: ChildProcess | undefined;
const lines: string[] = [];
const responses: string[] = [];
const taskQueue = `test-security-secrets-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  const config = loadConfig();
  worker = spawn(
    process.execPath,
    [join(__dirname, '../../node_modules/tsx/dist/cli.mjs'), join(__dirname, '../../worker/main.ts')],
    {
      cwd: join(__dirname, '../..'),
      env: {
        ...process.env,
        DATABASE_URL: config.DATABASE_URL,
        TEMPORAL_TASK_QUEUE_EXPORT: taskQueue,
        TEMPORAL_TASK_QUEUE_BULK_UPDATE: `${taskQueue}-bulk`,
        EXPORT_CREDENTIALS_PURGE_DELAY_MS: '1500',
        LOG_LEVEL: 'debug',
        SMTP_PASSWORD,
        METRICS_PORT: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  for (const stream of [worker.stdout!, worker.stderr!]) {
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      lines.push(...parts);
    });
  }
  api = await startTestApi({ export: taskQueue });
  api.deps.log = createLogger({ level: 'debug', write: (line) => lines.push(line) });
  const keys = await api.deps.redis.keys('api_rate_limit:POST/api/v4/offline_exports-*');
  if (keys.length > 0) await api.deps.redis.del(...keys);
}, 60_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker!.once('exit', resolve));
    worker.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    if (worker.exitCode === null) worker.kill('SIGKILL');
  }
  await api?.close();
}, 60_000);

describe('secrets', () => {
  it('appear in no log line, API response or workflow history of a real export, and are purged afterwards', async () => {
    const config = api.deps.config;
    const secrets = {
      s3Secret: config.S3_SECRET_ACCESS_KEY,
      s3AccessKey: config.S3_ACCESS_KEY_ID,
      privateToken: TOKEN,
      smtpPassword: SMTP_PASSWORD,
      encryptionKey: Buffer.from(config.ENCRYPTION_KEY).toString('utf8'),
    };
    const body = devBucketExportBody(config, ['flightjs/Flight']);
    const record = (res: { status: number; body: unknown }) => {
      responses.push(JSON.stringify(res.body));
      return res;
    };
    // A refused request too: its error message must not echo what it was given.
    record(await api.request('POST', '/api/v4/offline_exports', { token: TOKEN, body: { ...body, bucket: 'NO' } }));
    record(
      await api.request('POST', '/api/v4/offline_exports', {
        token: TOKEN,
        body: {
          ...body,
          s3_compatible_configuration: { ...body.s3_compatible_configuration, aws_secret_access_key: 42 },
        },
      }),
    );
    record(
      await api.request('POST', '/api/v4/offline_exports', {
        token: TOKEN,
        body: {
          ...body,
          s3_compatible_configuration: {
            ...body.s3_compatible_configuration,
            aws_secret_access_key: `${config.S3_SECRET_ACCESS_KEY}-wrong`,
          },
        },
      }),
    );
    const created = record(await api.request('POST', '/api/v4/offline_exports', { token: TOKEN, body }));
    expect(created.status).toBe(201);
    const exportId = (created.body as { id: number }).id;

    const finished = await waitFor(
      async () => {
        const [row] = await api.deps.sql<{ status: number; purged: Date | null; credentials: unknown }[]>`
          select e.status, c.credentials_purged_at as purged, c.object_storage_credentials as credentials
          from import_offline_exports e join import_offline_configurations c on c.offline_export_id = e.id where e.id = ${exportId}`;
        return row && row.purged ? row : undefined;
      },
      150_000,
      { what: `export ${exportId} to finish and purge its credentials` },
    );
    expect(finished.credentials).toEqual({});
    record(await api.request('GET', `/api/v4/offline_exports/${exportId}`, { token: TOKEN }));
    record(await api.request('GET', '/api/v4/offline_exports', { token: TOKEN }));
    const handle = api.deps.temporal.workflow.getHandle(`offline-export:${exportId}`);
    await waitFor(async () => ((await handle.describe()).status.name === 'RUNNING' ? undefined : true), 60_000, {
      what: 'the workflow to close',
    });

    const histories: string[] = [];
    const ids: string[] = [];
    for await (const w of api.deps.temporal.workflow.list({ query: `OfflineExportId = ${exportId}` }))
      ids.push(w.workflowId);
    expect(ids).toEqual(expect.arrayContaining([`offline-export:${exportId}`]));
    expect(ids.length).toBeGreaterThan(1); // the parent and at least one portable child
    for (const id of ids) histories.push(historyText(await api.deps.temporal.workflow.getHandle(id).fetchHistory()));

    expect(lines.length).toBeGreaterThan(0);
    const places = { logs: lines.join('\n'), responses: responses.join('\n'), histories: histories.join('\n') };
    const found: string[] = [];
    for (const [name, secret] of Object.entries(secrets)) {
      for (const [where, text] of Object.entries(places)) {
        if (secret && text.includes(secret)) {
          const at = text.indexOf(secret);
          found.push(`${name} in ${where}: ...${text.slice(Math.max(0, at - 300), at + 100)}...`);
        }
      }
    }
    expect(found).toEqual([]);
  }, 240_000);

  it('masks an SMTP user/password pair, URL passwords and secret-named keys at the logger and configuration level', () => {
    const written: string[] = [];
    const log = createLogger({ level: 'debug', write: (line) => written.push(line) });
    const config = { ...loadConfig(), SMTP_USER: 'mailer', SMTP_PASSWORD, TEMPORAL_API_KEY: 'temporal-key-secret' };
    log.info('configuration', { config: redactedConfig(config) });
    log.info('smtp', {
      auth: { user: 'mailer', pass: SMTP_PASSWORD },
      smtpPassword: SMTP_PASSWORD,
      url: `smtp://mailer:${SMTP_PASSWORD}@mail.example.test`,
    });
    log.error('failed', {
      error: new Error('connect failed'),
      headers: { 'PRIVATE-TOKEN': TOKEN, authorization: `Bearer ${TOKEN}` },
    });
    const text = written.join('\n');
    for (const secret of [
      SMTP_PASSWORD,
      TOKEN,
      config.S3_SECRET_ACCESS_KEY,
      Buffer.from(config.ENCRYPTION_KEY).toString('utf8'),
      'temporal-key-secret',
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});
