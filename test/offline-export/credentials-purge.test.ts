import { Client, Connection } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import {
  OFFLINE_EXPORT_WORKFLOW,
  SA_PORTABLE_FULL_PATHS,
  SA_WORKFLOW_KIND,
  WORKFLOW_KIND_CHUNK,
  WORKFLOW_KIND_CREDENTIALS_PURGE,
  credentialsPurgeWorkflowId,
  offlineExportChunkStatusQuery,
  offlineExportWorkflowId,
  type CredentialsPurgeResult,
  type OfflineExportResult,
} from '../../contracts/offline-export';
import { createSql, type Sql } from '../../db/sql';
import { TEMPORAL_CLI } from '../helpers/cli';
import { waitFor } from '../helpers/wait';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';
import { insertExport } from './fixture';

// Runs end when the work ends: an export's workflow completes when the export is finished, and the credential purge
// is a workflow of its own (OfflineExportCredentialsPurgeWorkflow) that waits the purge delay on a server-side timer,
// across worker restarts. Its chunk children are found by the full path of any portable they exported.

const run = promisify(execFile);

async function purgeState(sql: Sql, exportId: number): Promise<{ purged: boolean; afterEmailMs: number | null }> {
  const [row] = await sql<{ purged: boolean; afterEmailMs: number | null }[]>`
    select c.object_storage_credentials = '{}'::jsonb and c.credentials_purged_at is not null as purged,
           (extract(epoch from c.credentials_purged_at - e.notified_at) * 1000)::float8 as "afterEmailMs"
    from import_offline_configurations c join import_offline_exports e on e.id = c.offline_export_id
    where c.offline_export_id = ${exportId}`;
  return row!;
}

