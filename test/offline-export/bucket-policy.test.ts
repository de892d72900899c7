import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { createOfflineExport, type CreateOfflineExportDeps } from '../../client/offline-export/create-service';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import type { OfflineExportResult } from '../../contracts/offline-export';
import { SEED_USERS } from '../../db/seed/generate';
import { BatchStatus, ExportStatus, RelationStatus } from '../../db/offline-export/statuses';
import {
  abortIncompleteUploads,
  abortUpload,
  createBucketClientCache,
  type OpenBucket,
} from '../../activities/offline-export/bucket';
import { GzipObjectWriter } from '../../activities/offline-export/object-writer';
import { createStackS3Client } from '../../worker/deps';
import { bucketPolicy, createPolicyUser, documentedExportPolicy, type PolicyUser } from '../helpers/dev-bucket';
import { mailForExport } from '../helpers/mail';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { getObject, listKeys } from './fixture';

// GitLab documents s3:PutObject and s3:ListBucket as all an export key needs. These tests give the stack's MinIO a
// user holding exactly that policy (made through MinIO's admin API) and run the product with its key: the creation
// check, a whole export on a real worker, and the multipart writer. Anything that needed more (GetObject,
// DeleteObject, the multipart clean-up calls) would be refused by MinIO and show here.

const DENIED =
  /The bucket refused the upload \(access denied\): the export credentials need s3:PutObject on the bucket's objects/;
const ALICE = { id: SEED_USERS.owner.id, email: 'alice@example.test' };
const PATHS = ['gitlab-org/backend', 'org-2/project-2'];

interface Row {
  group_id: number | null;
  project_id: number | null;
  relation: string;
  status: number;
  error: string | null;
  batched: boolean;
  batches_count: number;
  object_key: string | null;
}

let tw: TestWorker;
let admin: S3Client;
const users: PolicyUser[] = [];
/** Prefixes whose open uploads a failing test could leave in the shared bucket: aborted at the end. */
const prefixes: string[] = [];
const suffix = randomUUID().slice(0, 8);

async function policyUser(role: string, policy: string): Promise<PolicyUser> {
  const user = await createPolicyUser(tw.config, `export-${role}-${suffix}`, policy);
  users.push(user);
  return user;
}

const requestFor = (user: PolicyUser) => {
  const body = devBucketExportBody(tw.config, PATHS);
  return {
    ...body,
    s3_compatible_configuration: {
      ...body.s3_compatible_configuration,
      aws_access_key_id: user.accessKeyId,
      aws_secret_access_key: user.secretAccessKey,
    },
  };
};

const createDeps = (): CreateOfflineExportDeps => ({
  sql: tw.deps.sql,
  temporal: tw.client,
  config: tw.config,
  taskQueue: tw.taskQueue,
});

/** Creates the export as the API does (bucket check included) and runs its workflow to the end on the test worker. */
async function runExport(user: PolicyUser, beforeRun?: (exportPrefix: string) => Promise<void>) {
  const created = await createOfflineExport(createDeps(), ALICE, requestFor(user));
  const exportId = created.export.id;
  const exportPrefix = created.export.export_prefix;
  await beforeRun?.(exportPrefix);
  // An export that fails may end its workflow failed too (after its failure path ran): the rows tell either way.
  const result = await tw.run(() =>
    (tw.client.workflow.getHandle(created.workflowId).result() as Promise<OfflineExportResult>).catch(
      (err: unknown) => err as Error,
    ),
  );
  const rows = await tw.deps.sql<Row[]>`
    select group_id, project_id, relation, status, error, batched, batches_count, object_key
    from bulk_import_exports where offline_export_id = ${exportId} order by id`;
  const [exp] = await tw.deps.sql<{ status: number; error: string | null }[]>`
    select status, error from import_offline_exports where id = ${exportId}`;
  return { exportId, exportPrefix, result, rows, exp: exp! };
}

const openBucketFor = (user: PolicyUser, exportPrefix: string): OpenBucket => ({
  client: createBucketClientCache({ allowLocalNetwork: true }).get({
    aws_access_key_id: user.accessKeyId,
    aws_secret_access_key: user.secretAccessKey,
    region: tw.config.S3_REGION,
    path_style: true,
    endpoint: tw.config.S3_ENDPOINT,
  }),
  bucket: tw.config.S3_BUCKET,
  exportPrefix,
});

