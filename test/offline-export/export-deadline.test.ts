import { type S3Client } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import {
  OFFLINE_EXPORT_WORKFLOW,
  SA_EXPORT_STATUS,
  deadlineError,
  offlineExportWorkflowId,
} from '../../contracts/offline-export';
import { BatchStatus, RelationStatus } from '../../db/offline-export/statuses';
import { createStackS3Client } from '../../worker/deps';
import { mailForExport } from '../helpers/mail';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { insertExport, openUploadsUnder } from './fixture';

// GitLab's failure path, here at the deadline the workflow keeps itself: an export still running when it passes is
// failed as a whole (chunks stopped, their uploads aborted, rows and export failed), with one email and its
// credentials purged at once. The other endings have their own files (export-e2e, export-failures, export-cancel)
// and the workflow's failure paths are covered with fake activities in export-workflow.unit.test.ts.

const DEADLINE_MS = 1_500;

describe('an OfflineExportWorkflow past its deadline', () => {
  let tw: TestWorker;
  let s3: S3Client;
  beforeAll(async () => {
    // Batches of one record: the export of gitlab-org takes far longer than the deadline.
    tw = await startTestWorker('export-deadline', { EXPORT_BATCH_SIZE: 1, EXPORT_DEADLINE_MS: DEADLINE_MS });
    s3 = createStackS3Client(tw.config);
  });
  afterAll(async () => {
    s3?.destroy();
    await tw?.close();
  });

  it('fails the rows and the export with the deadline error, sends one email and purges the credentials', async () => {
    const { sql, config } = { sql: tw.deps.sql, config: tw.config };
    const { exportId, exportPrefix } = await insertExport(sql, config, 2, ['gitlab-org']);
    const workflowId = offlineExportWorkflowId(exportId);
    const outcome = await tw.run(async () => {
      const handle = await tw.client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
        workflowId,
        taskQueue: tw.taskQueue,
        args: [{ exportId }],
      });
      const error = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      return { error, description: await handle.describe() };
    });
    const message = deadlineError(DEADLINE_MS);
    expect(outcome.error).toBeInstanceOf(WorkflowFailedError);
    const cause = (outcome.error as WorkflowFailedError).cause as ApplicationFailure;
    expect({ type: cause.type, message: cause.message }).toEqual({ type: 'ExportDeadlineExceeded', message });
    expect(outcome.description.status.name).toBe('FAILED');
    expect(outcome.description.typedSearchAttributes.get(SA_EXPORT_STATUS)).toBe('failed');

    const [exp] = await sql<{ status: number; error: string; has_failures: boolean }[]>`
      select status, error, has_failures from import_offline_exports where id = ${exportId}`;
    expect(exp).toEqual({ status: -1, error: message, has_failures: true });
    const [left] = await sql<{ rows: number; batches: number; failedWithDeadline: number }[]>`
      select (select count(*)::int from bulk_import_exports where offline_export_id = ${exportId}
                and status in (${RelationStatus.PENDING}, ${RelationStatus.STARTED})) as rows,
             (select count(*)::int from bulk_import_export_batches b join bulk_import_exports e on e.id = b.export_id
                where e.offline_export_id = ${exportId} and b.status in (${BatchStatus.CREATED}, ${BatchStatus.STARTED})) as batches,
             (select count(*)::int from bulk_import_exports
                where offline_export_id = ${exportId} and error = ${message}) as "failedWithDeadline"`;
    expect(left).toMatchObject({ rows: 0, batches: 0 });
    expect(left!.failedWithDeadline).toBeGreaterThan(0);
    expect(await openUploadsUnder(s3, config.S3_BUCKET, exportPrefix)).toEqual([]);
    const running = await tw.client.workflow.count(
      `WorkflowId STARTS_WITH "${workflowId}/" AND ExecutionStatus = "Running"`,
    );
    expect(running.count).toBe(0);

    const [conf] = await sql<{ purged: boolean }[]>`
      select object_storage_credentials = '{}'::jsonb and credentials_purged_at is not null as purged
      from import_offline_configurations where offline_export_id = ${exportId}`;
    expect(conf!.purged).toBe(true);
    const mails = await mailForExport(config, 'alice@example.test', exportPrefix);
    expect(mails.map((m) => m.subject)).toEqual(['Offline export failed']);
  }, 120_000);
});
