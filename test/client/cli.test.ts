import { runCli } from '../helpers/cli';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { attributeIdByName, projectIdByPath } from '../../db/seed/lookups';

// The command-line client's direct mode (administrators: --user acts on PostgreSQL and Temporal without the API)
// against the real stack; a worker started by the test serves the CLI's task queues. API mode: cli-api.test.ts.
describe('command-line client, direct mode', () => {
  let tw: TestWorker;
  let env: Record<string, string>;
  let projectId: number;
  let attributeId: number;
  beforeAll(async () => {
    tw = await startTestWorker('cli');
    env = { TEMPORAL_TASK_QUEUE_EXPORT: tw.taskQueue, TEMPORAL_TASK_QUEUE_BULK_UPDATE: tw.taskQueue };
    projectId = await projectIdByPath(tw.deps.sql, 'flightjs/Flight');
    attributeId = await attributeIdByName(tw.deps.sql, 'flightjs', 'Search');
  });
  afterAll(async () => tw?.close());

  it('explains itself and its exit codes', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/export/);
    expect(help.stdout).toMatch(/bulk-update/);
    expect(help.stdout).toMatch(/Exit codes: 0 done, 1 failed \(or finished with failures\), 2 bad arguments/);
    expect(help.stdout).toMatch(/GITLAB_TEMPORAL_TOKEN/);
  });

  it('runs a bulk update to the end and reports it as JSON', async () => {
    const result = await tw.run(() =>
      runCli(
        [
          'bulk-update',
          'start',
          '--user',
          'alice',
          '--project',
          String(projectId),
          '--attribute',
          String(attributeId),
          '--mode',
          'ADD',
          '--wait',
          '--json',
        ],
        env,
      ),
    );
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    // The API's snake_case, as in API mode.
    const out = JSON.parse(result.stdout) as { id: string };
    expect(out).toMatchObject({
      status: 'finished',
      total_items: 1,
      successful_items: 1,
      failed_items: 0,
      failures: [],
    });

    const status = await runCli(['bulk-update', 'status', out.id, '--direct', '--user', 'alice', '-o', 'json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: out.id, status: 'finished' });
    const failures = await runCli(['bulk-update', 'failures', out.id, '--user', 'alice', '--json'], env);
    expect({ code: failures.code, out: JSON.parse(failures.stdout) as unknown }).toEqual({ code: 0, out: [] });
    // Someone else's operation does not exist for them.
    expect((await runCli(['bulk-update', 'status', out.id, '--user', 'bob'], env)).code).toBe(3);
    // --direct names the user it acts as.
    const noUser = await runCli(['bulk-update', 'status', out.id, '--direct'], env);
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toMatch(/--direct needs --user/);
  });

  it('runs an export to the end, then shows and lists it', async () => {
    const result = await tw.run(() =>
      runCli(
        ['export', 'start', '--user', 'alice', '--dev-bucket', '--entity', 'flightjs/Flight', '--wait', '--json'],
        env,
      ),
    );
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    // Without a terminal the progress is written as plain lines on stderr.
    expect(result.stderr).toMatch(/groups and projects/);
    const out = JSON.parse(result.stdout) as { id: number; status: string; web_ui: string };
    expect(out).toMatchObject({ status: 'finished' });
    expect(out.web_ui).toContain(`offline-export%3A${out.id}`);

    const status = await runCli(['export', 'status', String(out.id), '--user', 'alice', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: out.id, status: 'finished' });
    const list = await runCli(['export', 'list', '--user', 'alice', '--json'], env);
    expect((JSON.parse(list.stdout) as { id: number }[]).map((e) => e.id)).toContain(out.id);
  });

  it('cancels a running export', async () => {
    const started = await runCli(
      ['export', 'start', '--user', 'alice', '--dev-bucket', '--entity', 'gitlab-org', '--json'],
      env,
    );
    // (stderr may carry the AWS SDK's Node-version warning on Node 20.)
    expect(started.stderr).not.toMatch(/error/i);
    expect(started.code).toBe(0);
    const { id } = JSON.parse(started.stdout) as { id: number };
    const final = await tw.run(async () => {
      // Accepted is exit 0; 4 is for a run that ended cancelled.
      const cancel = await runCli(['export', 'cancel', String(id), '--user', 'alice'], env);
      expect(cancel).toMatchObject({ code: 0, stdout: `cancellation requested for export ${id}\n` });
      return runCli(['export', 'status', String(id), '--user', 'alice', '--watch', '--json'], env);
    });
    expect(JSON.parse(final.stdout)).toMatchObject({ id, status: 'failed' });
    expect(final.code).toBe(1);
    // A cancel of an export that has ended is refused.
    expect((await runCli(['export', 'cancel', String(id), '--user', 'alice'], env)).code).toBe(2);
  });

  it('rejects bad requests with exit code 2 and a message, and unknown users with 3', async () => {
    const badMode = await runCli(
      [
        'bulk-update',
        'start',
        '--user',
        'alice',
        '--project',
        '1',
        '--attribute',
        String(attributeId),
        '--mode',
        'MERGE',
      ],
      env,
    );
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toMatch(/mode must be one of ADD, REMOVE, REPLACE/);
    const noEntities = await runCli(['export', 'start', '--user', 'alice', '--dev-bucket'], env);
    expect(noEntities.code).toBe(2);
    expect(noEntities.stderr).toMatch(/Entity full paths must be provided/);
    expect((await runCli(['export', 'list', '--user', 'nobody-here'], env)).code).toBe(3);
  });
});
