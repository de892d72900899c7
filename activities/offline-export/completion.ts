import { PutObjectCommand } from '@aws-sdk/client-s3';
import { log } from '@temporalio/activity';
import { gzipSync } from 'node:zlib';
import {
  entitiesMapping,
  findExport,
  markExportFailed,
  markExportFinished,
  purgeCredentials,
} from '../../db/offline-export/export-state';
import { failUnfinished, statusCounts } from '../../db/offline-export/tracking';
import type { Sql } from '../../db/sql';
import { ALL_FAILED_ERROR, CANCELLED_ERROR, truncateError } from '../../contracts/offline-export';
import { ExportStatus } from '../../db/offline-export/statuses';
import { abortIncompleteUploads, openBucket, type BucketClients } from './bucket';
import { metadataKey } from './object-keys';

export interface CompletionDeps {
  sql: Sql;
  encryptionKey: Buffer;
  clients: BucketClients;
  instanceVersion: string;
  instanceEnterprise: boolean;
}

export interface CompleteExportResult {
  status: 'finished' | 'failed';
  hasFailures: boolean;
  metadataKey?: string;
  portablesInMetadata: number;
}

const ABANDONED_ERROR = 'Relation export did not complete';

export function createCompletionActivities(deps: CompletionDeps) {
  const { sql } = deps;

  /** Best effort: leftovers of killed attempts are removed, but a bucket we cannot reach must not block the end. */
  async function sweepUploads(exportId: number): Promise<void> {
    try {
      const aborted = await abortIncompleteUploads(await openBucket(sql, deps.encryptionKey, exportId, deps.clients));
      if (aborted > 0) log.info('aborted unfinished multipart uploads', { exportId, aborted });
    } catch (err) {
      log.warn('could not sweep multipart uploads', {
        exportId,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  return {
    /**
     * ProcessService steps 2-3, once every portable child is done: if every row failed, the export fails;
     * otherwise metadata.json.gz is written and the export finishes, even with failures (has_failures tells).
     * Idempotent: a completed export is reported as it is.
     */
    async completeExport({ exportId }: { exportId: number }): Promise<CompleteExportResult> {
      const current = await findExport(sql, exportId);
      if (!current) throw new Error(`offline export ${exportId} disappeared`);
      if (current.status === ExportStatus.FAILED) {
        return { status: 'failed', hasFailures: current.hasFailures, portablesInMetadata: 0 };
      }
      // Every child has returned, so a row still in progress belongs to a portable whose child gave up.
      await failUnfinished(sql, exportId, ABANDONED_ERROR);
      const counts = await statusCounts(sql, exportId);
      if (counts.total === 0 || counts.failed === counts.total) {
        await markExportFailed(sql, exportId, ALL_FAILED_ERROR);
        await sweepUploads(exportId);
        return { status: 'failed', hasFailures: true, portablesInMetadata: 0 };
      }

      const bucket = await openBucket(sql, deps.encryptionKey, exportId, deps.clients);
      const mapping = await entitiesMapping(sql, exportId);
      const key = metadataKey(bucket.exportPrefix);
      const metadata = {
        instance_version: deps.instanceVersion,
        instance_enterprise: deps.instanceEnterprise,
        export_prefix: bucket.exportPrefix,
        source_hostname: current.sourceHostname,
        entities_mapping: mapping,
      };
      // Small and written once: a single PUT, overwritten whole if a retry writes it again.
      await bucket.client.send(
        new PutObjectCommand({
          Bucket: bucket.bucket,
          Key: key,
          Body: gzipSync(JSON.stringify(metadata)),
          ContentType: 'application/gzip',
        }),
      );
      await abortIncompleteUploads(bucket);
      const status = await markExportFinished(sql, exportId, key);
      const after = await findExport(sql, exportId);
      return {
        status: status === ExportStatus.FAILED ? 'failed' : 'finished',
        hasFailures: after?.hasFailures ?? counts.failed > 0,
        metadataKey: key,
        portablesInMetadata: Object.keys(mapping).length,
      };
    },

    /**
     * Cleanup after the workflow was cancelled (its children have stopped and aborted their uploads): every row
     * still PENDING or STARTED fails with a clear error, the export fails, stray multipart uploads are aborted.
     */
    async cancelExport({ exportId }: { exportId: number }): Promise<{ rowsFailed: number }> {
      const rowsFailed = await failUnfinished(sql, exportId, CANCELLED_ERROR);
      await markExportFailed(sql, exportId, CANCELLED_ERROR);
      await sweepUploads(exportId);
      return { rowsFailed };
    },

    /**
     * fail_op after a failure the workflow could not get past (or its deadline): its chunks have stopped and aborted
     * their uploads; every row still PENDING or STARTED fails with the error, the export fails with it (unless it was
     * completed already), stray multipart uploads are aborted.
     */
    async failExport({ exportId, error }: { exportId: number; error: string }): Promise<{ rowsFailed: number }> {
      const message = truncateError(error);
      const rowsFailed = await failUnfinished(sql, exportId, message);
      await markExportFailed(sql, exportId, message);
      await sweepUploads(exportId);
      return { rowsFailed };
    },

    /** ConfigurationPurgeWorker: the stored credentials become {} (once). */
    async purgeExportCredentials({ exportId }: { exportId: number }): Promise<{ purged: boolean }> {
      return { purged: await purgeCredentials(sql, exportId) };
    },
  };
}
