import type { S3Client } from '@aws-sdk/client-s3';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { Sql } from '../../../db/sql';
import type { Config } from '../../../contracts/config';
import {
  OFFLINE_EXPORT_WORKFLOW,
  offlineExportWorkflowId,
  type OfflineExportResult,
} from '../../../contracts/offline-export';
import { BatchStatus, ExportStatus, RelationStatus } from '../../../db/offline-export/statuses';
import { getObject, insertExport, listKeys, openUploadsUnder } from '../../offline-export/fixture';
import { mailForExport, waitForMail } from '../../helpers/mail';

// An export of two subgroups (every nested subgroup and project, all relations) in batches of 2 records, so a
// run writes a few hundred objects and a fault lands between and inside uploads.

export const EXPORT_PATHS = ['gitlab-org/backend'];
export const EXPORT_USER = { id: 2, email: 'alice@example.test' }; // the seed's Owner of every root group
export const EXPORT_BATCH_SIZE = 5;

export interface StartedExport {
  exportId: number;
  exportPrefix: string;
  handle: WorkflowHandle;
}

export async function startExport(sql: Sql, config: Config, client: Client, taskQueue: string): Promise<StartedExport> {
  const { exportId, exportPrefix } = await insertExport(sql, config, EXPORT_USER.id, EXPORT_PATHS);
  const handle = await client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
    workflowId: offlineExportWorkflowId(exportId),
    taskQueue,
    args: [{ exportId }],
  });
  return { exportId, exportPrefix, handle };
}

/** Batches written so far (FINISHED batch rows), the progress a fault is timed against. */
export async function finishedBatches(sql: Sql, exportId: number): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from bulk_import_export_batches b join bulk_import_exports e on e.id = b.export_id
    where e.offline_export_id = ${exportId} and b.status = ${BatchStatus.FINISHED}`;
  return row?.n ?? 0;
}

/**
 * Every object under the export's prefix, keyed by its path relative to the prefix, with the sha256 of its bytes.
 * metadata.json.gz names the prefix itself, so it is compared by the sha256 of its JSON with the prefix replaced.
 */
export async function objectChecksums(
  s3: S3Client,
  config: Config,
  exportPrefix: string,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await listKeys(s3, config.S3_BUCKET, exportPrefix)) {
    const body = await getObject(s3, config.S3_BUCKET, key);
    const relative = key.slice(exportPrefix.length + 1);
    const hashed =
      relative === 'metadata.json.gz'
        ? Buffer.from(gunzipSync(body).toString('utf8').split(exportPrefix).join('<prefix>'))
        : body;
    out[relative] = createHash('sha256').update(hashed).digest('hex');
  }
  return out;
}

export interface ExportOutcome {
  result: OfflineExportResult;
  objects: Record<string, string>;
  rows: number;
  batches: number;
}

/**
 * What a finished export must look like whatever happened during it: finished without failures, one row per
 * portable and relation, batches numbered 1..n once each, all finished, no multipart upload left open, and exactly
 * one "complete" email.
 */
export async function verifyExport(
  sql: Sql,
  s3: S3Client,
  config: Config,
  started: StartedExport,
): Promise<ExportOutcome> {
  const result = (await started.handle.result()) as OfflineExportResult;
  expect(result).toMatchObject({ status: 'finished', hasFailures: false });
  const [exp] = await sql<{ status: number; has_failures: boolean }[]>`
    select status, has_failures from import_offline_exports where id = ${started.exportId}`;
  expect(exp).toEqual({ status: ExportStatus.FINISHED, has_failures: false });

  const rows = await sql<
    {
      id: number;
      group_id: number | null;
      project_id: number | null;
      relation: string;
      status: number;
      batches_count: number;
    }[]
  >`
    select id, group_id, project_id, relation, status, batches_count from bulk_import_exports where offline_export_id = ${started.exportId}`;
  expect(rows.length).toBeGreaterThan(0);
  const duplicates = rows.length - new Set(rows.map((r) => `${r.group_id}:${r.project_id}:${r.relation}`)).size;
  expect(duplicates).toBe(0);
  expect(rows.filter((r) => r.status !== RelationStatus.FINISHED)).toEqual([]);
  const batches = await sql<{ export_id: number; batch_number: number; status: number }[]>`
    select b.export_id, b.batch_number, b.status from bulk_import_export_batches b join bulk_import_exports e on e.id = b.export_id
    where e.offline_export_id = ${started.exportId} order by b.export_id, b.batch_number`;
  expect(batches.filter((b) => b.status !== BatchStatus.FINISHED)).toEqual([]);
  for (const row of rows) {
    const numbers = batches.filter((b) => b.export_id === row.id).map((b) => b.batch_number);
    expect([row.id, numbers]).toEqual([row.id, Array.from({ length: row.batches_count }, (_, i) => i + 1)]);
  }
  expect(await openUploadsUnder(s3, config.S3_BUCKET, started.exportPrefix)).toEqual([]);

  const mails = await waitForMail(() => mailForExport(config, EXPORT_USER.email, started.exportPrefix), 30_000);
  expect(mails.map((m) => m.subject)).toEqual(['Offline export complete']);
  return {
    result,
    objects: await objectChecksums(s3, config, started.exportPrefix),
    rows: rows.length,
    batches: batches.length,
  };
}

/** How many activity attempts after the first the export's workflows recorded (evidence a fault was survived). */
export async function retriedActivities(client: Client, exportId: number): Promise<number> {
  let retried = 0;
  for await (const h of client.workflow
    .list({ query: `WorkflowId STARTS_WITH "${offlineExportWorkflowId(exportId)}"` })
    .intoHistories()) {
    const history = h.history as {
      events?: { activityTaskStartedEventAttributes?: { attempt?: number | null } | null }[] | null;
    };
    for (const e of history.events ?? []) {
      const attempt = e.activityTaskStartedEventAttributes?.attempt ?? 1;
      if (attempt > 1) retried++;
    }
  }
  return retried;
}