describe('the credential purge is a workflow of its own; chunk children are found by portable path', () => {
  const config = loadConfig();
  // A task queue per test, so no worker of one test can do the other's work.
  let taskQueue = '';
  const workerEnv = (purgeDelayMs: number) => ({
    DATABASE_URL: config.DATABASE_URL,
    TEMPORAL_TASK_QUEUE_EXPORT: taskQueue,
    TEMPORAL_TASK_QUEUE_BULK_UPDATE: `${taskQueue}-bulk`,
    EXPORT_CREDENTIALS_PURGE_DELAY_MS: String(purgeDelayMs),
  });
  let sql: Sql;
  let connection: Connection;
  let client: Client;
  const workers: WorkerProcess[] = [];
  beforeEach(() => {
    taskQueue = `test-credentials-purge-${randomUUID().slice(0, 8)}`;
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });
  beforeAll(async () => {
    sql = createSql(config.DATABASE_URL, { max: 2 });
    connection = await Connection.connect(temporalConnectionOptions(config));
    client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  });
  afterAll(async () => {
    await connection?.close();
    await sql?.end({ timeout: 5 });
  });

  async function startWorker(purgeDelayMs: number): Promise<WorkerProcess> {
    const worker = startWorkerProcess(workerEnv(purgeDelayMs));
    workers.push(worker);
    await worker.ready;
    return worker;
  }

  async function exportOf(paths: string[]): Promise<{ exportId: number; result: OfflineExportResult }> {
    const { exportId } = await insertExport(sql, config, 2, paths);
    const handle = await client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
      workflowId: offlineExportWorkflowId(exportId),
      taskQueue,
      args: [{ exportId }],
    });
    return { exportId, result: (await handle.result()) as OfflineExportResult };
  }

  it('the export workflow is Completed when the export is finished; the purge workflow fires after the delay', async () => {
    const worker = await startWorker(4_000);
    const { exportId, result } = await exportOf(['flightjs']);
    const description = await client.workflow.getHandle(offlineExportWorkflowId(exportId)).describe();
    const purgeAtCompletion = await purgeState(sql, exportId);

    expect(result).toMatchObject({ exportId, status: 'finished' });
    expect(description.status.name).toBe('COMPLETED');
    // The credentials are still there: the purge is the other workflow's, waiting its delay.
    expect(purgeAtCompletion.purged).toBe(false);
    const purge = client.workflow.getHandle(credentialsPurgeWorkflowId(exportId));
    const waiting = await purge.describe();
    expect(waiting.status.name).toBe('RUNNING');
    expect(waiting.type).toBe('OfflineExportCredentialsPurgeWorkflow');
    expect(waiting.parentExecution?.workflowId).toBe(offlineExportWorkflowId(exportId));
    expect(waiting.typedSearchAttributes.get(SA_WORKFLOW_KIND)).toBe(WORKFLOW_KIND_CREDENTIALS_PURGE);

    expect((await purge.result()) as CredentialsPurgeResult).toEqual({ exportId, purged: true });
    const after = await purgeState(sql, exportId);
    expect(after.purged).toBe(true);
    expect(after.afterEmailMs).toBeGreaterThanOrEqual(4_000);
    expect((await purge.describe()).status.name).toBe('COMPLETED');

    // --- the chunk child: found by a portable's full path, from the client and from the Temporal CLI ---
    const query = `PortableFullPaths = "flightjs/Flight" AND OfflineExportId = ${exportId}`;
    const found: string[] = [];
    for await (const w of client.workflow.list({ query })) found.push(w.workflowId);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${offlineExportWorkflowId(exportId)}/portables:\\d+-\\d+$`));
    const { stdout } = await run(TEMPORAL_CLI, [
      'workflow',
      'list',
      '--query',
      query,
      '--output',
      'json',
      '--address',
      config.TEMPORAL_ADDRESS,
      '--namespace',
      config.TEMPORAL_NAMESPACE,
    ]);
    expect(stdout).toContain(found[0]);

    const chunk = client.workflow.getHandle(found[0]!);
    const chunkDescription = await chunk.describe();
    expect(chunkDescription.typedSearchAttributes.get(SA_WORKFLOW_KIND)).toBe(WORKFLOW_KIND_CHUNK);
    const paths = chunkDescription.typedSearchAttributes.get(SA_PORTABLE_FULL_PATHS);
    expect(paths).toContain('flightjs/Flight');

    // --- its query: each portable's type, id, path, status and relations, from its rows ---
    const status = await chunk.query(offlineExportChunkStatusQuery);
    expect(status).toMatchObject({ exportId, phase: 'done', pathsIndexed: paths!.length });
    expect(status.portables.map((p) => p.fullPath).sort()).toEqual([...paths!].sort());
    const rows = await sql<{ type: string; id: number; finished: number; failed: number; total: number }[]>`
      select case when group_id is not null then 'group' else 'project' end as type, coalesce(group_id, project_id) as id,
             count(*) filter (where status = 1)::int as finished, count(*) filter (where status = -1)::int as failed,
             count(*)::int as total
      from bulk_import_exports where offline_export_id = ${exportId} group by 1, 2`;
    for (const p of status.portables) {
      const row = rows.find((r) => r.type === p.portableType && r.id === p.portableId);
      expect([p.fullPath, p.relations]).toEqual([
        p.fullPath,
        { total: row!.total, finished: row!.finished, failed: row!.failed },
      ]);
      expect([p.fullPath, p.status]).toEqual([p.fullPath, row!.finished > 0 ? 'finished' : 'failed']);
    }

    // Every portable of the export is in exactly one chunk's PortableFullPaths.
    const indexed: string[] = [];
    for await (const w of client.workflow.list({
      query: `OfflineExportId = ${exportId} AND WorkflowKind = "${WORKFLOW_KIND_CHUNK}"`,
    })) {
      const d = await client.workflow.getHandle(w.workflowId).describe();
      indexed.push(...(d.typedSearchAttributes.get(SA_PORTABLE_FULL_PATHS) ?? []));
    }
    const exported = await sql<{ path: string }[]>`
      select r.path from bulk_import_exports e
      join routes r on r.source_id = coalesce(e.group_id, e.project_id)
        and r.source_type = case when e.group_id is not null then 'Namespace' else 'Project' end
      where e.offline_export_id = ${exportId} and e.relation = 'self'`;
    expect(indexed.sort()).toEqual(exported.map((r) => r.path).sort());
    expect(indexed).toContain('flightjs');
    await worker.stop();
  }, 300_000);

  it('the purge survives a worker restart: the worker stops before the delay, another one purges', async () => {
    const delayMs = 6_000;
    const first = await startWorker(delayMs);
    const { exportId, result } = await exportOf(['flightjs/Flight']);
    expect(result.status).toBe('finished');
    const purge = client.workflow.getHandle(credentialsPurgeWorkflowId(exportId));
    expect((await purge.describe()).status.name).toBe('RUNNING');
    await first.stop();

    // Past the delay with no worker: the timer fired on the server, nothing could purge.
    await new Promise((r) => setTimeout(r, delayMs + 1_000));
    expect((await purgeState(sql, exportId)).purged).toBe(false);
    expect((await purge.describe()).status.name).toBe('RUNNING');

    const second = await startWorker(delayMs);
    expect((await purge.result()) as CredentialsPurgeResult).toEqual({ exportId, purged: true });
    expect((await purgeState(sql, exportId)).purged).toBe(true);
    // The purge ran once: the first run of its workflow, one timer and one purge activity in its history.
    const events = (await purge.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(1);
    expect(
      events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'purgeExportCredentials'),
    ).toHaveLength(1);
    await second.stop();
    await waitFor(async () => ((await purge.describe()).status.name === 'COMPLETED' ? true : undefined), 10_000);
  }, 300_000);
});
