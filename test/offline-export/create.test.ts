import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import {
  createOfflineExport,
  OfflineExportRequestError,
  OfflineExportStartError,
  type CreateOfflineExportDeps,
} from '../../client/offline-export/create-service';
import { parseStorageParams } from '../../client/offline-export/request-schema';
import { exportSummary } from '../../client/offline-export/start-workflow';
import { SA_GITLAB_USER_ID, SA_OFFLINE_EXPORT_ID, SA_WORKFLOW_KIND } from '../../contracts/search-attributes';
import { decryptCredentials } from '../../db/offline-export/credentials';
import { SEED_USERS } from '../../db/seed/generate';
import { firstProjectUnder, namespaceIdByPath, projectIdByPath } from '../../db/seed/lookups';
import { createSql, type Sql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import { writtenRows } from '../helpers/database';
import { devBucketCredentials, seedCurlExampleBody } from '../helpers/dev-bucket';
import { expectExportRefused } from './fixture';
import { OFFLINE_EXPORT_WORKFLOW, offlineExportWorkflowId } from '../../contracts/offline-export';
import { historyText } from '../helpers/history';

// CreateService against the shared seeded test database, the stack's MinIO and Temporal. No worker polls the task
// queue these tests start workflows on: it is enough that the execution exists with the right id, input and search
// attributes; each one is terminated afterwards.

const config = loadConfig();
const taskQueue = `test-export-create-${randomUUID().slice(0, 8)}`;
let sql: Sql;
let connection: Connection;
let temporal: Client;
const started: string[] = [];
const createdExports: number[] = [];

const alice = { id: SEED_USERS.owner.id };
const bob = { id: SEED_USERS.maintainer.id };
const carol = { id: SEED_USERS.developer.id };
const frank = { id: SEED_USERS.blocked.id };
let projectPath: string; // a project under gitlab-org
let otherProjectPath: string; // a project under org-2

const deps = (overrides: Partial<CreateOfflineExportDeps> = {}): CreateOfflineExportDeps => ({
  sql,
  temporal,
  config,
  taskQueue,
  ...overrides,
});

const s3Config = (overrides: Record<string, unknown> = {}) => devBucketCredentials(config, overrides);

const body = (overrides: Record<string, unknown> = {}) => ({
  ...devBucketExportBody(config, ['gitlab-org']),
  ...overrides,
});

/** Asserts the request is refused with this status and message, and that not one row was written. */
const expectRefused = (user: { id: number }, request: unknown, status: number, message: string, d = deps()) =>
  expectExportRefused(d, user, request, status, message);

async function create(user: { id: number }, request: unknown) {
  const result = await createOfflineExport(deps(), user, request);
  started.push(result.workflowId);
  createdExports.push(result.export.id);
  return result;
}

beforeAll(async () => {
  sql = createSql(config.DATABASE_URL, { max: 4 });
  connection = await Connection.connect(temporalConnectionOptions(config));
  temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  projectPath = (await firstProjectUnder(sql, 'gitlab-org')).path;
  otherProjectPath = (await firstProjectUnder(sql, 'org-2')).path;
});

afterAll(async () => {
  await Promise.allSettled(started.map((id) => temporal.workflow.getHandle(id).terminate('test cleanup')));
  // The workflows are gone, so their PENDING rows would stay PENDING forever: leave the shared database as found.
  if (sql) {
    await sql`delete from import_offline_exports where id = any(${createdExports}::bigint[])`;
    await sql.end({ timeout: 5 });
  }
  await connection?.close();
});

describe('createOfflineExport: a valid request', () => {
  it('stores the export, its encrypted configuration and the self rows, then starts the workflow', async () => {
    const before = await writtenRows(sql);
    const { export: entity, workflowId } = await create(
      alice,
      body({
        source_hostname: 'https://gdk.test:3000', // accepted and ignored, as GitLab now does
        entities: [{ full_path: 'gitlab-org' }, { full_path: projectPath }],
      }),
    );

    expect(workflowId).toBe(offlineExportWorkflowId(entity.id));
    expect(entity).toEqual({
      id: expect.any(Number) as number,
      status: 'created',
      source_hostname: new URL(config.INSTANCE_BASE_URL).origin,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as string,
      updated_at: expect.any(String) as string,
      has_failures: false,
      bucket: config.S3_BUCKET,
      export_prefix: expect.stringMatching(/^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_export_[A-Za-z0-9]{8}$/) as string,
    });
    // The prefix is the UTC time of creation.
    const created = new Date(entity.created_at);
    expect(
      Math.abs(
        created.getTime() -
          Date.parse(
            entity.export_prefix
              .slice(0, 19)
              .replace('_', 'T')
              .replace(/-(\d\d)-(\d\d)$/, ':$1:$2') + 'Z',
          ),
      ),
    ).toBeLessThan(5_000);

    expect(await writtenRows(sql)).toEqual({
      ...before,
      exports: before.exports + 1,
      configurations: before.configurations + 1,
      relations: before.relations + 2,
    });
    const [exportRow] =
      await sql`select user_id, status, workflow_id, has_failures from import_offline_exports where id = ${entity.id}`;
    expect(exportRow).toEqual({ user_id: alice.id, status: 0, workflow_id: workflowId, has_failures: false });

    const [configuration] = await sql<
      {
        provider: number;
        bucket: string;
        export_prefix: string;
        source_hostname: string;
        credentials: unknown;
        text: string;
      }[]
    >`
      select provider, bucket, export_prefix, source_hostname, object_storage_credentials as credentials,
             object_storage_credentials::text as text
      from import_offline_configurations where offline_export_id = ${entity.id}`;
    expect(configuration).toMatchObject({ provider: 1, bucket: config.S3_BUCKET, export_prefix: entity.export_prefix });
    expect(configuration!.text).not.toContain(config.S3_SECRET_ACCESS_KEY);
    expect(configuration!.text).not.toContain(config.S3_ACCESS_KEY_ID);
    expect(decryptCredentials(configuration!.credentials, config.ENCRYPTION_KEY)).toEqual(s3Config());

    const selfRows = await sql`
      select r.group_id, r.project_id, r.user_id, r.relation, r.status
      from bulk_import_exports r where r.offline_export_id = ${entity.id} order by r.group_id nulls last`;
    expect(selfRows).toEqual([
      {
        group_id: await namespaceIdByPath(sql, 'gitlab-org'),
        project_id: null,
        user_id: alice.id,
        relation: 'self',
        status: -2,
      },
      {
        group_id: null,
        project_id: await projectIdByPath(sql, projectPath),
        user_id: alice.id,
        relation: 'self',
        status: -2,
      },
    ]);

    const handle = temporal.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(description.type).toBe(OFFLINE_EXPORT_WORKFLOW);
    expect(description.taskQueue).toBe(taskQueue);
    expect(description.typedSearchAttributes.get(SA_OFFLINE_EXPORT_ID)).toBe(entity.id);
    expect(description.typedSearchAttributes.get(SA_GITLAB_USER_ID)).toBe(alice.id);
    expect(description.typedSearchAttributes.get(SA_WORKFLOW_KIND)).toBe('offline-export');
    const summary = await description.staticSummary();
    expect(summary).toBe(`Offline export ${entity.id} of gitlab-org, ${projectPath} to ${config.S3_BUCKET}`);
    expect(Buffer.byteLength(summary!)).toBeLessThanOrEqual(200);
    expect(await description.staticDetails()).toContain(entity.export_prefix);

    const history = await handle.fetchHistory();
    const startedEvent = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = startedEvent?.input?.payloads?.map((p) => defaultPayloadConverter.fromPayload(p));
    expect(input).toEqual([{ exportId: entity.id }]);
    const text = historyText(history);
    expect(text).toContain(entity.export_prefix); // the search does see decoded text (staticDetails)
    expect(text).not.toContain(config.S3_SECRET_ACCESS_KEY);
    expect(text).not.toContain(config.S3_ACCESS_KEY_ID);
  });

  it('takes the curl example of the seed as is: the duplicate full_path key keeps its last value', async () => {
    // The seed document's request, with the stack's MinIO in place of GDK's. JSON.parse, like Rails, keeps the
    // last of two equal keys: only flightjs/Flight is exported, not gitlab-org.
    const raw = seedCurlExampleBody(config);
    const { export: entity } = await create(alice, JSON.parse(raw));
    expect(entity.source_hostname).toBe(new URL(config.INSTANCE_BASE_URL).origin);
    const rows = await sql`select group_id, project_id from bulk_import_exports where offline_export_id = ${entity.id}`;
    expect(rows).toEqual([{ group_id: null, project_id: await projectIdByPath(sql, 'flightjs/Flight') }]);
  });

  it('keeps a requested subgroup next to its parent (two self rows) but the same path twice once', async () => {
    const { export: entity } = await create(
      alice,
      body({
        entities: [
          { full_path: 'gitlab-org' },
          { full_path: 'gitlab-org/backend/services' },
          { full_path: 'gitlab-org' },
          { full_path: 'GitLab-Org/Backend/Services' }, // the same group, spelled differently
        ],
      }),
    );
    const rows = await sql<{ path: string }[]>`
      select r.path from bulk_import_exports b join routes r on r.source_type = 'Namespace' and r.source_id = b.group_id
      where b.offline_export_id = ${entity.id} order by r.path`;
    expect(rows.map((r) => r.path)).toEqual(['gitlab-org', 'gitlab-org/backend/services']);
  });

  it('lets a project Maintainer export the project', async () => {
    const { export: entity } = await create(bob, body({ entities: [{ full_path: projectPath }] }));
    expect(entity.status).toBe('created');
  });
});

describe('request parameters', () => {
  it('defaults path_style to false for AWS and true for S3-compatible storage, and drops unknown keys', () => {
    const aws = { aws_access_key_id: 'AKIA1', aws_secret_access_key: 'secret/key+1', region: 'eu-west-1' };
    expect(parseStorageParams({ bucket: 'b', aws_s3_configuration: { ...aws, color: 'red' }, extra: 1 })).toEqual({
      bucket: 'b',
      provider: 'aws',
      credentials: { ...aws, path_style: false },
    });
    const s3 = { ...aws, endpoint: 'http://s3.example.test' };
    expect(parseStorageParams({ bucket: 'b', s3_compatible_configuration: s3 }).credentials).toEqual({
      ...s3,
      path_style: true,
    });
  });
});

describe('createOfflineExport: a refused request writes nothing', () => {
  const PERMISSION =
    'Export failed. You do not have permission to export the following resources or they do not exist: ';
  const ENTITIES = 'Export failed. Entity full paths must be provided.';

  it('refuses a request without entities', async () => {
    await expectRefused(alice, body({ entities: [] }), 422, ENTITIES);
    await expectRefused(alice, body({ entities: undefined }), 422, ENTITIES);
    await expectRefused(alice, body({ entities: [{ full_path: '  ' }] }), 422, ENTITIES);
    await expectRefused(alice, body({ entities: ['gitlab-org'] }), 422, ENTITIES);
  });

  it('refuses a path that does not exist', async () => {
    await expectRefused(
      alice,
      body({ entities: [{ full_path: 'gitlab-org/no-such-project' }] }),
      422,
      `${PERMISSION}gitlab-org/no-such-project`,
    );
  });

  it('refuses a group to a Maintainer: exporting a group takes its Owner', async () => {
    await expectRefused(bob, body({ entities: [{ full_path: 'gitlab-org' }] }), 422, `${PERMISSION}gitlab-org`);
  });

  it('refuses a project to a Developer', async () => {
    await expectRefused(carol, body({ entities: [{ full_path: projectPath }] }), 422, `${PERMISSION}${projectPath}`);
  });

  it('refuses everything to a blocked user, even an Owner', async () => {
    await expectRefused(frank, body({ entities: [{ full_path: 'org-2' }] }), 422, `${PERMISSION}org-2`);
  });

  it('names every failing path in one message, missing ones first', async () => {
    const entities = [
      { full_path: 'gitlab-org/backend' }, // group: bob is only Maintainer
      { full_path: projectPath }, // project: Maintainer is enough
      { full_path: 'nope/missing' },
      { full_path: otherProjectPath }, // fine too
      { full_path: 'org-2' },
      { full_path: 'also-missing' },
    ];
    await expectRefused(
      bob,
      body({ entities }),
      422,
      `${PERMISSION}nope/missing, also-missing, gitlab-org/backend, org-2`,
    );
  });

  it('refuses a bad bucket name', async () => {
    await expectRefused(alice, body({ bucket: 'My_Bucket' }), 422, 'Validation failed: Bucket is invalid');
    await expectRefused(
      alice,
      body({ bucket: 'ab' }),
      422,
      'Validation failed: Bucket is too short (minimum is 3 characters)',
    );
    await expectRefused(
      alice,
      body({ bucket: 'a'.repeat(64) }),
      422,
      'Validation failed: Bucket is too long (maximum is 63 characters)',
    );
  });

  it('refuses a request without a bucket', async () => {
    await expectRefused(alice, body({ bucket: undefined }), 422, 'bucket is missing');
  });

  it('refuses both storage configurations at once', async () => {
    const aws = { aws_access_key_id: 'AKIA1', aws_secret_access_key: 'secret', region: 'us-east-1' };
    await expectRefused(
      alice,
      body({ aws_s3_configuration: aws }),
      422,
      'aws_s3_configuration, s3_compatible_configuration are mutually exclusive',
    );
  });

  it('refuses a request with neither storage configuration', async () => {
    await expectRefused(
      alice,
      body({ s3_compatible_configuration: undefined }),
      422,
      'aws_s3_configuration, s3_compatible_configuration are missing, exactly one parameter must be provided',
    );
  });

  it('names missing and mistyped configuration keys without echoing any value', async () => {
    const request = body({
      s3_compatible_configuration: {
        aws_access_key_id: config.S3_ACCESS_KEY_ID,
        aws_secret_access_key: 42,
        endpoint: config.S3_ENDPOINT,
      },
    });
    await expectRefused(
      alice,
      request,
      422,
      's3_compatible_configuration[aws_secret_access_key] is invalid, s3_compatible_configuration[region] is missing',
    );
  });

  it('refuses credentials that break the provider schema, naming the field but not the value', async () => {
    const secret = 'not a valid secret!';
    const aws = { aws_access_key_id: 'AKIA-1', aws_secret_access_key: secret, region: 'us-east-1' };
    const before = await writtenRows(sql);
    const error = (await createOfflineExport(
      deps(),
      alice,
      body({ s3_compatible_configuration: undefined, aws_s3_configuration: aws }),
    ).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(OfflineExportRequestError);
    expect(error.message).toBe(
      'Validation failed: Object storage credentials must be a valid json schema (aws_access_key_id: must contain only letters, ' +
        'digits and underscores; aws_secret_access_key: must contain only letters, digits, "+" and "/")',
    );
    expect(error.message).not.toContain(secret);
    expect(await writtenRows(sql)).toEqual(before);
  });

  it('refuses an endpoint that is not an http(s) URL', async () => {
    await expectRefused(
      alice,
      body({ s3_compatible_configuration: s3Config({ endpoint: 'ftp://127.0.0.1:9000' }) }),
      422,
      'Validation failed: Endpoint is blocked: Only allowed schemes are http, https',
    );
    await expectRefused(
      alice,
      body({ s3_compatible_configuration: s3Config({ endpoint: 'not a url' }) }),
      422,
      'Validation failed: Endpoint must be a valid URL',
    );
  });

  it('refuses cloud metadata endpoints even though the dev stack allows local networks', async () => {
    expect(config.ALLOW_LOCAL_NETWORK_ENDPOINTS).toBe(true);
    const metadata = 'Requests to the cloud metadata endpoint are not allowed';
    for (const endpoint of [
      'http://169.254.169.254',
      'http://169.254.169.254:80/latest',
      'http://[fd00:ec2::254]',
      'http://metadata.google.internal',
    ]) {
      await expectRefused(alice, body({ s3_compatible_configuration: s3Config({ endpoint }) }), 422, metadata);
    }
    // A name that resolves to the metadata address is refused too.
    const lookupHost = async () => ['169.254.169.254'];
    await expectRefused(
      alice,
      body({ s3_compatible_configuration: s3Config({ endpoint: 'http://innocent.example.test' }) }),
      422,
      metadata,
      deps({ lookupHost }),
    );
  });

  it('refuses local and private endpoints when ALLOW_LOCAL_NETWORK_ENDPOINTS is off', async () => {
    const strict = (lookupHost?: (host: string) => Promise<string[]>) =>
      deps({ config: { ...config, ALLOW_LOCAL_NETWORK_ENDPOINTS: false }, lookupHost });
    const refuse = (endpoint: string, message: string, d = strict()) =>
      expectRefused(alice, body({ s3_compatible_configuration: s3Config({ endpoint }) }), 422, message, d);

    await refuse(config.S3_ENDPOINT, 'Requests to localhost are not allowed'); // 127.0.0.1 is this host
    await refuse('http://localhost:9000', 'Requests to localhost are not allowed'); // resolved by the real resolver
    await refuse('http://127.0.0.2:9000', 'Requests to loopback addresses are not allowed');
    await refuse('http://10.1.2.3:9000', 'Requests to the local network are not allowed');
    await refuse('http://172.20.0.1', 'Requests to the local network are not allowed');
    await refuse('http://192.168.1.10', 'Requests to the local network are not allowed');
    await refuse('http://[fd12:3456::1]', 'Requests to the local network are not allowed');
    await refuse('http://169.254.10.10', 'Requests to the link local network are not allowed');
    await refuse('http://[fe80::1]', 'Requests to the link local network are not allowed');
    await refuse('http://0.0.0.0:9000', 'Requests to localhost are not allowed');
    // A public-looking name that resolves to a private address.
    await refuse(
      'https://s3.attacker.example',
      'Requests to the local network are not allowed',
      strict(async () => ['93.184.216.34', '10.0.0.7']),
    );
    await refuse(
      'https://s3.attacker.example',
      'Requests to the local network are not allowed',
      strict(async () => ['::ffff:10.0.0.7']),
    );
    await refuse(
      'https://nowhere.example',
      'Host cannot be resolved or invalid',
      strict(async () => {
        throw new Error('ENOTFOUND');
      }),
    );
    // Without path_style the client contacts <bucket>.<host>: that name is checked too.
    const virtualHostToPrivate = strict(async (host) =>
      host.startsWith(`${config.S3_BUCKET}.`) ? ['192.168.0.9'] : ['93.184.216.34'],
    );
    await expectRefused(
      alice,
      body({ s3_compatible_configuration: s3Config({ endpoint: 'https://s3.example.test', path_style: false }) }),
      422,
      'Requests to the local network are not allowed',
      virtualHostToPrivate,
    );
  });

  it('refuses a bucket that does not exist on the endpoint', async () => {
    await expectRefused(
      alice,
      body({ bucket: `no-such-bucket-${randomUUID().slice(0, 8)}` }),
      422,
      'Unable to access object storage bucket. The bucket does not exist.',
    );
  });

  it('refuses wrong credentials, without echoing them', async () => {
    const secret = `Wrong${randomUUID().replace(/-/g, '')}`;
    await expectRefused(
      alice,
      body({ s3_compatible_configuration: s3Config({ aws_secret_access_key: secret }) }),
      422,
      'Unable to access object storage bucket. Access was denied: check the access key, the secret and the bucket policy.',
    );
    await expectRefused(
      alice,
      body({ s3_compatible_configuration: s3Config({ aws_access_key_id: 'nobody' }) }),
      422,
      'Unable to access object storage bucket. Access was denied: check the access key, the secret and the bucket policy.',
    );
  });

  it('refuses an endpoint that never answers, after the bucket check timeout', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => void sockets.push(socket)); // accepts connections, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await expectRefused(
        alice,
        body({ s3_compatible_configuration: s3Config({ endpoint: `http://127.0.0.1:${port}` }) }),
        422,
        'Unable to access object storage bucket. The endpoint did not answer within 0.5 seconds.',
        deps({ bucketCheckTimeoutMs: 500 }),
      );
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses an endpoint where nothing listens', async () => {
    await expectRefused(
      alice,
      body({ s3_compatible_configuration: s3Config({ endpoint: 'http://127.0.0.1:1' }) }),
      422,
      'Unable to access object storage bucket. The endpoint could not be reached.',
    );
  });
});

