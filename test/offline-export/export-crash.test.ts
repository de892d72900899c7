import { type S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { createHash, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { relationSource } from '../../db/offline-export/relations/index';
import { createSql, type Sql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import {
  OFFLINE_EXPORT_WORKFLOW,
  offlineExportWorkflowId,
  type OfflineExportResult,
  type PortableType,
} from '../../contracts/offline-export';
import { BatchStatus, RelationStatus } from '../../db/offline-export/statuses';
import { historyText } from '../helpers/history';
import { getObject, insertExport, listKeys, openUploadsUnder } from './fixture';
import { createStackS3Client } from '../../worker/deps';
import { waitFor } from '../helpers/wait';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

// A worker killed (SIGKILL) in the middle of an export; a second worker finishes it. Batches of 2 records make
// hundreds of objects, so the kill lands between and inside uploads.

const BATCH_SIZE = 2;

describe('an export whose worker is killed mid-way', () => {
  const config = loadConfig();
  const taskQueue = `test-export-crash-${randomUUID().slice(0, 8)}`;
  const env = {
    DATABASE_URL: config.DATABASE_URL,
    TEMPORAL_TASK_QUEUE_EXPORT: taskQueue,
    TEMPORAL_TASK_QUEUE_BULK_UPDATE: `${taskQueue}-bulk`,
    EXPORT_BATCH_SIZE: String(BATCH_SIZE),
    EXPORT_CREDENTIALS_PURGE_DELAY_MS: '1000',
    LOG_LEVEL: 'info',
  };
  let sql: Sql;
  let s3: S3Client;
  let connection: Connection;
  let client: Client;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    sql = createSql(config.DATABASE_URL, { max: 3 });
    s3 = createStackS3Client(config);
    connection = await Connection.connect(temporalConnectionOptions(config));
    client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await connection?.close();
    s3?.destroy();
    await sql?.end({ timeout: 5 });
  });

  it('is finished by a new worker with the same objects and no duplicate rows', async () => {
    const { exportId, exportPrefix } = await insertExport(sql, config, 2, [
      'gitlab-org/backend',
      'gitlab-org/frontend',
    ]);
    const first = startWorkerProcess(env);
    workers.push(first);
    await first.ready;
    const handle = await client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
      workflowId: offlineExportWorkflowId(exportId),
      taskQueue,
      args: [{ exportId }],
    });

    // Kill once a good part of the batches is written, while relation exports are running.
    const atKill = await waitFor(
      async () => {
        const [r] = await sql<{ finished: number; started: number; total: number }[]>`
        select count(*) filter (where b.status = ${BatchStatus.FINISHED})::int as finished,
               count(*) filter (where e.status = ${RelationStatus.STARTED})::int as started,
               count(*)::int as total
        from bulk_import_exports e left join bulk_import_export_batches b on b.export_id = e.id
        where e.offline_export_id = ${exportId}`;
        return r && r.finished >= 60 && r.started > 0 ? r : undefined;
      },
      90_000,
      { everyMs: 50, what: 'a good part of the batches written' },
    );
    await first.kill();
    const [unfinished] = await sql<{ n: number }[]>`
      select count(*)::int as n from bulk_import_exports where offline_export_id = ${exportId} and status <> ${RelationStatus.FINISHED}`;
    expect(unfinished!.n).toBeGreaterThan(0);

    const second = startWorkerProcess(env);
    workers.push(second);
    await second.ready;
    const result = (await handle.result()) as OfflineExportResult;
    expect(result).toMatchObject({ status: 'finished', hasFailures: false });

    // No duplicate rows: one row per portable and relation, batches numbered 1..n once each.
    const rows = await sql<
      {
        id: number;
        group_id: number | null;
        project_id: number | null;
        relation: string;
        status: number;
        batches_count: number;
        total_objects_count: number;
        object_key: string | null;
        sha256: string | null;
      }[]
    >`
      select * from bulk_import_exports where offline_export_id = ${exportId}`;
    expect(new Set(rows.map((r) => `${r.group_id}:${r.project_id}:${r.relation}`)).size).toBe(rows.length);
    expect(rows.every((r) => r.status === RelationStatus.FINISHED)).toBe(true);
    const batches = await sql<
      {
        export_id: number;
        batch_number: number;
        status: number;
        first_id: number;
        last_id: number;
        object_key: string;
        sha256: string;
        objects_count: number;
      }[]
    >`
      select b.* from bulk_import_export_batches b join bulk_import_exports e on e.id = b.export_id
      where e.offline_export_id = ${exportId} order by b.export_id, b.batch_number`;
    for (const row of rows) {
      const numbers = batches.filter((b) => b.export_id === row.id).map((b) => b.batch_number);
      expect(numbers).toEqual(Array.from({ length: row.batches_count }, (_, i) => i + 1));
    }

    // The same objects a clean run writes: exactly the keys the rows name, each whole, its bytes the ones recorded,
    // its records exactly the rows of its id range, no more, no fewer.
    const keys = await listKeys(s3, config.S3_BUCKET, exportPrefix);
    const expected = [
      `${exportPrefix}/metadata.json.gz`,
      ...rows.filter((r) => r.object_key).map((r) => r.object_key!),
      ...batches.map((b) => b.object_key),
    ].sort();
    expect(keys).toEqual(expected);
    const byId = new Map(rows.map((r) => [r.id, r]));
    let records = 0;
    for (const b of batches) {
      const row = byId.get(b.export_id)!;
      const type: PortableType = row.group_id !== null ? 'group' : 'project';
      const body = await getObject(s3, config.S3_BUCKET, b.object_key);
      expect(createHash('sha256').update(body).digest('hex')).toBe(b.sha256);
      const lines = await relationSource(type, row.relation)!.lines(sql, (row.group_id ?? row.project_id)!, {
        first: b.first_id,
        last: b.last_id,
      });
      records += b.objects_count;
      if (b.object_key.endsWith('.tar.gz')) {
        // An archive batch (uploads, LFS objects): one tar entry per file of its id range, each a whole header
        // block naming the file (file-relations.test.ts extracts them with GNU tar and compares the bytes).
        const tar = gunzipSync(body);
        expect(tar.subarray(tar.length - 1024).equals(Buffer.alloc(1024))).toBe(true);
        expect(lines.length).toBeGreaterThanOrEqual(b.objects_count);
        continue;
      }
      expect(gunzipSync(body).toString()).toBe(lines.map((l) => l.line).join('\n') + '\n');
    }
    expect(records).toBeGreaterThan(atKill.finished);
    expect(await openUploadsUnder(s3, config.S3_BUCKET, exportPrefix)).toEqual([]);

    // Some activity really was retried on the second worker after the first one died.
    let retried = 0;
    let secretSeen = false;
    for await (const h of client.workflow
      .list({ query: `WorkflowId STARTS_WITH "${offlineExportWorkflowId(exportId)}"` })
      .intoHistories()) {
      const text = historyText(h.history);
      retried += (text.match(/"attempt":[2-9]/g) ?? []).length;
      secretSeen ||= text.includes(config.S3_SECRET_ACCESS_KEY) || text.includes(config.S3_ACCESS_KEY_ID);
    }
    expect(retried).toBeGreaterThan(0);
    expect(secretSeen).toBe(false);
    // Nor in the workers' logs.
    for (const w of workers) {
      expect(w.output()).toContain('worker polling');
      expect(w.output().includes(config.S3_SECRET_ACCESS_KEY)).toBe(false);
    }
  }, 240_000);
});
