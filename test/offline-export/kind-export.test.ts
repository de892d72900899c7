import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBucketClientCache, type OpenBucket } from '../../activities/offline-export/bucket';
import { createKindExporter, type KindExportResult } from '../../activities/offline-export/kind-export';
import { createRowExporter } from '../../activities/offline-export/relation-export';
import { ensureChunkRelationRows } from '../../db/offline-export/chunks';
import { chunkLines } from '../../db/offline-export/relations/chunk-lines';
import { relationSource } from '../../db/offline-export/relations/index';
import { findRelationRow, recordWholeRelations, type WholeRelationOutcome } from '../../db/offline-export/tracking';
import { createSql, type Sql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { PORTABLE_RELATIONS, type PortableType } from '../../contracts/offline-export';
import { RelationStatus } from '../../db/offline-export/statuses';
import { getObject, insertExport, listKeys } from './fixture';
import { createStackS3Client } from '../../worker/deps';

// A relation of many portables read by one query (chunkLines) and split into each portable's object as it streams
// (createKindExporter) must give exactly what one query per portable gives: the same lines in the same order, the
// same objects byte for byte, the same rows recorded.

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('relations of many portables in one query', () => {
  const config = loadConfig();
  const env = new MockActivityEnvironment();
  let sql: Sql;
  let s3: S3Client;
  let groups: number[];
  let projects: number[];

  beforeAll(async () => {
    sql = createSql(config.DATABASE_URL, { max: 4 });
    s3 = createStackS3Client(config);
    groups = (await sql<{ id: number }[]>`select id from namespaces order by id`).map((r) => r.id);
    projects = (await sql<{ id: number }[]>`select id from projects order by id`).map((r) => r.id);
  });
  afterAll(async () => {
    s3?.destroy();
    await sql?.end({ timeout: 5 });
  });

  it('chunkLines gives every relation of every portable the lines of its own query, portable after portable', async () => {
    let compared = 0;
    for (const type of ['group', 'project'] as PortableType[]) {
      // Out of id order, and a portable twice removed: the order given is the order read.
      const ids = type === 'group' ? [...groups].reverse() : [...projects].reverse();
      for (const relation of PORTABLE_RELATIONS[type]) {
        const source = relationSource(type, relation)!;
        const expected: { portableId: number; line: string; id?: number }[] = [];
        for (const id of ids) {
          for (const r of (await source.lines(sql, id)) as { line: string; id?: number }[])
            expected.push({ portableId: id, ...r });
        }
        const got = await chunkLines(sql, source, ids);
        expect([relation, got.map((r) => ({ ...r }))]).toEqual([relation, expected]);
        // At most two lines per portable: the first two of each.
        const capped = await chunkLines(sql, source, ids, 2);
        const firstTwo = ids.flatMap((id) => expected.filter((e) => e.portableId === id).slice(0, 2));
        expect([relation, capped.map((r) => ({ ...r }))]).toEqual([relation, firstTwo]);
        compared += expected.length;
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  async function rowsOf(exportId: number, relation: string, ids: number[]) {
    await ensureChunkRelationRows(
      sql,
      exportId,
      ids.map((projectId) => ({ relation, groupId: null, projectId })),
    );
    return Promise.all(ids.map(async (id) => (await findRelationRow(sql, exportId, 'project', id, relation))!));
  }

  const record = async (outcome: WholeRelationOutcome) => {
    await recordWholeRelations(sql, [outcome]);
  };

  /** The objects under a prefix by path below it, with their sha256. */
  async function objects(prefix: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const key of await listKeys(s3, config.S3_BUCKET, prefix))
      out.set(key.slice(prefix.length + 1), sha(await getObject(s3, config.S3_BUCKET, key)));
    return out;
  }

  it.each(['issues', 'project_feature', 'labels'])(
    'writes %s of several projects as the per-relation path does, and leaves the rest to it from a relation larger than a batch on',
    async (relation) => {
      const source = relationSource('project', relation)!;
      const counts = new Map(
        await Promise.all(projects.map(async (id) => [id, (await source.lines(sql, id)).length] as const)),
      );
      // Batches as small as the smallest relation that has records (or one smaller, when they all have as many),
      // so some projects overflow; the projects in order of size, so the query writes the smaller ones before it
      // meets the first larger one.
      const sizes = [...counts.values()].filter((n) => n > 0).sort((a, b) => a - b);
      const batchSize = sizes[0]! < sizes[sizes.length - 1]! ? sizes[0]! : Math.max(1, sizes[0]! - 1);
      const ordered = [...projects].sort((a, b) => counts.get(a)! - counts.get(b)! || a - b);
      const deps = {
        sql,
        encryptionKey: config.ENCRYPTION_KEY,
        clients: createBucketClientCache({ allowLocalNetwork: true }),
        batchSize,
        cursorRows: 2,
      };

      // One query for all of them.
      const grouped = await insertExport(sql, config, 2, ['gitlab-org']);
      const groupedRows = await rowsOf(grouped.exportId, relation, ordered);
      const bucket: OpenBucket = { client: s3, bucket: config.S3_BUCKET, exportPrefix: grouped.exportPrefix };
      const settled: number[] = [];
      const result: KindExportResult = await env.run(() =>
        createKindExporter(deps)({
          portableType: 'project',
          relation,
          source,
          rows: groupedRows,
          bucket,
          signal: new AbortController().signal,
          beat: () => undefined,
          settled: (rowId) => settled.push(rowId),
          recordWhole: record,
        }),
      );
      expect(result.error).toBeUndefined();
      // From the first project with more than a batch on, the projects are left to the per-relation path.
      const firstLarger = ordered.findIndex((id) => source.batched && counts.get(id)! > batchSize);
      const larger = firstLarger === -1 ? [] : ordered.slice(firstLarger);
      if (relation === 'issues') expect(larger.length).toBeGreaterThan(0);
      expect(result.left.map((r) => r.projectId)).toEqual(larger);
      expect(result.written).toBe(ordered.length - larger.length);
      expect(settled.sort()).toEqual(groupedRows.map((r) => r.id).sort());

      // One query per project, in another export.
      const single = await insertExport(sql, config, 2, ['gitlab-org']);
      const singleRows = await rowsOf(single.exportId, relation, ordered);
      const exportRow = createRowExporter(deps);
      for (const row of singleRows) {
        if (larger.includes(row.projectId!)) continue;
        await env.run(() =>
          exportRow({
            exportId: single.exportId,
            portableType: 'project',
            portableId: row.projectId!,
            relation,
            row,
            source,
            bucket: { ...bucket, exportPrefix: single.exportPrefix },
            signal: new AbortController().signal,
            beat: () => undefined,
            recordWhole: record,
          }),
        );
      }

      const mine = await objects(grouped.exportPrefix);
      expect(mine).toEqual(await objects(single.exportPrefix));
      expect(mine.size + larger.length).toBeGreaterThan(0);
      // The rows: the same outcome either way; the ones left untouched, still PENDING.
      const strip = async (exportId: number) =>
        (
          await sql<
            { project_id: number; status: number; batched: boolean; n: number; bytes: number; sha256: string }[]
          >`
            select project_id, status, batched, total_objects_count as n, bytes, sha256
            from bulk_import_exports where offline_export_id = ${exportId} and relation = ${relation}
            order by project_id`
        ).map((r) => ({ ...r }));
      const groupedState = await strip(grouped.exportId);
      expect(groupedState).toEqual(await strip(single.exportId));
      for (const r of groupedState) {
        expect(r.status).toBe(larger.includes(r.project_id) ? RelationStatus.PENDING : RelationStatus.FINISHED);
      }
    },
  );

  it('leaves every row to the per-relation path when the bucket fails, recording none, with nothing visible', async () => {
    const created = await insertExport(sql, config, 2, ['gitlab-org']);
    const rows = await rowsOf(created.exportId, 'project_feature', projects);
    const bucket: OpenBucket = {
      client: s3,
      bucket: `${config.S3_BUCKET}-missing-${Date.now()}`,
      exportPrefix: created.exportPrefix,
    };
    const result: KindExportResult = await env.run(() =>
      createKindExporter({
        sql,
        encryptionKey: config.ENCRYPTION_KEY,
        clients: createBucketClientCache({ allowLocalNetwork: true }),
        batchSize: 10_000,
      })({
        portableType: 'project',
        relation: 'project_feature',
        source: relationSource('project', 'project_feature')!,
        rows,
        bucket,
        signal: new AbortController().signal,
        beat: () => undefined,
        settled: () => undefined,
        recordWhole: record,
      }),
    );
    expect(result.error).toBeDefined();
    expect(result.written).toBe(0);
    expect(result.left.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    const states = await sql<{ status: number }[]>`
      select status from bulk_import_exports where offline_export_id = ${created.exportId} and relation = 'project_feature'`;
    expect(states.map((s) => s.status)).toEqual(rows.map(() => RelationStatus.PENDING));
    expect(await listKeys(s3, config.S3_BUCKET, created.exportPrefix)).toEqual([]);
  });
});
