import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { createOfflineExport } from '../../client/offline-export/create-service';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import type { BulkUpdateWorkflow } from '../../workflows/bulk-update/bulk-update.workflow';
import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { AccessLevel } from '../../db/access';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { ExportStatus, RelationStatus } from '../../db/offline-export/statuses';
import { createSql, type Sql } from '../../db/sql';
import { BUSINESS_METRICS } from '../../worker/business-metrics';
import { createUser, projectsUnder } from '../bulk-update/support/instance';
import { waitFor } from '../helpers/wait';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

// The worker process as it is deployed (worker/main.ts, configured by its environment), on task queues of its own:
// an export and a bulk update run through it, then its Prometheus endpoint must show the business counters with
// exactly what PostgreSQL recorded, per task queue, and its health endpoint must say it is ready.

const port = () => 20_000 + Math.floor(Math.random() * 20_000);

/** Every sample of a metric on the endpoint, with its labels. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line)!;
      const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
      return { labels, value: Number(m[2]) };
    });
}

/** A metric summed over the series of one task queue (one series per activity type). */
const total = (text: string, name: string, taskQueue: string) =>
  samples(text, name)
    .filter((s) => s.labels.task_queue === taskQueue)
    .reduce((sum, s) => sum + s.value, 0);

describe('the worker process: business metrics and health endpoint', () => {
  const config = loadConfig();
  const exportQueue = `test-observability-${randomBytes(4).toString('hex')}`;
  const bulkQueue = `${exportQueue}-bulk`;
  const metricsPort = port();
  const healthPort = metricsPort + 1;
  let sql: Sql;
  let connection: Connection;
  let client: Client;
  let worker: WorkerProcess;
  const readinessWhileStarting: number[] = [];
  let exportId: number;
  let bulkWorkflowId: string;
  let internetFacing: number | undefined;
  let linkedBefore: number[] = [];

  const health = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${healthPort}${path}`);
    return { status: res.status, body: (await res.json()) as { status: string; workers: unknown[] } };
  };
  const metrics = async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    sql = createSql(config.DATABASE_URL, { max: 3 });
    connection = await Connection.connect(temporalConnectionOptions(config));
    client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });

    // Both runs are queued before the worker exists, so what they do does not depend on timing: an export of two
    // projects, one of which its user may no longer export (its 'self' relation fails), and a bulk update where
    // the projects that already have the conflicting 'Internal' attribute fail.
    const suffix = randomBytes(3).toString('hex');
    const [kept, revoked] = [21, 22];
    const exporter = await createUser(sql, `observability-export-${suffix}`, [
      { sourceType: 'Project', sourceId: kept, level: AccessLevel.MAINTAINER },
      { sourceType: 'Project', sourceId: revoked, level: AccessLevel.MAINTAINER },
    ]);
    const paths = await sql<{ path: string }[]>`
      select path from routes where source_type = 'Project' and source_id in (${kept}, ${revoked}) order by source_id`;
    const created = await createOfflineExport(
      { sql, temporal: client, config, taskQueue: exportQueue },
      { id: exporter },
      devBucketExportBody(
        config,
        paths.map((p) => p.path),
      ),
    );
    exportId = created.export.id;
    await sql`update members set access_level = ${AccessLevel.DEVELOPER}
              where user_id = ${exporter} and source_id = ${revoked} and source_type = 'Project'`;

    const org2 = await namespaceIdByPath(sql, 'org-2');
    const updater = await createUser(sql, `observability-bulk-${suffix}`, [
      { sourceType: 'Namespace', sourceId: org2, level: AccessLevel.MAINTAINER },
    ]);
    // The seed is shared with the other files: the links this ADD makes are taken away again in afterAll.
    internetFacing = await attributeIdByName(sql, 'org-2', 'Internet facing');
    linkedBefore = (
      await sql<{ project_id: number }[]>`
        select project_id from project_to_security_attributes where security_attribute_id = ${internetFacing}`
    ).map((r) => Number(r.project_id));
    const started = await startBulkUpdate(
      { sql, client, taskQueue: bulkQueue },
      {
        userId: updater,
        groupIds: [org2],
        projectIds: [],
        attributeIds: [internetFacing],
        mode: 'ADD',
      },
    );
    bulkWorkflowId = started.workflowId;

    worker = startWorkerProcess({
      TEMPORAL_TASK_QUEUE_EXPORT: exportQueue,
      TEMPORAL_TASK_QUEUE_BULK_UPDATE: bulkQueue,
      METRICS_PORT: String(metricsPort),
      WORKER_HEALTH_PORT: String(healthPort),
      EXPORT_CREDENTIALS_PURGE_DELAY_MS: '1000',
    });
    // Readiness as a probe sees it while the worker connects and bundles its workflows.
    let polling = false;
    void worker.ready.then(
      () => (polling = true),
      () => (polling = true),
    );
    while (!polling) {
      const status = await health('/readyz').then(
        (r) => r.status,
        () => 0, // not listening yet
      );
      if (!polling) readinessWhileStarting.push(status);
      await new Promise((r) => setTimeout(r, 100));
    }
    await worker.ready;
  }, 180_000);

  afterAll(async () => {
    if (sql && internetFacing !== undefined)
      await sql`delete from project_to_security_attributes
                where security_attribute_id = ${internetFacing} and project_id <> all(${linkedBefore}::bigint[])`;
    await worker?.stop();
    await connection?.close();
    await sql?.end({ timeout: 5 });
  });

  it('says it is not ready until its workers poll, then ready with both task queues RUNNING', async () => {
    // Not listening yet (0), then 503 while connecting and bundling, then 200 once the workers run (which may come a
    // moment before the "worker polling" line the helper waits for): never ready before starting, never back.
    const answered = readinessWhileStarting.filter((s) => s !== 0);
    expect(answered[0]).toBe(503);
    const firstReady = answered.indexOf(200);
    if (firstReady !== -1) expect(answered.slice(firstReady).every((s) => s === 200)).toBe(true);
    expect(answered.every((s) => s === 503 || s === 200)).toBe(true);
    const ready = await health('/readyz');
    expect(ready).toEqual({
      status: 200,
      body: {
        status: 'ok',
        workers: [
          { taskQueue: exportQueue, state: 'RUNNING' },
          { taskQueue: bulkQueue, state: 'RUNNING' },
        ],
      },
    });
    expect(await health('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('counts the relations, records, bytes and objects of the export on its task queue', async () => {
    const finished = await waitFor(
      async () => {
        const [row] = await sql<{ status: number }[]>`select status from import_offline_exports where id = ${exportId}`;
        return row!.status === ExportStatus.FINISHED || row!.status === ExportStatus.FAILED ? row : undefined;
      },
      120_000,
      { what: `offline export ${exportId} to finish` },
    );
    expect(finished.status).toBe(ExportStatus.FINISHED);
    const [expected] = await sql<
      { finished: number; failed: number; records: number; bytes: number; objects: number }[]
    >`
      select count(*) filter (where status = ${RelationStatus.FINISHED})::int as finished,
             count(*) filter (where status = ${RelationStatus.FAILED})::int as failed,
             coalesce(sum(total_objects_count) filter (where status = ${RelationStatus.FINISHED}), 0)::int as records,
             coalesce(sum(bytes) filter (where status = ${RelationStatus.FINISHED}), 0)::bigint as bytes,
             coalesce(sum(case when batched then batches_count else 1 end)
                      filter (where status = ${RelationStatus.FINISHED}), 0)::int as objects
      from bulk_import_exports where offline_export_id = ${exportId}`;
    // The revoked project's 'self' relation failed; the other project's relations wrote records and objects.
    expect(expected!.failed).toBe(1);
    expect(expected!.finished).toBeGreaterThan(5);
    expect(expected!.records).toBeGreaterThan(0);
    expect(expected!.bytes).toBeGreaterThan(0);

    const text = await metrics();
    expect({
      relationsExported: total(text, BUSINESS_METRICS.relationsExported.name, exportQueue),
      relationsFailed: total(text, BUSINESS_METRICS.relationsFailed.name, exportQueue),
      records: total(text, BUSINESS_METRICS.records.name, exportQueue),
      bytes: total(text, BUSINESS_METRICS.bytes.name, exportQueue),
      objects: total(text, BUSINESS_METRICS.objects.name, exportQueue),
    }).toEqual({
      relationsExported: expected!.finished,
      relationsFailed: expected!.failed,
      records: expected!.records,
      bytes: expected!.bytes,
      objects: expected!.objects,
    });
    // Labelled like the SDK's own series, by the activity that reported them; the SDK's metrics share the endpoint.
    expect(samples(text, BUSINESS_METRICS.relationsExported.name)).toContainEqual({
      labels: expect.objectContaining({
        task_queue: exportQueue,
        namespace: config.TEMPORAL_NAMESPACE,
        activity_type: 'exportPortableChunk',
      }),
      value: expected!.finished,
    });
    expect(text).toMatch(new RegExp(`^temporal_\\w+\\{[^}]*task_queue="${exportQueue}"`, 'm'));
    expect(text).toContain(`# HELP ${BUSINESS_METRICS.bytes.name} ${BUSINESS_METRICS.bytes.description}`);
  });

  it('counts the projects the bulk update succeeded and failed on, on its own task queue', async () => {
    const result = await client.workflow.getHandle<typeof BulkUpdateWorkflow>(bulkWorkflowId).result();
    const org2Projects = await projectsUnder(sql, await namespaceIdByPath(sql, 'org-2'));
    expect(result.totalItems).toBe(org2Projects.length);
    expect(result.successfulItems).toBeGreaterThan(0);
    expect(result.failedItems).toBeGreaterThan(0);
    expect(result.successfulItems + result.failedItems).toBe(result.totalItems);

    const text = await metrics();
    expect(total(text, BUSINESS_METRICS.projectsUpdated.name, bulkQueue)).toBe(result.successfulItems);
    expect(total(text, BUSINESS_METRICS.projectsFailed.name, bulkQueue)).toBe(result.failedItems);
    // Each run's counters carry its own task queue only.
    expect(total(text, BUSINESS_METRICS.projectsUpdated.name, exportQueue)).toBe(0);
    expect(total(text, BUSINESS_METRICS.relationsExported.name, bulkQueue)).toBe(0);
  });

  it('logs JSON lines with the health endpoint, and turns not ready as it stops', async () => {
    const lines = worker
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        msg: 'health endpoint listening',
        port: healthPort,
        component: 'worker',
      }),
    );
    const stopped = worker.stop();
    // From SIGTERM on, a probe sees 503 (workers stopping) or nothing (the process is gone): never ready again.
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      seen.push(
        await health('/readyz').then(
          (r) => r.status,
          () => 0,
        ),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    await stopped;
    expect(seen.slice(5).every((s) => s === 503 || s === 0)).toBe(true);
    expect(worker.child.exitCode).toBe(0);
  });
});
