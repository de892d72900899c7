import { type S3Client } from '@aws-sdk/client-s3';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { createServer } from 'node:net';
import {
  ExportErrorType,
  OFFLINE_EXPORT_WORKFLOW,
  SA_EXPORT_STATUS,
  failedError,
  offlineExportWorkflowId,
} from '../../contracts/offline-export';
import type { Sql } from '../../db/sql';
import { BatchStatus, ExportStatus, RelationStatus } from '../../db/offline-export/statuses';
import { createStackS3Client } from '../../worker/deps';
import { mailForExport } from '../helpers/mail';
import { waitFor } from '../helpers/wait';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { getObject, insertExport, openUploadsUnder } from './fixture';

// The two endings of an export the other files do not reach on the real stack (success and partial failure:
// export-e2e and export-failures; cancel: export-cancel; the deadline: export-deadline):
// - the completion gives up (its email keeps failing until its retries are exhausted): the export stays as it
//   completed, and its credentials are still purged, at once;
// - any other failure the workflow cannot get past (here the credentials become undecryptable mid-run, so the
//   completion cannot open the bucket: a permanent error): GitLab's fail_op, the export failed with
//   "Export failed: ...", nothing left in progress, one "Offline export failed" email, the credentials purged at once.
// Both workers keep the purge delay at an hour: a purge seen within the test happened at once, not after the delay.

const ALICE = { id: 2, email: 'alice@example.test' };
const AN_HOUR = 60 * 60 * 1000;
/** The email activity profile's attempts (workflows/offline-export/activity-profiles.ts). */
const EMAIL_ATTEMPTS = 5;

/** A local port nothing listens on: an SMTP server that refuses every connection. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function runToEnd(tw: TestWorker, exportId: number, during?: () => Promise<void>) {
  return tw.run(async () => {
    const handle: WorkflowHandle = await tw.client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
      workflowId: offlineExportWorkflowId(exportId),
      taskQueue: tw.taskQueue,
      args: [{ exportId }],
    });
    await during?.();
    const error = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    return { handle, error, description: await handle.describe() };
  });
}

async function exportRow(sql: Sql, exportId: number) {
  const [exp] = await sql<
    {
      status: number;
      error: string | null;
      has_failures: boolean;
      notified: boolean;
      metadata_object_key: string | null;
    }[]
  >`
    select status, error, has_failures, notified_at is not null as notified, metadata_object_key
    from import_offline_exports where id = ${exportId}`;
  return exp!;
}

async function rowStatuses(sql: Sql, exportId: number) {
  return sql<{ status: number; error: string | null; n: number }[]>`
    select status, error, count(*)::int as n from bulk_import_exports where offline_export_id = ${exportId}
    group by status, error order by status desc, error`;
}

async function unfinishedBatches(sql: Sql, exportId: number): Promise<number> {
  const [r] = await sql<{ n: number }[]>`
    select count(*)::int as n from bulk_import_export_batches b join bulk_import_exports e on e.id = b.export_id
    where e.offline_export_id = ${exportId} and b.status in (${BatchStatus.CREATED}, ${BatchStatus.STARTED})`;
  return r!.n;
}

async function credentialsPurged(sql: Sql, exportId: number): Promise<boolean> {
  const [conf] = await sql<{ purged: boolean }[]>`
    select object_storage_credentials = '{}'::jsonb and credentials_purged_at is not null as purged
    from import_offline_configurations where offline_export_id = ${exportId}`;
  return conf!.purged;
}

/** The attempt the last run of `activityType` reached, read from the workflow's history. */
async function lastAttempt(handle: WorkflowHandle, activityType: string): Promise<number | undefined> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
      .map((e) => String(e.eventId)),
  );
  const started = events.filter(
    (e) =>
      e.activityTaskStartedEventAttributes &&
      scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)),
  );
  return started.at(-1)?.activityTaskStartedEventAttributes?.attempt ?? undefined;
}

