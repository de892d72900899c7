import { parse } from 'csv-parse/sync';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedToken } from '../../db/seed/generate';
import { attributeIdByName, namespaceIdByPath, projectIdByPath } from '../../db/seed/lookups';
import { projectsUnder } from '../bulk-update/support/instance';
import { offlineExportWorkflowId } from '../../contracts/offline-export';
import { startTestApi, type TestApi } from '../helpers/api';
import { runCli, type CliResult } from '../helpers/cli';
import { startTestWorker, type TestWorker } from '../helpers/worker';

const RELATION_STATUS: Record<number, string> = { [-2]: 'pending', 0: 'started', 1: 'finished', [-1]: 'failed' };

// The command-line client in its default mode: the real API in this process, a real worker, and the CLI as a child
// process with a token and no database or Temporal settings that work, as a user with only a token runs it.
describe('command-line client over the API', () => {
  let tw: TestWorker;
  let api: TestApi;
  let env: Record<string, string>;
  let projectId: number;
  let attributeId: number;
  const dir = mkdtempSync(join(tmpdir(), 'cli-api-'));
  const startedWorkflows: string[] = [];

  beforeAll(async () => {
    tw = await startTestWorker('cli-api');
    api = await startTestApi({ export: tw.taskQueue, bulkUpdate: tw.taskQueue });
    // Rate-limit windows outlive a test run (6 export starts a minute per user): start with fresh ones.
    const keys = await api.deps.redis.keys('api_rate_limit:*offline_exports*');
    if (keys.length > 0) await api.deps.redis.del(...keys);
    env = {
      GITLAB_TEMPORAL_URL: api.url,
      GITLAB_TEMPORAL_TOKEN: seedToken('alice'),
      // Settings the direct mode would need, pointing nowhere: API mode must not touch them.
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nothing',
      REDIS_URL: 'redis://127.0.0.1:1/0',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    };
    projectId = await projectIdByPath(tw.deps.sql, 'flightjs/Flight');
    attributeId = await attributeIdByName(tw.deps.sql, 'flightjs', 'Search');
  });
  afterAll(async () => {
    for (const id of startedWorkflows)
      await tw?.client.workflow
        .getHandle(id)
        .terminate('test cleanup')
        .catch(() => undefined);
    await api?.close();
    await tw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...env, ...extra });
  const json = <T>(r: CliResult): T => JSON.parse(r.stdout) as T;
  const noCamelCase = (text: string) => expect(text).not.toMatch(/"[a-z]+[A-Z][A-Za-z]*":/);

  it('tells its version, and refuses to run without a token or with a bad one', async () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });

    const none = await cli(['export', 'list'], { GITLAB_TEMPORAL_TOKEN: '' });
    expect(none.code).toBe(77);
    expect(none.stderr).toMatch(/no token: set GITLAB_TEMPORAL_TOKEN/);
    const bad = await cli(['bulk-update', 'list'], { GITLAB_TEMPORAL_TOKEN: 'glpat-not-a-token' });
    expect(bad.code).toBe(77);
    expect(bad.stderr).toMatch(/401 Unauthorized/);
    // --url and --token win over the environment; nothing listening is exit code 5.
    const down = await cli(['export', 'list', '--url', 'http://127.0.0.1:59999', '--token', seedToken('alice')]);
    expect(down.code).toBe(5);
    expect(down.stderr).toMatch(/cannot reach the API at http:\/\/127\.0\.0\.1:59999: ECONNREFUSED/);
    expect((await cli(['export', 'list', '--url', 'ftp://x'])).code).toBe(78);
    expect((await cli(['export', 'list', '--output', 'yaml'])).code).toBe(2);
  });

  it('cancels: exit 0 once accepted, 4 (bulk update) or 1 (export, which ends failed) for the run that ends so', async () => {
    // The worker is not polling yet: both runs are still queued when their cancel is asked for.
    const exportStart = await cli(['export', 'start', '--dev-bucket', '--entity', 'gitlab-org', '-o', 'json']);
    expect(exportStart.stderr).not.toMatch(/error/i);
    expect(exportStart.code).toBe(0);
    const exportId = json<{ id: number }>(exportStart).id;
    startedWorkflows.push(offlineExportWorkflowId(exportId));
    const exportCancel = await cli(['export', 'cancel', String(exportId)]);
    expect(exportCancel).toMatchObject({ code: 0, stdout: `cancellation requested for export ${exportId}\n` });

    const bulkStart = await cli([
      'bulk-update',
      'start',
      '--project',
      String(projectId),
      '--attribute',
      String(attributeId),
      '--mode',
      'ADD',
      '--json',
    ]);
    expect(bulkStart.code).toBe(0);
    // Without --wait: the start's answer, as the API gives it.
    const started = json<{ operation_id: string; workflow_id: string; message: string }>(bulkStart);
    expect(started.message).toBe('Bulk update operation initiated');
    const operation = { id: started.operation_id, workflow_id: started.workflow_id };
    startedWorkflows.push(operation.workflow_id);
    expect(await cli(['bulk-update', 'cancel', operation.id])).toMatchObject({
      code: 0,
      stdout: `cancellation requested for ${operation.id}\n`,
    });

    const [exportEnd, bulkEnd] = await tw.run(() =>
      Promise.all([
        cli(['export', 'status', String(exportId), '--watch', '--json']),
        cli(['bulk-update', 'status', operation.id, '--watch', '--json']),
      ]),
    );
    expect({ code: exportEnd.code, status: json<{ status: string }>(exportEnd).status }).toEqual({
      code: 1,
      status: 'failed',
    });
    expect({ code: bulkEnd.code, status: json<{ status: string }>(bulkEnd).status }).toEqual({
      code: 4,
      status: 'canceled',
    });
    // A run that has ended cannot be cancelled: the API's 409 is exit code 2.
    const again = await cli(['export', 'cancel', String(exportId)]);
    expect(again.code).toBe(2);
    expect((await cli(['bulk-update', 'cancel', operation.id])).code).toBe(2);
    // Someone else's export does not exist for them.
    expect((await cli(['export', 'cancel', String(exportId)], { GITLAB_TEMPORAL_TOKEN: seedToken('bob') })).code).toBe(
      3,
    );
  }, 300_000);

  it('runs a bulk update to the end, then shows, lists and reports its failures in snake_case', async () => {
    const run = await tw.run(() =>
      cli([
        'bulk-update',
        'start',
        '--project',
        String(projectId),
        '--attribute',
        String(attributeId),
        '--mode',
        'ADD',
        '--wait',
        '-o',
        'json',
      ]),
    );
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    noCamelCase(run.stdout);
    const out = json<{ id: string }>(run);
    expect(out).toMatchObject({ status: 'finished', total_items: 1, successful_items: 1, failed_items: 0 });
    // The progress goes to stderr as plain lines without a terminal.
    expect(run.stderr).toMatch(/projects/);

    const status = await cli(['bulk-update', 'status', out.id, '--json']);
    expect(status.code).toBe(0);
    expect(json(status)).toMatchObject({ id: out.id, status: 'finished', operation_type: expect.any(String) });
    const list = await cli(['bulk-update', 'list', '--json', '--limit', '5']);
    expect(list.code).toBe(0);
    noCamelCase(list.stdout);
    expect(json<{ id: string }[]>(list).map((o) => o.id)).toContain(out.id);
    const text = await cli(['bulk-update', 'list']);
    expect(text.stdout).toMatch(new RegExp(`^ID\\s+STATUS[\\s\\S]*${out.id}\\s+finished`, 'm'));
    const failures = await cli(['bulk-update', 'failures', out.id]);
    expect(failures).toMatchObject({ code: 0, stdout: 'no failed projects\n' });
    expect((await cli(['bulk-update', 'status', out.id], { GITLAB_TEMPORAL_TOKEN: seedToken('bob') })).code).toBe(3);
  });

  it('exits 1 for a bulk update that finished with failed projects, and lists them', async () => {
    const { sql } = api.deps;
    // Two attributes of the single-selection Exposure category at once: the project refuses them.
    const internetFacing = await attributeIdByName(sql, 'gitlab-org', 'Internet facing');
    const internal = await attributeIdByName(sql, 'gitlab-org', 'Internal');
    const [gitlabProject] = await projectsUnder(sql, await namespaceIdByPath(sql, 'gitlab-org'));
    const [{ path } = { path: '' }] = await sql<{ path: string }[]>`
      select path from routes where source_type = 'Project' and source_id = ${gitlabProject!}`;
    const run = await tw.run(() =>
      cli([
        'bulk-update',
        'start',
        '--project',
        String(gitlabProject),
        '--attribute',
        `${internetFacing},${internal}`,
        '--mode',
        'ADD',
        '--wait',
        '--json',
      ]),
    );
    expect(run.code).toBe(1);
    const out = json<{ id: string }>(run);
    expect(out).toMatchObject({ status: 'finished', failed_items: 1 });
    const failures = await cli(['bulk-update', 'failures', out.id, '--json']);
    expect(failures.code).toBe(0);
    expect(json(failures)).toEqual([
      expect.objectContaining({
        entity_type: 'Project',
        entity_id: gitlabProject,
        error_message: 'Invalid attributes',
        error_code: 'service_error',
      }),
    ]);
    const table = await cli(['bulk-update', 'failures', out.id]);
    expect(table.stdout).toMatch(
      new RegExp(`^PROJECT.*\\n${gitlabProject}\\s+${path}\\s+service_error\\s+Invalid attributes`, 'm'),
    );
  });

  it('runs an export to the end, then shows, lists and logs it', async () => {
    const run = await tw.run(() =>
      cli(['export', 'start', '--dev-bucket', '--entity', 'flightjs/Flight', '--wait', '--json']),
    );
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/\d+\/\d+ relations/);
    noCamelCase(run.stdout);
    const out = json<{ id: number }>(run);
    expect(out).toMatchObject({ status: 'finished', has_failures: false });
    startedWorkflows.push(offlineExportWorkflowId(out.id));

    expect(json(await cli(['export', 'status', String(out.id), '-o', 'json']))).toMatchObject({
      id: out.id,
      status: 'finished',
    });
    const list = await cli(['export', 'list', '--json', '--status', 'finished']);
    expect(json<{ id: number }[]>(list).map((e) => e.id)).toContain(out.id);
    expect(await cli(['export', 'failures', String(out.id)])).toMatchObject({
      code: 0,
      stdout: 'no failed relations\n',
    });

    const file = join(dir, `export-${out.id}.csv`);
    const log = await cli(['export', 'log', String(out.id), '--out', file]);
    expect(log.code).toBe(0);
    expect(existsSync(`${file}.partial`)).toBe(false);
    const rows = parse<Record<string, string>>(readFileSync(file, 'utf8'), { columns: true });
    const expected = await api.deps.sql<Record<string, string>[]>`
      select r.path as portable_full_path, case when e.project_id is null then 'group' else 'project' end as portable_type,
             e.relation, e.status, e.total_objects_count::text, e.batches_count::text, e.batched::text,
             coalesce(e.error, '') as error
      from bulk_import_exports e
      join routes r on (e.project_id is not null and r.source_type = 'Project' and r.source_id = e.project_id)
                    or (e.group_id is not null and r.source_type = 'Namespace' and r.source_id = e.group_id)
      where e.offline_export_id = ${out.id}
      order by r.path, e.relation`;
    expect(expected.length).toBeGreaterThan(20);
    expect(rows.map(({ updated_at: _u, ...rest }) => rest)).toEqual(
      expected.map((e) => ({ ...e, status: RELATION_STATUS[Number(e.status)] })),
    );
    expect(rows.every((r) => !Number.isNaN(Date.parse(r.updated_at ?? '')))).toBe(true);
  });

  it('exits 1 for an export that finished with failures, lists them and logs their errors CSV-escaped', async () => {
    const { sql } = api.deps;
    const [repository] = await sql<{ disk_path: string }[]>`
      select disk_path from project_repositories where project_id = ${projectId}`;
    try {
      // A repository path that climbs out of storage: the repository relations fail, the rest of the export runs.
      await sql`update project_repositories set disk_path = '../outside, "quoted"' where project_id = ${projectId}`;
      const run = await tw.run(() =>
        cli(['export', 'start', '--dev-bucket', '--entity', 'flightjs/Flight', '--wait', '--json']),
      );
      expect(run.code).toBe(1);
      const out = json<{ id: number }>(run);
      startedWorkflows.push(offlineExportWorkflowId(out.id));
      expect(out).toMatchObject({ status: 'finished', has_failures: true });

      const failed = await sql<{ relation: string; error: string }[]>`
        select relation, error from bulk_import_exports
        where offline_export_id = ${out.id} and status = -1 order by relation`;
      expect(failed.length).toBeGreaterThan(0);
      const failures = await cli(['export', 'failures', String(out.id), '--json']);
      expect(failures.code).toBe(0);
      expect(json<{ portable_full_path: string; relation: string; error: string; status: string }[]>(failures)).toEqual(
        failed.map((f): unknown =>
          expect.objectContaining({
            portable_full_path: 'flightjs/Flight',
            relation: f.relation,
            error: f.error,
            status: 'failed',
          }),
        ),
      );
      const table = await cli(['export', 'failures', String(out.id)]);
      expect(table.stdout.split('\n')[0]).toMatch(/^PORTABLE\s+TYPE\s+RELATION\s+ERROR$/);
      expect(table.stdout).toContain(`flightjs/Flight  project  ${failed[0]!.relation}`);

      // The errors hold commas and quotes: the CSV must give them back exactly.
      const csv = await cli(['export', 'log', String(out.id)]);
      const rows = parse<Record<string, string>>(csv.stdout, { columns: true });
      expect(rows.filter((r) => r.status === 'failed').map((r) => [r.relation, r.error])).toEqual(
        failed.map((f) => [f.relation, f.error]),
      );
      expect(failed.some((f) => f.error.includes('"'))).toBe(true);
    } finally {
      await sql`update project_repositories set disk_path = ${repository!.disk_path} where project_id = ${projectId}`;
    }
  });

  it('maps refusals to exit codes: 2 for a refused request, 3 for not found', async () => {
    const badMode = await cli([
      'bulk-update',
      'start',
      '--project',
      String(projectId),
      '--attribute',
      String(attributeId),
      '--mode',
      'MERGE',
    ]);
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toMatch(/mode must be one of ADD, REMOVE, REPLACE/);
    const noEntities = await cli(['export', 'start', '--dev-bucket']);
    expect(noEntities.code).toBe(2);
    expect(noEntities.stderr).toMatch(/Entity full paths must be provided/);
    expect((await cli(['export', 'status', '999999999'])).code).toBe(3);
    expect((await cli(['export', 'log', '999999999'])).code).toBe(3);
    expect((await cli(['bulk-update', 'failures', 'attribute_update_2_1712345678_a1b2c3d4'])).code).toBe(3);
    expect((await cli(['export', 'status', 'abc'])).code).toBe(2);
  }, 300_000);
});
