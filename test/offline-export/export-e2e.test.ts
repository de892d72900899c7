import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { relationSource } from '../../db/offline-export/relations/index';
import {
  OFFLINE_EXPORT_WORKFLOW,
  PORTABLE_RELATIONS,
  SA_EXPORT_STATUS,
  SA_WORKFLOW_KIND,
  WORKFLOW_KIND_CHUNK,
  offlineExportProgressQuery,
  credentialsPurgeWorkflowId,
  offlineExportWorkflowId,
  type OfflineExportProgress,
  type OfflineExportResult,
  type PortableType,
} from '../../contracts/offline-export';
import { BatchStatus, RelationStatus } from '../../db/offline-export/statuses';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { historyText } from '../helpers/history';
import { getObject, insertExport, listKeys, parseGzipLines, openUploadsUnder } from './fixture';
import { mailForExport } from '../helpers/mail';
import { createStackS3Client } from '../../worker/deps';
import { namespaceIdByPath } from '../../db/seed/lookups';

const BATCH_SIZE = 20;
const ALICE = { id: 2, email: 'alice@example.test' };

interface Row {
  id: number;
  group_id: number | null;
  project_id: number | null;
  relation: string;
  status: number;
  error: string | null;
  batched: boolean;
  batches_count: number;
  total_objects_count: number;
  bytes: number;
  object_key: string | null;
  sha256: string | null;
}

