import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, storagePaths } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import {
  OFFLINE_EXPORT_WORKFLOW,
  offlineExportWorkflowId,
  type OfflineExportResult,
} from '../../contracts/offline-export';
import { migrate } from '../../db/migrate';
import { seedInstance } from '../../db/seed/generate';
import { createStackS3Client } from '../../worker/deps';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database';
import { waitFor } from '../helpers/wait';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';
import { getObject, insertExport, openUploadsUnder } from './fixture';

// A worker SIGKILLed while a large repository streams (git bundle -> tar -> gzip -> multipart upload): the next
// attempt aborts the open upload and writes the same key again, and the object ends byte for byte the clean run's,
// with no multipart upload left open.

jest.setTimeout(300_000);

const LARGE_MB = 120;

describe('a worker killed while a large repository streams', () => {
  const base = loadConfig();
  let scratch: ScratchDatabase;
  let connection: Connection;
  let client: Client;
  let s3: S3Client;
  let projectPath: string;
  let work: string;
  const workers: WorkerProcess[] = [];
  const taskQueue = `test-repository-kill-${randomUUID().slice(0, 8)}`;
  let env: Record<string, string>;

  beforeAll(async () => {
    scratch = await createScratchDatabase('repository_kill', { temporalNamespace: true });
    await migrate(scratch.sql);
    const storage = storagePaths({ ...base, DATABASE_URL: scratch.url });
    await seedInstance(scratch.sql, {
      projects: 1,
      issues: 0,
      files: { storage, largeRepositories: 1, largeRepositoryMb: LARGE_MB },
    });
    const [route] = await scratch.sql<{ path: string }[]>`select path from routes where source_type = 'Project'`;
    projectPath = route!.path;
    env = {
      DATABASE_URL: scratch.url,
      TEMPORAL_NAMESPACE: scratch.namespace!,
      TEMPORAL_TASK_QUEUE_EXPORT: taskQueue,
      TEMPORAL_TASK_QUEUE_BULK_UPDATE: `${taskQueue}-bulk`,
      EXPORT_CREDENTIALS_PURGE_DELAY_MS: '1000',
    };
    connection = await Connection.connect(temporalConnectionOptions(base));
    client = new Client({ connection, namespace: scratch.namespace! });
    s3 = createStackS3Client(base);
    work = mkdtempSync(join(tmpdir(), 'repository-kill-'));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await connection?.close();
    s3?.destroy();
    await scratch?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const worker = async () => {
    const w = startWorkerProcess(env);
    workers.push(w);
    await w.ready;
    return w;
  };
  const start = async () => {
    const created = await insertExport(scratch.sql, { ...base, DATABASE_URL: scratch.url }, 2, [projectPath]);
    const [row] = await scratch.sql<{ id: number }[]>`select id::int from projects`;
    const key = `${created.exportPrefix}/project_${row!.id}/repository.tar.gz`;
    const handle = await client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
      workflowId: offlineExportWorkflowId(created.exportId),
      taskQueue,
      args: [{ exportId: created.exportId }],
    });
    return { ...created, key, result: () => handle.result() as Promise<OfflineExportResult> };
  };
  const openUploads = async (prefix: string) =>
    (await s3.send(new ListMultipartUploadsCommand({ Bucket: base.S3_BUCKET, Prefix: prefix }))).Uploads ?? [];
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  it('ends with the clean run object and no open upload', async () => {
    // The clean run, and a check that its bundle is one git reads.
    const first = await worker();
    const clean = await start();
    expect(await clean.result()).toMatchObject({ status: 'finished', hasFailures: false });
    await first.stop();
    const cleanBody = await getObject(s3, base.S3_BUCKET, clean.key);
    expect(cleanBody.length).toBeGreaterThan(LARGE_MB * 1024 * 1024);
    writeFileSync(join(work, 'clean.tar.gz'), cleanBody);
    execFileSync('tar', ['-xzf', join(work, 'clean.tar.gz'), '-C', work]);
    execFileSync('git', ['bundle', 'verify', '--quiet', join(work, 'repository.bundle')], { stdio: 'pipe' });

    // The same export again, the worker killed once the repository's multipart upload is open.
    const doomed = await worker();
    const chaos = await start();
    await waitFor(async () => ((await openUploads(chaos.key)).length > 0 ? true : undefined), 120_000, {
      everyMs: 25,
      what: 'the repository upload to start',
    });
    await doomed.kill();
    const [row] = await scratch.sql<{ status: number }[]>`
      select status from bulk_import_exports where offline_export_id = ${chaos.exportId} and relation = 'repository'`;
    expect(row?.status).not.toBe(1); // not finished when the worker died
    await worker();
    expect(await chaos.result()).toMatchObject({ status: 'finished', hasFailures: false });
    const body = await getObject(s3, base.S3_BUCKET, chaos.key);
    expect(sha(body)).toBe(sha(cleanBody));
    expect(await openUploadsUnder(s3, base.S3_BUCKET, chaos.exportPrefix)).toEqual([]);
  });
});
