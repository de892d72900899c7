import { type S3Client } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import {
  CANCELLED_ERROR,
  OFFLINE_EXPORT_WORKFLOW,
  SA_EXPORT_STATUS,
  offlineExportWorkflowId,
} from '../../contracts/offline-export';
import { BatchStatus, RelationStatus } from '../../db/offline-export/statuses';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { insertExport, openUploadsUnder } from './fixture';
import { mailForExport } from '../helpers/mail';
import { createStackS3Client } from '../../worker/deps';
import { waitFor } from '../helpers/wait';

describe('cancelling an OfflineExportWorkflow', () => {
  let tw: TestWorker;
  let s3: S3Client;
  beforeAll(async () => {
    // Batches of one record: the export is long enough to be caught in the middle.
    tw = await startTestWorker('export-cancel', { EXPORT_BATCH_SIZE: 1 });
    s3 = createStackS3Client(tw.config);
  });
  afterAll(async () => {
    s3?.destroy();
    await tw?.close();
  });

  it('stops the uploads, fails the export with a clear error, leaves no PENDING row and purges the credentials', async () => {
    const { sql, config } = { sql: tw.deps.sql, config: tw.config };
    const { exportId, exportPrefix } = await insertExport(sql, config, 2, ['gitlab-org']);
    const workflowId = offlineExportWorkflowId(exportId);
    const outcome = await tw.run(async () => {
      const handle = await tw.client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
        workflowId,
        taskQueue: tw.taskQueue,
        args: [{ exportId }],
      });
      await waitFor(
        async () => {
          const [r] = await sql<{ n: number }[]>`
          select count(*)::int as n from bulk_import_export_batches b join bulk_import_exports e on e.id = b.export_id
          where e.offline_export_id = ${exportId} and b.status = ${BatchStatus.FINISHED}`;
          return r && r.n >= 20 ? r : undefined;
        },
        60_000,
        { everyMs: 50, what: '20 finished batches' },
      );
      await handle.cancel();
      const error = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      return { error, description: await handle.describe() };
    });
    expect(outcome.error).toBeInstanceOf(WorkflowFailedError);
    expect(outcome.description.status.name).toBe('CANCELLED');
    expect(outcome.description.typedSearchAttributes.get(SA_EXPORT_STATUS)).toBe('failed');

    const [exp] = await sql<{ status: number; error: string; has_failures: boolean }[]>`
      select status, error, has_failures from import_offline_exports where id = ${exportId}`;
    expect(exp).toEqual({ status: -1, error: CANCELLED_ERROR, has_failures: true });
    const [left] = await sql<{ rows: number; batches: number; cancelled: number; finished: number }[]>`
      select (select count(*)::int from bulk_import_exports where offline_export_id = ${exportId}
                and status in (${RelationStatus.PENDING}, ${RelationStatus.STARTED})) as rows,
             (select count(*)::int from bulk_import_export_batches b join bulk_import_exports e on e.id = b.export_id
                where e.offline_export_id = ${exportId} and b.status in (${BatchStatus.CREATED}, ${BatchStatus.STARTED})) as batches,
             (select count(*)::int from bulk_import_exports where offline_export_id = ${exportId} and error = ${CANCELLED_ERROR}) as cancelled,
             (select count(*)::int from bulk_import_export_batches b join bulk_import_exports e on e.id = b.export_id
                where e.offline_export_id = ${exportId} and b.status = ${BatchStatus.FINISHED}) as finished`;
    expect(left).toMatchObject({ rows: 0, batches: 0 });
    expect(left!.cancelled).toBeGreaterThan(0); // what was still to do says why it was not done
    expect(left!.finished).toBeGreaterThan(0); // batches written before the cancellation stay written
    expect(await openUploadsUnder(s3, config.S3_BUCKET, exportPrefix)).toEqual([]);

    // No child keeps running after the cancellation.
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