describe('createOfflineExport: the workflow cannot be started', () => {
  it('fails the committed export, its self rows and wipes its credentials', async () => {
    const unavailable = {
      workflow: {
        start: async () => {
          throw new Error('14 UNAVAILABLE: connection refused');
        },
      },
    } as unknown as Client;
    const error = (await createOfflineExport(deps({ temporal: unavailable }), alice, body()).catch(
      (e: unknown) => e,
    )) as OfflineExportStartError;
    expect(error).toBeInstanceOf(OfflineExportStartError);
    createdExports.push(error.exportId);
    expect(error.status).toBe(503);
    expect(error.message).toBe(
      `Export ${error.exportId} failed. The export workflow could not be started (Error: 14 UNAVAILABLE: connection refused). Try again.`,
    );
    const [row] =
      await sql`select status, has_failures, error, completed_at is not null as completed from import_offline_exports where id = ${error.exportId}`;
    expect(row).toEqual({
      status: -1,
      has_failures: true,
      error: 'The export workflow could not be started (Error: 14 UNAVAILABLE: connection refused). Try again.',
      completed: true,
    });
    const relations = await sql`select status from bulk_import_exports where offline_export_id = ${error.exportId}`;
    expect(relations).toEqual([{ status: -1 }]);
    const [configuration] = await sql`
      select object_storage_credentials as credentials, credentials_purged_at is not null as purged
      from import_offline_configurations where offline_export_id = ${error.exportId}`;
    expect(configuration).toEqual({ credentials: {}, purged: true });
  });
});

describe('the Web UI summary', () => {
  it('stays within 200 bytes however many paths were requested', () => {
    const portables = Array.from({ length: 50 }, (_, i) => ({
      fullPath: `some-very-long-group-name/sub-group-${i}`,
      type: 'group' as const,
    }));
    const summary = exportSummary({ exportId: 123456789, portables, bucket: 'b'.repeat(63) });
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(200);
    expect(summary).toMatch(
      /^Offline export 123456789 of some-very-long-group-name\/sub-group-0.* and \d+ more to b+$/,
    );
  });
});