describe('OfflineExportWorkflow end to end (Temporal, PostgreSQL, MinIO, maildev)', () => {
  let tw: TestWorker;
  let s3: S3Client;
  beforeAll(async () => {
    tw = await startTestWorker('export-e2e', {
      EXPORT_BATCH_SIZE: BATCH_SIZE,
      // 40 portables in chunks of 4, two chunks at once: the samples below check the window is respected.
      EXPORT_PORTABLES_PER_CHUNK: 4,
      EXPORT_MAX_CONCURRENT_CHUNKS: 2,
      EXPORT_CREDENTIALS_PURGE_DELAY_MS: 2_000,
      // 10 chunks in runs of 4: the export continues as new twice.
      EXPORT_CHUNKS_PER_RUN: 4,
    });
    s3 = createStackS3Client(tw.config);
  });
  afterAll(async () => {
    s3?.destroy();
    await tw?.close();
  });

  it('exports a seeded hierarchy: every object, record, status, count, the metadata and the email', async () => {
    const { sql, config } = { sql: tw.deps.sql, config: tw.config };
    // gitlab-org (9 groups, 30 projects) and its subgroup backend (exported once), plus a project of org-2.
    const { exportId, exportPrefix } = await insertExport(sql, config, ALICE.id, [
      'gitlab-org',
      'gitlab-org/backend',
      'org-2/project-2',
    ]);
    const workflowId = offlineExportWorkflowId(exportId);
    const started = Date.now();
    const samples: OfflineExportProgress[] = [];
    const { result, progress } = await tw.run(async () => {
      const handle = await tw.client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
        workflowId,
        taskQueue: tw.taskQueue,
        args: [{ exportId }],
        staticSummary: `Offline export ${exportId}`,
      });
      const finished = handle.result() as Promise<OfflineExportResult>;
      let done = false;
      void finished.finally(() => (done = true)).catch(() => undefined);
      while (!done) {
        samples.push(await handle.query(offlineExportProgressQuery));
        await new Promise((r) => setTimeout(r, 500));
      }
      // Queries need a worker: ask for the final progress before the test worker stops.
      return { result: await finished, progress: await handle.query(offlineExportProgressQuery) };
    });
    const elapsedMs = Date.now() - started;

    expect(result).toMatchObject({ exportId, status: 'finished', hasFailures: false });
    expect(result.totals).toMatchObject({
      portablesTotal: 40,
      portablesFinished: 40,
      portablesFailed: 0,
      relationsFailed: 0,
    });

    // --- tables ---
    const [exp] = await sql<
      { status: number; has_failures: boolean; notified_at: Date | null; error: string | null }[]
    >`
      select status, has_failures, notified_at, error from import_offline_exports where id = ${exportId}`;
    expect(exp).toMatchObject({ status: 2, has_failures: false, error: null });
    expect(exp!.notified_at).not.toBeNull();
    const rows = await sql<Row[]>`select * from bulk_import_exports where offline_export_id = ${exportId} order by id`;
    const groups = rows.filter((r) => r.relation === 'self' && r.group_id !== null);
    const projects = rows.filter((r) => r.relation === 'self' && r.project_id !== null);
    expect(groups).toHaveLength(9);
    expect(projects).toHaveLength(31);
    expect(rows).toHaveLength(9 * PORTABLE_RELATIONS.group.length + 31 * PORTABLE_RELATIONS.project.length);
    expect(rows.every((r) => r.status === RelationStatus.FINISHED && r.error === null)).toBe(true);
    const backend = await namespaceIdByPath(sql, 'gitlab-org/backend');
    expect(groups.filter((g) => g.group_id === backend)).toHaveLength(1);
    const unique = new Set(rows.map((r) => `${r.group_id}:${r.project_id}:${r.relation}`));
    expect(unique.size).toBe(rows.length);

    // Record counts against the source tables, and the batches they were cut into.
    const expectedKeys = new Set<string>([`${exportPrefix}/metadata.json.gz`]);
    for (const row of rows) {
      const type: PortableType = row.group_id !== null ? 'group' : 'project';
      const id = (row.group_id ?? row.project_id)!;
      const source = relationSource(type, row.relation)!;
      const records = await source.lines(sql, id);
      // A file relation's records are its archived files; a bundle's line is there whether or not the repository is
      // (file-relations.test.ts checks those archives' contents).
      const bundle = source.format === 'tar' && !source.batched;
      if (!bundle) expect([row.relation, row.total_objects_count]).toEqual([row.relation, records.length]);
      expect(row.batched).toBe(source.batched);
      const format = source.format === 'tar' ? '.tar.gz' : '.ndjson.gz';
      if (source.batched) {
        expect(row.batches_count).toBe(Math.ceil(records.length / BATCH_SIZE));
        for (let n = 1; n <= row.batches_count; n++)
          expectedKeys.add(`${exportPrefix}/${type}_${id}/${row.relation}/batch_${n}${format}`);
      } else {
        const ext = row.relation === 'self' ? '.json.gz' : format;
        expect(row.object_key).toBe(`${exportPrefix}/${type}_${id}/${row.relation}${ext}`);
        expectedKeys.add(row.object_key!);
      }
    }
    const batches = await sql<
      {
        export_id: number;
        batch_number: number;
        status: number;
        objects_count: number;
        object_key: string;
        sha256: string;
      }[]
    >`
      select b.* from bulk_import_export_batches b join bulk_import_exports e on e.id = b.export_id
      where e.offline_export_id = ${exportId}`;
    expect(batches.every((b) => b.status === BatchStatus.FINISHED)).toBe(true);

    // --- bucket: exactly the expected keys; every object decompresses and parses; hashes match the tables ---
    const keys = await listKeys(s3, config.S3_BUCKET, exportPrefix);
    expect(keys).toEqual([...expectedKeys].sort());
    const shaByKey = new Map<string, string>([
      ...batches.map((b) => [b.object_key, b.sha256] as [string, string]),
      ...rows.filter((r) => r.object_key).map((r) => [r.object_key!, r.sha256!] as [string, string]),
    ]);
    let bytes = 0;
    let records = 0;
    const recordsByRelation = new Map<string, number>();
    for (const key of keys) {
      const body = await getObject(s3, config.S3_BUCKET, key);
      bytes += body.length;
      // Archives (file relations) count their files: file-relations.test.ts reads them with tar and git.
      if (key.endsWith('.tar.gz')) {
        const row = rows.find((r) => r.object_key === key) ?? batches.find((b) => b.object_key === key);
        const count = row && 'objects_count' in row ? row.objects_count : row?.total_objects_count;
        records += count ?? 0;
        expect(createHash('sha256').update(body).digest('hex')).toBe(shaByKey.get(key));
        continue;
      }
      const parsed = parseGzipLines(body);
      if (key.endsWith('metadata.json.gz')) continue;
      expect(createHash('sha256').update(body).digest('hex')).toBe(shaByKey.get(key));
      records += parsed.length;
      const relation = key.split('/')[2]!.replace(/\..*$/, '');
      recordsByRelation.set(relation, (recordsByRelation.get(relation) ?? 0) + parsed.length);
    }
    const totalRecords = rows.reduce((s, r) => s + r.total_objects_count, 0);
    expect(records).toBe(totalRecords);
    const [issueCount] = await sql<{ n: number }[]>`
      select count(*)::int as n from issues i join bulk_import_exports e on e.project_id = i.project_id
      where e.offline_export_id = ${exportId} and e.relation = 'self'`;
    expect(recordsByRelation.get('issues')).toBe(issueCount!.n);
    expect(issueCount!.n).toBeGreaterThan(1500);

    // --- sampled values: the issues of one project, in full, against the database ---
    const sample = projects[0]!.project_id!;
    const issueRow = rows.find((r) => r.project_id === sample && r.relation === 'issues')!;
    const exported: Record<string, unknown>[] = [];
    for (let n = 1; n <= issueRow.batches_count; n++) {
      exported.push(
        ...(parseGzipLines(
          await getObject(s3, config.S3_BUCKET, `${exportPrefix}/project_${sample}/issues/batch_${n}.ndjson.gz`),
        ) as Record<string, unknown>[]),
      );
    }
    const dbIssues = await sql<
      {
        iid: number;
        title: string;
        state_id: number;
        weight: number | null;
        notes: number;
        label: string;
        assignee: number;
      }[]
    >`
      select i.iid, i.title, i.state_id, i.weight,
             (select count(*)::int from notes n where n.noteable_type = 'Issue' and n.noteable_id = i.id) as notes,
             (select l.title from label_links ll join labels l on l.id = ll.label_id where ll.target_type = 'Issue' and ll.target_id = i.id) as label,
             (select user_id from issue_assignees where issue_id = i.id) as assignee
      from issues i where i.project_id = ${sample} order by i.id`;
    expect(exported.map((e) => e.iid)).toEqual(dbIssues.map((i) => i.iid));
    for (const [i, e] of exported.entries()) {
      const d = dbIssues[i]!;
      expect(e).toMatchObject({ title: d.title, state: d.state_id === 1 ? 'opened' : 'closed', weight: d.weight });
      expect((e.notes as unknown[]).length).toBe(d.notes);
      expect((e.label_links as { label: { title: string } }[])[0]!.label.title).toBe(d.label);
      expect(e.issue_assignees).toEqual([{ user_id: d.assignee }]);
      expect(e).not.toHaveProperty('id');
    }
    const projectSelf = parseGzipLines(
      await getObject(s3, config.S3_BUCKET, `${exportPrefix}/project_${sample}/self.json.gz`),
    );
    const [dbProject] = await sql<
      { name: string; description: string }[]
    >`select name, description from projects where id = ${sample}`;
    expect(projectSelf).toEqual([
      expect.objectContaining({ name: dbProject!.name, description: dbProject!.description }),
    ]);

    // --- metadata.json.gz ---
    const metadata = JSON.parse(
      gunzipSync(await getObject(s3, config.S3_BUCKET, `${exportPrefix}/metadata.json.gz`)).toString(),
    ) as {
      instance_version: string;
      instance_enterprise: boolean;
      export_prefix: string;
      source_hostname: string;
      entities_mapping: Record<string, string>;
    };
    const routes = await sql<{ path: string; prefix: string }[]>`
      select r.path, case when r.source_type = 'Namespace' then 'group_' else 'project_' end || r.source_id as prefix
      from routes r join bulk_import_exports e
        on (r.source_type = 'Namespace' and e.group_id = r.source_id) or (r.source_type = 'Project' and e.project_id = r.source_id)
      where e.offline_export_id = ${exportId} and e.relation = 'self'`;
    expect(metadata).toEqual({
      instance_version: config.INSTANCE_VERSION,
      instance_enterprise: config.INSTANCE_ENTERPRISE,
      export_prefix: exportPrefix,
      source_hostname: config.INSTANCE_BASE_URL,
      entities_mapping: Object.fromEntries(routes.map((r) => [r.path, r.prefix])),
    });
    expect(metadata.entities_mapping['gitlab-org']).toBe('group_1');
    expect(Object.keys(metadata.entities_mapping)).toHaveLength(40);

    // No multipart upload left open under the prefix.
    expect(await openUploadsUnder(s3, config.S3_BUCKET, exportPrefix)).toEqual([]);

    // --- the email, once ---
    const mails = await mailForExport(config, ALICE.email, exportPrefix);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('Offline export complete');
    expect(mails[0]!.text).toContain('Export complete');
    expect(mails[0]!.text).toContain('in the configured object storage bucket');
    expect(mails[0]!.text).toContain(config.INSTANCE_BASE_URL);

    // --- credentials purged after the (shortened) delay, by the export's purge workflow ---
    await tw.client.workflow.getHandle(credentialsPurgeWorkflowId(exportId)).result();
    const [conf] = await sql<{ object_storage_credentials: unknown; credentials_purged_at: Date | null }[]>`
      select object_storage_credentials, credentials_purged_at from import_offline_configurations where offline_export_id = ${exportId}`;
    expect(conf!.object_storage_credentials).toEqual({});
    expect(conf!.credentials_purged_at).not.toBeNull();
    expect(conf!.credentials_purged_at!.getTime() - exp!.notified_at!.getTime()).toBeGreaterThanOrEqual(2_000);

    // --- visibility: progress query, search attributes, summaries; continue-as-new happened ---
    const handle = tw.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(SA_EXPORT_STATUS)).toBe('finished');
    expect(samples.some((p) => p.phase === 'exporting' && p.portables.running > 0 && p.running.length > 0)).toBe(true);
    expect(samples.every((p) => p.running.length <= 2 && p.portables.running <= 2 * 4)).toBe(true);
    expect(progress).toMatchObject({
      phase: 'done',
      run: 3,
      portables: { total: 40, finished: 40, failed: 0, running: 0, pending: 0 },
    });
    expect(progress.bytesWritten).toBeGreaterThan(0);
    // One child per chunk of consecutive portables, named by its 'self' rows, its summary naming the first and last.
    const chunkIds: string[] = [];
    for await (const w of tw.client.workflow.list({ query: `WorkflowId STARTS_WITH "${workflowId}/portables:"` }))
      chunkIds.push(w.workflowId);
    expect(chunkIds).toHaveLength(10);
    const child = tw.client.workflow.getHandle(chunkIds.sort()[0]!);
    const childDescription = await child.describe();
    expect(await childDescription.staticSummary()).toMatch(
      /^Export 4 portables, (gitlab-org|org-2)\S* to (gitlab-org|org-2)\S* \(offline export \d+\)$/,
    );
    expect(childDescription.typedSearchAttributes.get(SA_WORKFLOW_KIND)).toBe(WORKFLOW_KIND_CHUNK);

    // --- histories: no credential anywhere; sizes well below the limits ---
    const histories: { id: string; events: number; json: string }[] = [];
    for await (const h of tw.client.workflow
      .list({ query: `WorkflowId STARTS_WITH "${workflowId}"` })
      .intoHistories()) {
      histories.push({
        id: h.workflowId,
        events: (h.history as { events?: unknown[] }).events?.length ?? 0,
        json: historyText(h.history),
      });
    }
    expect(histories.filter((h) => h.id === workflowId)).toHaveLength(3); // three runs
    expect(histories.length).toBe(3 + 10); // the purge workflow is offline-export-purge:<id>, not under this prefix
    for (const h of histories) {
      // Payloads are decoded (the export id is readable), so a secret would show; booleans keep failures short.
      expect([h.id, h.json.includes(`"exportId\\":${exportId}`) || h.json.includes(`exportId":${exportId}`)]).toEqual([
        h.id,
        true,
      ]);
      expect([h.id, h.json.includes(config.S3_SECRET_ACCESS_KEY), h.json.includes(config.S3_ACCESS_KEY_ID)]).toEqual([
        h.id,
        false,
        false,
      ]);
    }
    const largest = Math.max(...histories.filter((h) => h.id === workflowId).map((h) => h.events));
    expect(largest).toBeLessThan(1000);

    process.stdout.write(
      `e2e export: ${totalRecords} records, ${keys.length} objects, ${bytes} bytes gzipped in ${elapsedMs} ms ` +
        `(${Math.round((totalRecords / elapsedMs) * 1000)} records/s incl. the ${2_000} ms purge delay); ` +
        `largest parent run history ${largest} events, largest child ${Math.max(...histories.filter((h) => h.id !== workflowId).map((h) => h.events))}\n`,
    );
  });
});
