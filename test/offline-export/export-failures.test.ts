import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { createOfflineExport } from '../../client/offline-export/create-service';
import {
  ALL_FAILED_ERROR,
  ExportErrorType,
  OFFLINE_EXPORT_WORKFLOW,
  PORTABLE_RELATIONS,
  credentialsPurgeWorkflowId,
  offlineExportWorkflowId,
  type OfflineExportResult,
} from '../../contracts/offline-export';
import { RelationStatus } from '../../db/offline-export/statuses';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { getObject } from './fixture';
import { mailForExport } from '../helpers/mail';
import { createStackS3Client } from '../../worker/deps';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';

interface Member {
  id: number;
  email: string;
}

const PURGE_DELAY_MS = 1_000;

describe('OfflineExportWorkflow when portables or the input are refused', () => {
  let tw: TestWorker;
  let s3: S3Client;
  let running: Promise<void>;
  beforeAll(async () => {
    tw = await startTestWorker('export-failures', { EXPORT_CREDENTIALS_PURGE_DELAY_MS: PURGE_DELAY_MS });
    s3 = createStackS3Client(tw.config);
    // One worker for the whole file (a Worker runs once); every test waits on its own workflow.
    running = tw.worker.run();
  });
  afterAll(async () => {
    tw?.worker.shutdown();
    await running;
    s3?.destroy();
    await tw?.close();
  });

  /** A user of its own who maintains exactly the given projects (direct project memberships). */
  async function maintainerOf(projectIds: number[]): Promise<Member> {
    const name = `exporter-${randomUUID().slice(0, 8)}`;
    const [user] = await tw.deps.sql<Member[]>`
      insert into users (username, name, email) values (${name}, ${name}, ${`${name}@example.test`}) returning id, email`;
    for (const projectId of projectIds) {
      await tw.deps
        .sql`insert into members (user_id, source_id, source_type, access_level) values (${user!.id}, ${projectId}, 'Project', 40)`;
    }
    return user!;
  }

  /** How long after the email was recorded the credentials were purged (null: not both happened). */
  async function purgedAfterEmailMs(exportId: number): Promise<number | null> {
    const [row] = await tw.deps.sql<{ ms: number | null }[]>`
      select (extract(epoch from c.credentials_purged_at - e.notified_at) * 1000)::float8 as ms
      from import_offline_exports e join import_offline_configurations c on c.offline_export_id = e.id
      where e.id = ${exportId}`;
    return row!.ms;
  }

  const pathOf = async (projectId: number) =>
    (
      await tw.deps.sql<
        { path: string }[]
      >`select path from routes where source_type = 'Project' and source_id = ${projectId}`
    )[0]!.path;

  /** Through the other engineer's CreateService, as the API does: the workflow starts once the rows exist. */
  async function create(user: Member, paths: string[]) {
    const { config } = tw;
    const created = await createOfflineExport(
      { sql: tw.deps.sql, temporal: tw.client, config, taskQueue: tw.taskQueue },
      user,
      devBucketExportBody(config, paths),
    );
    const [row] = await tw.deps.sql<{ export_prefix: string }[]>`
      select export_prefix from import_offline_configurations where offline_export_id = ${created.export.id}`;
    return { exportId: created.export.id, exportPrefix: row!.export_prefix, workflowId: created.workflowId };
  }

  it('fails the self row of a project the user can no longer administer and finishes the rest, with has_failures', async () => {
    const [kept, revoked] = [11, 12];
    const user = await maintainerOf([kept, revoked]);
    const { exportId, exportPrefix, workflowId } = await create(user, [await pathOf(kept), await pathOf(revoked)]);
    // Demoted to Developer after the export was accepted, before the workflow gets to it.
    await tw.deps
      .sql`update members set access_level = 30 where user_id = ${user.id} and source_id = ${revoked} and source_type = 'Project'`;

    const result = await (tw.client.workflow.getHandle(workflowId).result() as Promise<OfflineExportResult>);
    expect(result).toMatchObject({ status: 'finished', hasFailures: true });

    const rows = await tw.deps.sql<{ project_id: number; relation: string; status: number; error: string | null }[]>`
      select project_id, relation, status, error from bulk_import_exports where offline_export_id = ${exportId} order by id`;
    expect(rows.filter((r) => r.project_id === revoked)).toEqual([
      {
        project_id: revoked,
        relation: 'self',
        status: RelationStatus.FAILED,
        error: `User with ID: ${user.id} does not have required permissions for Project: Project ${revoked} with ID: ${revoked}`,
      },
    ]);
    const keptRows = rows.filter((r) => r.project_id === kept);
    expect(keptRows.map((r) => r.relation).sort()).toEqual([...PORTABLE_RELATIONS.project].sort());
    expect(keptRows.every((r) => r.status === RelationStatus.FINISHED)).toBe(true);

    const [exp] = await tw.deps.sql<{ status: number; has_failures: boolean }[]>`
      select status, has_failures from import_offline_exports where id = ${exportId}`;
    expect(exp).toEqual({ status: 2, has_failures: true });
    const metadata = JSON.parse(
      gunzipSync(await getObject(s3, tw.config.S3_BUCKET, `${exportPrefix}/metadata.json.gz`)).toString(),
    ) as {
      entities_mapping: Record<string, string>;
    };
    expect(metadata.entities_mapping).toEqual({ [await pathOf(kept)]: `project_${kept}` });
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: tw.config.S3_BUCKET, Prefix: `${exportPrefix}/project_${revoked}/` }),
    );
    expect(listed.KeyCount ?? 0).toBe(0);
    const mails = await mailForExport(tw.config, user.email, exportPrefix);
    expect(mails.map((m) => m.subject)).toEqual(['Offline export complete']);
    // A finished export keeps its credentials for the purge delay after the email, then its purge workflow purges.
    await tw.client.workflow.getHandle(credentialsPurgeWorkflowId(exportId)).result();
    expect(await purgedAfterEmailMs(exportId)).toBeGreaterThanOrEqual(PURGE_DELAY_MS);
  });

  it('fails the export when every relation export failed, and says so by email', async () => {
    const project = 13;
    const user = await maintainerOf([project]);
    const { exportId, exportPrefix, workflowId } = await create(user, [await pathOf(project)]);
    await tw.deps.sql`delete from members where user_id = ${user.id}`;

    const result = await (tw.client.workflow.getHandle(workflowId).result() as Promise<OfflineExportResult>);
    expect(result).toMatchObject({ status: 'failed', hasFailures: true });
    const [exp] = await tw.deps.sql<{ status: number; has_failures: boolean; error: string }[]>`
      select status, has_failures, error from import_offline_exports where id = ${exportId}`;
    expect(exp).toEqual({ status: -1, has_failures: true, error: ALL_FAILED_ERROR });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: tw.config.S3_BUCKET, Prefix: `${exportPrefix}/` }));
    expect(listed.KeyCount ?? 0).toBe(0); // not even metadata.json.gz

    const rows = await tw.deps.sql<{ status: number }[]>`
      select status from bulk_import_exports where offline_export_id = ${exportId}`;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.status === RelationStatus.FAILED)).toBe(true);

    const mails = await mailForExport(tw.config, user.email, exportPrefix);
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail?.subject).toBe('Offline export failed');
    expect(mail?.text).toContain('Export failed');
    expect(mail?.text).toContain('You can safely delete any files found at that path');
    expect(mail?.text).toContain('To try again, start a new export from your source GitLab instance');
    await tw.client.workflow.getHandle(credentialsPurgeWorkflowId(exportId)).result();
    const [conf] = await tw.deps.sql<{ purged: boolean }[]>`
      select object_storage_credentials = '{}'::jsonb and credentials_purged_at is not null as purged
      from import_offline_configurations where offline_export_id = ${exportId}`;
    expect(conf!.purged).toBe(true);
    expect(await purgedAfterEmailMs(exportId)).toBeGreaterThanOrEqual(PURGE_DELAY_MS);
  });

  it.each([
    ['no argument object', ['42'], ExportErrorType.InvalidInput, /one object argument/],
    ['a missing exportId', [{}], ExportErrorType.InvalidInput, /exportId must be a positive whole number/],
    [
      'a negative exportId',
      [{ exportId: -3 }],
      ExportErrorType.InvalidInput,
      /exportId must be a positive whole number/,
    ],
    [
      'an export that does not exist',
      [{ exportId: 987_654_321_012 }],
      ExportErrorType.ExportNotFound,
      /does not exist/,
    ],
  ])(
    'fails fast and for good on %s, as a start from the Temporal CLI could give',
    async (_name, args, type, message) => {
      const workflowId = `${offlineExportWorkflowId(0)}-bad-${randomUUID().slice(0, 8)}`;
      const started = Date.now();
      const handle = await tw.client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
        workflowId,
        taskQueue: tw.taskQueue,
        args: args as never,
      });
      const error = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause;
      const failure = cause instanceof ApplicationFailure ? cause : (cause?.cause as ApplicationFailure);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure.type).toBe(type);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(message);
      expect(Date.now() - started).toBeLessThan(10_000);
    },
  );
});