/** Open multipart uploads under the prefix (MinIO matches a listing's Prefix against whole keys only). */
async function openUploads(prefix: string) {
  const page = await admin.send(new ListMultipartUploadsCommand({ Bucket: tw.config.S3_BUCKET }));
  return (page.Uploads ?? []).filter((u) => u.Key?.startsWith(`${prefix}/`));
}

async function abortAsAdmin(prefix: string): Promise<void> {
  for (const u of await openUploads(prefix)) {
    await admin.send(
      new AbortMultipartUploadCommand({ Bucket: tw.config.S3_BUCKET, Key: u.Key, UploadId: u.UploadId }),
    );
  }
}

beforeAll(async () => {
  tw = await startTestWorker('bucket-policy', {
    EXPORT_BATCH_SIZE: 20,
    EXPORT_PORTABLES_PER_CHUNK: 4,
    EXPORT_CREDENTIALS_PURGE_DELAY_MS: 1_000,
  });
  admin = createStackS3Client(tw.config);
});

afterAll(async () => {
  await Promise.allSettled(users.map((u) => u.remove()));
  if (admin) await Promise.allSettled(prefixes.map((p) => abortAsAdmin(p)));
  admin?.destroy();
  await tw?.close();
});

describe("an export key holding only GitLab's documented permissions (s3:PutObject, s3:ListBucket)", () => {
  it('passes the creation check and finishes the export: every object written, stray uploads left alone', async () => {
    const user = await policyUser('writer', documentedExportPolicy(tw.config.S3_BUCKET));
    // A multipart upload left under the prefix, as by an attempt killed before it heartbeated its upload id: the
    // completion's sweep needs s3:ListBucketMultipartUploads and s3:AbortMultipartUpload, which this key lacks.
    let stray = '';
    const { exportId, exportPrefix, result, rows, exp } = await runExport(user, async (prefix) => {
      prefixes.push(prefix);
      const created = await admin.send(
        new CreateMultipartUploadCommand({ Bucket: tw.config.S3_BUCKET, Key: `${prefix}/stray.ndjson.gz` }),
      );
      stray = created.UploadId!;
    });

    expect(result).toMatchObject({ exportId, status: 'finished', hasFailures: false });
    expect(exp).toEqual({ status: ExportStatus.FINISHED, error: null });
    expect(rows.length).toBeGreaterThan(20);
    expect(rows.filter((r) => r.status !== RelationStatus.FINISHED || r.error !== null)).toEqual([]);

    // Every object the tables name, and nothing else, listed with the admin key (the export key cannot read them).
    const batches = await tw.deps.sql<{ status: number; object_key: string | null }[]>`
      select b.status, b.object_key from bulk_import_export_batches b join bulk_import_exports e on e.id = b.export_id
      where e.offline_export_id = ${exportId}`;
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((b) => b.status === BatchStatus.FINISHED)).toBe(true);
    const expected = new Set([`${exportPrefix}/metadata.json.gz`]);
    for (const key of [...rows.map((r) => r.object_key), ...batches.map((b) => b.object_key)]) {
      if (key) expected.add(key);
    }
    expect(expected.size).toBeGreaterThan(rows.filter((r) => !r.batched).length);
    const keys = await listKeys(admin, tw.config.S3_BUCKET, exportPrefix);
    expect(keys).toEqual([...expected].sort());
    const [metadata] = await tw.deps.sql<{ n: number }[]>`select count(*)::int as n from bulk_import_exports
      where offline_export_id = ${exportId} and relation = 'self'`;
    const written = JSON.parse(
      gunzipSync(await getObject(admin, tw.config.S3_BUCKET, `${exportPrefix}/metadata.json.gz`)).toString(),
    ) as {
      entities_mapping: Record<string, string>;
    };
    expect(Object.keys(written.entities_mapping)).toHaveLength(metadata!.n);

    // The sweep was refused and the export carried on: the stray upload is still there (the bucket's lifecycle
    // rule is what removes such parts for a key like this one).
    expect((await openUploads(exportPrefix)).map((u) => u.UploadId)).toEqual([stray]);
    await abortAsAdmin(exportPrefix);

    const mails = await mailForExport(tw.config, ALICE.email, exportPrefix);
    expect(mails.map((m) => m.subject)).toEqual(['Offline export complete']);
  });

  it('streams a multipart object with PutObject alone; aborting one is refused and tolerated', async () => {
    const user = await policyUser('multipart', documentedExportPolicy(tw.config.S3_BUCKET));
    const prefix = `bucket-policy-${suffix}`;
    prefixes.push(prefix);
    const bucket = openBucketFor(user, prefix);
    // Incompressible text, so gzip's output passes the 5 MiB minimum part size: two parts and a completion.
    const text = () => randomBytes(768 * 1024).toString('base64');

    const whole = new GzipObjectWriter(bucket, `${prefix}/whole.ndjson.gz`, { partSize: 5 * 1024 * 1024 });
    for (let i = 0; i < 10; i++) await whole.write(text());
    const written = await whole.finish();
    expect(written).toMatchObject({ multipart: true, parts: 2 });
    expect(await listKeys(admin, tw.config.S3_BUCKET, prefix)).toEqual([`${prefix}/whole.ndjson.gz`]);

    const abandoned = new GzipObjectWriter(bucket, `${prefix}/abandoned.ndjson.gz`, { partSize: 5 * 1024 * 1024 });
    for (let i = 0; i < 10; i++) await abandoned.write(text());
    // Let the first part go out, so there is an upload to abort.
    for (let i = 0; i < 100 && (await openUploads(prefix)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    const [upload] = await openUploads(prefix);
    expect(upload).toBeDefined();
    await expect(abandoned.abort()).resolves.toBeUndefined();
    await expect(abortUpload(bucket, upload!.Key!, upload!.UploadId!)).resolves.toBe(false);
    await expect(abortIncompleteUploads(bucket)).resolves.toBe(0);
    expect(await openUploads(prefix)).toHaveLength(1);

    // The same sweep with a key that may clean up does remove it: the refusal above is what kept it.
    const adminBucket: OpenBucket = { client: admin, bucket: tw.config.S3_BUCKET, exportPrefix: prefix };
    await expect(abortIncompleteUploads(adminBucket)).resolves.toBe(1);
    expect(await openUploads(prefix)).toHaveLength(0);
  });
});

describe('an export key without the documented permissions', () => {
  it('without s3:PutObject: the creation check passes (as in GitLab) and the export fails with a clear error', async () => {
    const user = await policyUser(
      'lister',
      bucketPolicy([{ actions: ['s3:ListBucket'], resource: `arn:aws:s3:::${tw.config.S3_BUCKET}` }]),
    );
    const started = Date.now();
    const { exportPrefix, result, rows, exp } = await runExport(user);

    if (!(result instanceof Error)) expect(result.status).toBe('failed');
    expect(exp.status).toBe(ExportStatus.FAILED);
    expect(exp.error).toMatch(DENIED);
    // Every relation with something to write failed with the message; an empty one wrote nothing and finished.
    const failed = rows.filter((r) => r.status === RelationStatus.FAILED);
    expect(failed.length).toBeGreaterThan(20);
    for (const row of failed) expect(row.error).toMatch(DENIED);
    expect(rows.filter((r) => r.status !== RelationStatus.FAILED && r.status !== RelationStatus.FINISHED)).toEqual([]);
    expect(rows.filter((r) => r.object_key !== null)).toEqual([]);
    // A refused write is permanent: no relation spends its retry budget (minutes each) on it.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(await listKeys(admin, tw.config.S3_BUCKET, exportPrefix)).toEqual([]);
    const mails = await mailForExport(tw.config, ALICE.email, exportPrefix);
    expect(mails.map((m) => m.subject)).toEqual(['Offline export failed']);
  });

  it('without s3:ListBucket: the creation check refuses the request, as GitLab does', async () => {
    const user = await policyUser(
      'putter',
      bucketPolicy([{ actions: ['s3:PutObject'], resource: `arn:aws:s3:::${tw.config.S3_BUCKET}/*` }]),
    );
    await expect(createOfflineExport(createDeps(), ALICE, requestFor(user))).rejects.toMatchObject({
      status: 422,
      message: expect.stringContaining('Unable to access object storage bucket. Access was denied') as unknown,
    });
  });
});
