import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DeleteBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { SEARCH_ATTRIBUTES } from '../../scripts/stack/search-attributes';
import { TEMPORAL_CLI } from '../helpers/cli';
import { loadCompose, ROOT } from '../helpers/compose';

const execFileAsync = promisify(execFile);
const suffix = () => randomBytes(4).toString('hex');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(file: string, args: string[], env: Record<string, string>): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, { cwd: ROOT, env: { ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * The Compose file's setup jobs, run here against the real local stack as they run in their containers: the bucket
 * step of the app image's setup job, and the admin-tools job that creates the namespace and the search attributes
 * (with the Temporal CLI the tools build in place of the image's).
 */
describe('Compose setup jobs', () => {
  const config = loadConfig();

  describe('docker/create-bucket.cjs', () => {
    const s3 = new S3Client({
      endpoint: config.S3_ENDPOINT,
      region: config.S3_REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
    });
    const bucket = `compose-setup-${suffix()}`;
    const env = (overrides: Record<string, string> = {}) => ({
      PATH: process.env.PATH ?? '',
      S3_ENDPOINT: config.S3_ENDPOINT,
      S3_REGION: config.S3_REGION,
      S3_ACCESS_KEY_ID: config.S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: config.S3_SECRET_ACCESS_KEY,
      S3_BUCKET: bucket,
      ...overrides,
    });
    const script = join(ROOT, 'docker', 'create-bucket.cjs');

    afterAll(async () => {
      await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      s3.destroy();
    });

    it('creates the bucket, then leaves it as it is on a second run', async () => {
      const first = await run(process.execPath, [script], env());
      expect(first).toMatchObject({ code: 0, stdout: `create-bucket: created ${bucket} on ${config.S3_ENDPOINT}\n` });
      await expect(s3.send(new HeadBucketCommand({ Bucket: bucket }))).resolves.toBeDefined();
      const second = await run(process.execPath, [script], env());
      expect(second).toMatchObject({ code: 0, stdout: `create-bucket: ${bucket} exists on ${config.S3_ENDPOINT}\n` });
    });

    it('fails with the HTTP status on wrong credentials, creating nothing', async () => {
      const other = `${bucket}-denied`;
      const result = await run(process.execPath, [script], env({ S3_SECRET_ACCESS_KEY: 'wrong', S3_BUCKET: other }));
      expect(result.code).toBe(1);
      // On Node 20 the AWS SDK first warns that it will need Node 22 (NodeVersionSupportWarning): not the script's.
      const ours = result.stderr.replace(
        /^\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?--trace-warnings[^\n]*\n/,
        '',
      );
      expect(ours).toMatch(/^create-bucket: .*\(HTTP 403\)\n$/);
      await expect(s3.send(new HeadBucketCommand({ Bucket: other }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      });
    });

    it('names the variables it needs', async () => {
      const result = await run(process.execPath, [script], { PATH: process.env.PATH ?? '' });
      expect(result).toMatchObject({
        code: 1,
        stderr: 'create-bucket: Error: set S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_BUCKET\n',
      });
    });
  });

  describe('docker/temporal/setup-namespace.sh', () => {
    const namespace = `compose-setup-${suffix()}`;
    const searchAttributes = loadCompose().services['temporal-setup']?.environment?.SEARCH_ATTRIBUTES ?? '';
    const script = join(ROOT, 'docker', 'temporal', 'setup-namespace.sh');
    const env = (overrides: Record<string, string> = {}) => ({
      // The admin-tools image has `temporal` on PATH; here it is the one the tools build.
      PATH: `${dirname(TEMPORAL_CLI)}:${process.env.PATH ?? ''}`,
      // The CLI reads its client config from the home folder, as it does in the image (/home/temporal).
      HOME: process.env.HOME ?? tmpdir(),
      TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: namespace,
      SEARCH_ATTRIBUTES: searchAttributes,
      TEMPORAL_WAIT_SECONDS: '10',
      ...overrides,
    });
    let connection: Connection;

    beforeAll(async () => {
      connection = await Connection.connect(temporalConnectionOptions(config));
    });
    afterAll(async () => {
      await connection.operatorService.deleteNamespace({ namespace }).catch(() => undefined);
      await connection.close();
    });

    it('creates the namespace with every search attribute, and a second run changes nothing', async () => {
      const first = await run('/bin/sh', [script], env());
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(`setup-namespace: created namespace ${namespace}`);
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      expect(customAttributes).toEqual(
        expect.objectContaining(
          Object.fromEntries(SEARCH_ATTRIBUTES.map((sa) => [sa.name, encodeSearchAttributeIndexedValueType(sa.type)])),
        ),
      );

      const second = await run('/bin/sh', [script], env());
      expect(second.code).toBe(0);
      expect(second.stdout).toContain(`setup-namespace: namespace ${namespace} exists`);
      const after = await connection.operatorService.listSearchAttributes({ namespace });
      expect(after.customAttributes).toEqual(customAttributes);
    });

    it('fails on an attribute registered with another type instead of ignoring it', async () => {
      const result = await run('/bin/sh', [script], env({ SEARCH_ATTRIBUTES: 'OfflineExportId=Keyword' }));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/OfflineExportId already exists and has different type/);
    });

    it('refuses a malformed list before touching the server', async () => {
      const result = await run('/bin/sh', [script], env({ SEARCH_ATTRIBUTES: 'OfflineExportId=Int Broken' }));
      expect(result).toMatchObject({
        code: 1,
        stderr: "setup-namespace: 'Broken' in SEARCH_ATTRIBUTES is not Name=Type\n",
      });
    });

    it('gives up with a clear error when the server never answers', async () => {
      const result = await run(
        '/bin/sh',
        [script],
        env({ TEMPORAL_ADDRESS: '127.0.0.1:1', TEMPORAL_WAIT_SECONDS: '2' }),
      );
      expect(result).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(
          /^setup-namespace: the Temporal server at 127\.0\.0\.1:1 is not SERVING after 2 s: .+/,
        ),
      });
    });
  });
});
