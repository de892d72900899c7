import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { generateExportPrefix } from '../../client/offline-export/create-service';
import { insertOfflineExport } from '../../db/offline-export/create';
import { encryptCredentials } from '../../db/offline-export/credentials';
import { SEED_USERS } from '../../db/seed/generate';
import { ExportErrorType, OFFLINE_EXPORT_WORKFLOW } from '../../contracts/offline-export';
import { ExportStatus, StorageProvider } from '../../db/offline-export/statuses';
import { startWithTemporalCli } from '../helpers/cli';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { projectIdByPath } from '../../db/seed/lookups';
import { devBucketCredentials } from '../helpers/dev-bucket';

// An operator starting OfflineExportWorkflow by hand with the built Temporal CLI, as the README shows: given only
// the export id, it runs; given anything else, it fails at once with a typed, non-retryable error.

describe('OfflineExportWorkflow started from the Temporal CLI', () => {
  let tw: TestWorker;
  beforeAll(async () => {
    tw = await startTestWorker('temporal-cli-export', { EXPORT_CREDENTIALS_PURGE_DELAY_MS: 500 });
  });
  afterAll(async () => tw?.close());

  const start = (input: string) =>
    startWithTemporalCli(tw.config, {
      type: OFFLINE_EXPORT_WORKFLOW,
      taskQueue: tw.taskQueue,
      workflowId: `cli-export-${randomBytes(4).toString('hex')}`,
      input,
    });

  it('runs an export given only its id', async () => {
    const row = await insertOfflineExport(tw.deps.sql, {
      userId: SEED_USERS.owner.id,
      provider: StorageProvider.s3_compatible,
      bucket: tw.config.S3_BUCKET,
      exportPrefix: generateExportPrefix(),
      sourceHostname: tw.config.INSTANCE_BASE_URL,
      credentials: encryptCredentials(devBucketCredentials(tw.config), tw.config.ENCRYPTION_KEY),
      groupIds: [],
      projectIds: [await projectIdByPath(tw.deps.sql, 'flightjs/Flight')],
    });
    const workflowId = await start(JSON.stringify({ exportId: row.id }));
    await tw.run(() => tw.client.workflow.getHandle(workflowId).result());
    const [done] = await tw.deps.sql<{ status: number; has_failures: boolean }[]>`
      select status, has_failures from import_offline_exports where id = ${row.id}`;
    expect(done).toEqual({ status: ExportStatus.FINISHED, has_failures: false });
  });

  it.each([
    ['a string instead of an object', '"12"'],
    ['an id that is not a number', '{"exportId": "twelve"}'],
    ['extra fields', '{"exportId": 12, "credentials": {"secret": "x"}}'],
  ])('fails at once, non-retryably, on %s', async (_case, input) => {
    const workflowId = await start(input);
    const error = await tw.run(() =>
      tw.client.workflow
        .getHandle(workflowId)
        .result()
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe(ExportErrorType.InvalidInput);
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toMatch(/exportId|credentials/);
  });

  it('fails with ExportNotFound for an id no export has', async () => {
    const workflowId = await start('{"exportId": 999999999999}');
    const error = await tw.run(() =>
      tw.client.workflow
        .getHandle(workflowId)
        .result()
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    // The loading activity's non-retryable failure, as the workflow reports it.
    const root = (error as WorkflowFailedError).cause?.cause as ApplicationFailure;
    expect(root).toBeInstanceOf(ApplicationFailure);
    expect(root.type).toBe(ExportErrorType.ExportNotFound);
    expect(root.nonRetryable).toBe(true);
  });
});
