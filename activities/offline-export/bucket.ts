import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/activity';
import { CredentialsUnavailableError, decryptCredentials } from '../../db/offline-export/credentials';
import { findStorageConfiguration } from '../../db/offline-export/export-state';
import type { Sql } from '../../db/sql';
import { ExportErrorType } from '../../workflows/offline-export/definitions';
import { createBucketClient } from './object-storage';

export interface OpenBucket {
  client: S3Client;
  bucket: string;
  exportPrefix: string;
}

/**
 * The user's bucket for one export. Credentials are read and decrypted here, inside the activity, and never leave
 * it: no workflow input, result, heartbeat or log carries them. Purged or undecryptable credentials are permanent.
 */
export async function openBucket(sql: Sql, encryptionKey: Buffer, exportId: number): Promise<OpenBucket> {
  const configuration = await findStorageConfiguration(sql, exportId);
  if (!configuration) {
    throw ApplicationFailure.create({
      type: ExportErrorType.ExportNotFound,
      message: `offline export ${exportId} has no storage configuration`,
      nonRetryable: true,
    });
  }
  try {
    const credentials = decryptCredentials(configuration.encryptedCredentials, encryptionKey);
    return { client: createBucketClient(credentials), bucket: configuration.bucket, exportPrefix: configuration.exportPrefix };
  } catch (err) {
    if (err instanceof CredentialsUnavailableError) {
      throw ApplicationFailure.create({ type: ExportErrorType.CredentialsUnavailable, message: err.message, nonRetryable: true });
    }
    throw err;
  }
}

/** Aborts one multipart upload a crashed or cancelled attempt left behind; a missing upload is fine. */
export async function abortUpload(bucket: OpenBucket, key: string, uploadId: string): Promise<void> {
  try {
    await bucket.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.bucket, Key: key, UploadId: uploadId }));
  } catch (err) {
    if ((err as { name?: string }).name !== 'NoSuchUpload') throw err;
  }
}

/**
 * Aborts every unfinished multipart upload under the export's prefix. Run when no upload of the export can still
 * be in flight (completion, cancellation), it removes the parts of attempts killed before they could heartbeat
 * their upload id.
 */
export async function abortIncompleteUploads(bucket: OpenBucket): Promise<number> {
  let aborted = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await bucket.client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket.bucket,
        Prefix: `${bucket.exportPrefix}/`,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId) continue;
      await abortUpload(bucket, upload.Key, upload.UploadId);
      aborted++;
    }
    if (!page.IsTruncated) return aborted;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}
