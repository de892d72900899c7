import type { S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBucketClientCache, type OpenBucket } from '../../activities/offline-export/bucket';
import { batchKey } from '../../activities/offline-export/object-keys';
import { createRowExporter } from '../../activities/offline-export/relation-export';
import { WholeRelationRecorder, type RecorderOptions } from '../../activities/offline-export/whole-recorder';
import { ensureChunkRelationRows } from '../../db/offline-export/chunks';
import { relationSource } from '../../db/offline-export/relations/index';
import { findRelationRow, recordWholeRelations, type WholeRelationOutcome } from '../../db/offline-export/tracking';
import { createSql, type Sql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { BatchStatus, RelationStatus } from '../../db/offline-export/statuses';
import { getObject, insertExport, listKeys, parseGzipLines } from './fixture';
import { createStackS3Client } from '../../worker/deps';

/** Records each whole relation as soon as it is written (the chunk activity batches them instead). */
const recordAtOnce = (sql: Sql) => async (outcome: WholeRelationOutcome) => {
  await recordWholeRelations(sql, [outcome]);
};

// A relation of at most one batch is streamed whole by one query and recorded with others in one statement; a
// larger one falls back to batches cut from its ids. Both must leave the same rows and objects behind.

const outcome = (rowId: number): WholeRelationOutcome => ({
  rowId,
  batched: false,
  records: 1,
  bytes: 10,
  objectKey: `k${rowId}`,
  sha256: 'x',
});

describe('WholeRelationRecorder', () => {
  const env = new MockActivityEnvironment();
  const options = (record: RecorderOptions['record'], more: Partial<RecorderOptions> = {}): RecorderOptions => ({
    record,
    maxPending: 3,
    delayMs: 20,
    attempts: 3,
    initialBackoffMs: 5,
    maxBackoffMs: 10,
    onGiveUp: () => undefined,
    ...more,
  });

  it('records full groups at once and the rest after the delay, each outcome once', async () => {
    const groups: number[][] = [];
    await env.run(async () => {
      const recorder = new WholeRelationRecorder(options(async (o) => groups.push(o.map((x) => x.rowId))));
      for (let i = 1; i <= 7; i++) recorder.add(outcome(i));
      await recorder.drain();
    });
    expect(groups.flat()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(groups[0]).toEqual([1, 2, 3]);
    expect(groups.every((g) => g.length <= 3)).toBe(true);
  });

  it('retries a failed statement with the same outcomes first, losing and repeating none', async () => {
    const recorded: number[] = [];
    let calls = 0;
    await env.run(async () => {
      const recorder = new WholeRelationRecorder(
        options(async (o) => {
          calls++;
          if (calls === 1) throw new Error('connection lost');
          recorded.push(...o.map((x) => x.rowId));
        }),
      );
      for (let i = 1; i <= 5; i++) recorder.add(outcome(i));
      await recorder.drain();
    });
    expect(recorded).toEqual([1, 2, 3, 4, 5]);
    expect(calls).toBeGreaterThan(1);
  });

  it('gives up after its attempts: tells the attempt once, drain rejects, later outcomes are dropped', async () => {
    const gaveUp: unknown[] = [];
    let calls = 0;
    const drained = await env.run(async () => {
      const recorder = new WholeRelationRecorder(
        options(
          async () => {
            calls++;
            throw new Error('database is gone');
          },
          { onGiveUp: (err) => gaveUp.push(err) },
        ),
      );
      recorder.add(outcome(1));
      const result = await recorder.drain().then(
        () => 'drained',
        (err: unknown) => (err as Error).message,
      );
      recorder.add(outcome(2));
      await recorder.flushOnce();
      return result;
    });
    expect(drained).toBe('database is gone');
    expect(calls).toBe(3);
    expect(gaveUp).toHaveLength(1);
  });

  it('stops waiting for a statement that never settles when the attempt is stopping', async () => {
    const started = Date.now();
    await env.run(async () => {
      const recorder = new WholeRelationRecorder(options(() => new Promise(() => undefined), { maxPending: 1 }));
      recorder.add(outcome(1)); // goes at once and hangs
      recorder.add(outcome(2)); // waits behind it
      await recorder.flushOnce(100);
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('relations exported whole against PostgreSQL and the S3 server', () => {
  const config = loadConfig();
  let sql: Sql;
  let s3: S3Client;
  let project: { id: number; issues: number; first: number; last: number };
  beforeAll(async () => {
    sql = createSql(config.DATABASE_URL, { max: 4 });
    s3 = createStackS3Client(config);
    const [row] = await sql<{ id: number; issues: number; first: number; last: number }[]>`
      select project_id as id, count(*)::int as issues, min(id) as first, max(id) as last
      from issues group by project_id having count(*) >= 5 order by count(*) desc, project_id limit 1`;
    project = row!;
  });
  afterAll(async () => {
    s3?.destroy();
    await sql?.end({ timeout: 5 });
  });

  async function exportIssues(batchSize: number) {
    const { exportId, exportPrefix } = await insertExport(sql, config, 2, ['gitlab-org']);
    await ensureChunkRelationRows(sql, exportId, [{ relation: 'issues', groupId: null, projectId: project.id }]);
    const row = (await findRelationRow(sql, exportId, 'project', project.id, 'issues'))!;
    const bucket: OpenBucket = { client: s3, bucket: config.S3_BUCKET, exportPrefix };
    const clients = createBucketClientCache({ allowLocalNetwork: true });
    const exportRow = createRowExporter({
      sql,
      encryptionKey: config.ENCRYPTION_KEY,
      clients,
      batchSize,
      cursorRows: 2,
    });
    const source = relationSource('project', 'issues')!;
    const result = await exportRow({
      exportId,
      portableType: 'project',
      portableId: project.id,
      relation: 'issues',
      row,
      source,
      bucket,
      signal: new AbortController().signal,
      beat: () => undefined,
      recordWhole: recordAtOnce(sql),
    });
    const after = (await findRelationRow(sql, exportId, 'project', project.id, 'issues'))!;
    const batches = await sql<
      {
        batch_number: number;
        status: number;
        first_id: number;
        last_id: number;
        objects_count: number;
        object_key: string;
      }[]
    >`
      select batch_number, status, first_id, last_id, objects_count, object_key from bulk_import_export_batches
      where export_id = ${row.id} order by batch_number`;
    const keys = await listKeys(s3, config.S3_BUCKET, exportPrefix);
    return { exportId, exportPrefix, row, result, after, batches, keys };
  }

  it('writes a relation of one batch in one pass: one FINISHED batch with its id range, the relation FINISHED', async () => {
    const { exportPrefix, result, after, batches, keys } = await exportIssues(10_000);
    expect(result).toMatchObject({ batched: true, batches: 1, records: project.issues, objects: 1 });
    expect(after).toMatchObject({
      status: RelationStatus.FINISHED,
      batched: true,
      batchesCount: 1,
      totalObjectsCount: project.issues,
      objectKey: null,
    });
    const key = batchKey(exportPrefix, 'project', project.id, 'issues', 1);
    expect(batches).toEqual([
      {
        batch_number: 1,
        status: BatchStatus.FINISHED,
        first_id: project.first,
        last_id: project.last,
        objects_count: project.issues,
        object_key: key,
      },
    ]);
    expect(keys).toEqual([key]);
    const expected = (await relationSource('project', 'issues')!.lines(sql, project.id)).map(
      (r) => JSON.parse(r.line) as unknown,
    );
    expect(parseGzipLines(await getObject(s3, config.S3_BUCKET, key))).toEqual(expected);
  });

  it('falls back to batches cut from the ids when the relation holds more than one batch, with the same records', async () => {
    const size = Math.ceil(project.issues / 3);
    const { result, after, batches, keys } = await exportIssues(size);
    const count = Math.ceil(project.issues / size);
    expect(result).toMatchObject({ batched: true, batches: count, records: project.issues });
    expect(after).toMatchObject({
      status: RelationStatus.FINISHED,
      batchesCount: count,
      totalObjectsCount: project.issues,
    });
    expect(batches.map((b) => [b.batch_number, b.status])).toEqual(
      Array.from({ length: count }, (_, i) => [i + 1, BatchStatus.FINISHED]),
    );
    expect(keys.sort()).toEqual(batches.map((b) => b.object_key).sort());
    const records: unknown[] = [];
    for (const b of batches) records.push(...parseGzipLines(await getObject(s3, config.S3_BUCKET, b.object_key)));
    const expected = (await relationSource('project', 'issues')!.lines(sql, project.id)).map(
      (r) => JSON.parse(r.line) as unknown,
    );
    expect(records).toEqual(expected);
  });

  it('records an empty relation FINISHED with no batch and no object', async () => {
    const { exportId, exportPrefix } = await insertExport(sql, config, 2, ['gitlab-org']);
    // The seed gives some subgroups no labels of their own.
    const [empty] = await sql<{ id: number }[]>`
      select g.id from namespaces g where not exists (select 1 from labels l where l.group_id = g.id) order by g.id limit 1`;
    await ensureChunkRelationRows(sql, exportId, [{ relation: 'labels', groupId: empty!.id, projectId: null }]);
    const row = (await findRelationRow(sql, exportId, 'group', empty!.id, 'labels'))!;
    const exportRow = createRowExporter({
      sql,
      encryptionKey: config.ENCRYPTION_KEY,
      clients: createBucketClientCache({ allowLocalNetwork: true }),
      batchSize: 100,
    });
    const result = await exportRow({
      exportId,
      portableType: 'group',
      portableId: empty!.id,
      relation: 'labels',
      row,
      source: relationSource('group', 'labels')!,
      bucket: { client: s3, bucket: config.S3_BUCKET, exportPrefix },
      signal: new AbortController().signal,
      beat: () => undefined,
      recordWhole: recordAtOnce(sql),
    });
    expect(result).toMatchObject({ records: 0, objects: 0, batches: 0 });
    expect(await findRelationRow(sql, exportId, 'group', empty!.id, 'labels')).toMatchObject({
      status: RelationStatus.FINISHED,
      batched: true,
      batchesCount: 0,
      totalObjectsCount: 0,
    });
    expect(await listKeys(s3, config.S3_BUCKET, exportPrefix)).toEqual([]);
  });

  it('leaves alone a row another attempt started with batches of its own, or finished, or failed', async () => {
    const { exportId } = await insertExport(sql, config, 2, ['gitlab-org']);
    const relations = ['labels', 'milestones', 'issues', 'project_feature'];
    await ensureChunkRelationRows(
      sql,
      exportId,
      relations.map((relation) => ({ relation, groupId: null, projectId: project.id })),
    );
    const id = async (relation: string) => (await findRelationRow(sql, exportId, 'project', project.id, relation))!.id;
    const [started, finished, failed, pending] = [
      await id('labels'),
      await id('milestones'),
      await id('issues'),
      await id('project_feature'),
    ];
    await sql`update bulk_import_exports set status = ${RelationStatus.STARTED}, batched = true, batches_count = 2 where id = ${started}`;
    await sql`insert into bulk_import_export_batches (export_id, batch_number, first_id, last_id, status) values (${started}, 1, 1, 2, ${BatchStatus.STARTED}), (${started}, 2, 3, 4, ${BatchStatus.CREATED})`;
    await sql`update bulk_import_exports set status = ${RelationStatus.FINISHED}, total_objects_count = 7 where id = ${finished}`;
    await sql`update bulk_import_exports set status = ${RelationStatus.FAILED}, error = 'boom' where id = ${failed}`;
    const batched = (rowId: number): WholeRelationOutcome => ({
      rowId,
      batched: true,
      records: 3,
      bytes: 9,
      objectKey: 'k',
      sha256: 's',
      firstId: 1,
      lastId: 3,
    });
    const recorded = await recordWholeRelations(sql, [
      batched(started),
      batched(finished),
      batched(failed),
      { ...outcome(pending), records: 1 },
    ]);
    expect(recorded).toEqual([pending]);
    const rows = await sql<
      { id: number; status: number; batches_count: number; total_objects_count: number; error: string | null }[]
    >`
      select id, status, batches_count, total_objects_count, error from bulk_import_exports where id in ${sql([started, finished, failed, pending])} order by id`;
    expect(
      Object.fromEntries(rows.map((r) => [r.id, [r.status, r.batches_count, r.total_objects_count, r.error]])),
    ).toEqual({
      [started]: [RelationStatus.STARTED, 2, 0, null],
      [finished]: [RelationStatus.FINISHED, 0, 7, null],
      [failed]: [RelationStatus.FAILED, 0, 0, 'boom'],
      [pending]: [RelationStatus.FINISHED, 0, 1, null],
    });
    const batches = await sql<{ export_id: number; n: number }[]>`
      select export_id, count(*)::int as n from bulk_import_export_batches where export_id in ${sql([started, finished, failed])} group by export_id`;
    expect(batches).toEqual([{ export_id: started, n: 2 }]);
  });
});