describe('OfflineExportWorkflow endings the other files do not reach', () => {
  let s3: S3Client | undefined;
  const workers: TestWorker[] = [];
  afterAll(async () => {
    s3?.destroy();
    for (const tw of workers) await tw.close();
  });

  it('completion gives up (the email never gets through): the export stays finished, its credentials are purged at once', async () => {
    // The worker's SMTP server refuses every connection, so every attempt of the email fails until the last.
    const tw = await startTestWorker('export-endings-mail', {
      SMTP_PORT: await closedPort(),
      EXPORT_CREDENTIALS_PURGE_DELAY_MS: AN_HOUR,
    });
    workers.push(tw);
    s3 ??= createStackS3Client(tw.config);
    const { sql, config } = { sql: tw.deps.sql, config: tw.config };
    const { exportId, exportPrefix } = await insertExport(sql, config, ALICE.id, ['org-2/project-2']);

    const { handle, error, description } = await runToEnd(tw, exportId);

    // The workflow fails with the email's own error, after the profile's every attempt.
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ActivityFailure;
    expect(cause).toBeInstanceOf(ActivityFailure);
    expect(cause.activityType).toBe('sendExportEmail');
    expect(cause.cause?.message).toMatch(/ECONNREFUSED/);
    expect(await lastAttempt(handle, 'sendExportEmail')).toBe(EMAIL_ATTEMPTS);
    expect(description.status.name).toBe('FAILED');
    expect(description.typedSearchAttributes.get(SA_EXPORT_STATUS)).toBe('finished');

    // The export stands as it completed: finished, every row finished, its metadata written; nobody was told.
    expect(await exportRow(sql, exportId)).toEqual({
      status: ExportStatus.FINISHED,
      error: null,
      has_failures: false,
      notified: false,
      metadata_object_key: `${exportPrefix}/metadata.json.gz`,
    });
    const rows = await rowStatuses(sql, exportId);
    expect(rows.map((r) => [r.status, r.error])).toEqual([[RelationStatus.FINISHED, null]]);
    expect(rows[0]!.n).toBeGreaterThan(1);
    expect((await getObject(s3, config.S3_BUCKET, `${exportPrefix}/metadata.json.gz`)).length).toBeGreaterThan(0);
    expect(await mailForExport(config, ALICE.email, exportPrefix)).toEqual([]);

    // The credentials went when the completion gave up, not an hour later.
    expect(await credentialsPurged(sql, exportId)).toBe(true);
  }, 180_000);

  it('any other failure (credentials undecryptable mid-run): fail_op, "Export failed: ...", one email, credentials purged at once', async () => {
    const tw = await startTestWorker('export-endings-fail', {
      // One portable a chunk, one chunk at once, one record a batch: the export is caught in its first chunks.
      EXPORT_BATCH_SIZE: 1,
      EXPORT_PORTABLES_PER_CHUNK: 1,
      EXPORT_MAX_CONCURRENT_CHUNKS: 1,
      EXPORT_CREDENTIALS_PURGE_DELAY_MS: AN_HOUR,
    });
    workers.push(tw);
    s3 ??= createStackS3Client(tw.config);
    const { sql, config } = { sql: tw.deps.sql, config: tw.config };
    const { exportId, exportPrefix } = await insertExport(sql, config, ALICE.id, ['gitlab-org']);

    const { error, description } = await runToEnd(tw, exportId, async () => {
      await waitFor(
        async () => {
          const [r] = await sql<{ n: number }[]>`
            select count(*)::int as n from bulk_import_exports
            where offline_export_id = ${exportId} and status = ${RelationStatus.FINISHED}`;
          return r && r.n >= 1 ? r : undefined;
        },
        60_000,
        { everyMs: 50, what: 'a finished relation' },
      );
      // As after an ENCRYPTION_KEY change: the stored credentials no longer decrypt (the GCM tag fails).
      await sql`
        update import_offline_configurations
        set object_storage_credentials = jsonb_set(object_storage_credentials, '{tag}', to_jsonb('AAAAAAAAAAAAAAAAAAAAAA=='::text))
        where offline_export_id = ${exportId}`;
    });

    const reason = 'the object storage credentials cannot be decrypted with the configured ENCRYPTION_KEY';
    // The workflow fails with the original error: the completion could not open the bucket, permanently.
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ActivityFailure;
    expect(cause).toBeInstanceOf(ActivityFailure);
    expect(cause.activityType).toBe('completeExport');
    expect(cause.cause).toBeInstanceOf(ApplicationFailure);
    expect((cause.cause as ApplicationFailure).type).toBe(ExportErrorType.CredentialsUnavailable);
    expect(description.status.name).toBe('FAILED');
    expect(description.typedSearchAttributes.get(SA_EXPORT_STATUS)).toBe('failed');

    expect(await exportRow(sql, exportId)).toEqual({
      status: ExportStatus.FAILED,
      error: failedError(reason),
      has_failures: true,
      notified: true,
      metadata_object_key: null,
    });
    // Nothing left in progress: what was written before stays finished, the chunks that could no longer open the
    // bucket failed their rows with the reason.
    const rows = await rowStatuses(sql, exportId);
    expect(rows.map((r) => [r.status, r.error])).toEqual([
      [RelationStatus.FINISHED, null],
      [RelationStatus.FAILED, reason],
    ]);
    expect(await unfinishedBatches(sql, exportId)).toBe(0);
    expect(await openUploadsUnder(s3, config.S3_BUCKET, exportPrefix)).toEqual([]);
    const running = await tw.client.workflow.count(
      `WorkflowId STARTS_WITH "${offlineExportWorkflowId(exportId)}/" AND ExecutionStatus = "Running"`,
    );
    expect(running.count).toBe(0);

    const mails = await mailForExport(config, ALICE.email, exportPrefix);
    expect(mails.map((m) => m.subject)).toEqual(['Offline export failed']);
    expect(await credentialsPurged(sql, exportId)).toBe(true);
  }, 180_000);
});
