import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import {
  CredentialsUnavailableError,
  decryptCredentials,
  type StorageCredentials,
} from '../../db/offline-export/credentials';
import { findStorageConfiguration } from '../../db/offline-export/export-state';
import type { Sql } from '../../db/sql';
import { ExportErrorType } from '../../contracts/offline-export';
import { createBucketClient, type BucketClientOptions } from '../../db/bucket-client';

export interface OpenBucket {
  client: S3Client;
  bucket: string;
  exportPrefix: string;
}

/**
 * The user's bucket for one export. Credentials are read and decrypted here, inside the activity, and never leave
 * it: no workflow input, result, heartbeat or log carries them. Purged or undecryptable credentials are permanent.
 */
export async function openBucket(
  sql: Sql,
  encryptionKey: Buffer,
  exportId: number,
  clients: BucketClients,
): Promise<OpenBucket> {
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
    return { client: clients.get(credentials), bucket: configuration.bucket, exportPrefix: configuration.exportPrefix };
  } catch (err) {
    if (err instanceof CredentialsUnavailableError) {
      throw ApplicationFailure.create({
        type: ExportErrorType.CredentialsUnavailable,
        message: err.message,
        nonRetryable: true,
      });
    }
    throw err;
  }
}

/** Where openBucket gets its S3 client for a set of credentials. */
export interface BucketClients {
  get(credentials: StorageCredentials): S3Client;
}

/**
 * S3 clients kept per set of credentials (keyed by their digest, never by their text), so the hundreds of relation
 * exports of one export share one client and its keep-alive connections instead of building a client and opening
 * new sockets each. The credentials are still read and decrypted from the database on every openBucket: purged
 * credentials fail as before. Clients are not destroyed on eviction (another activity may still be using one);
 * their idle sockets close on their own.
 */
export function createBucketClientCache(options: BucketClientOptions, max = 32): BucketClients {
  const cache = new Map<string, S3Client>();
  return {
    get(credentials) {
      const key = createHash('sha256').update(JSON.stringify(credentials)).digest('hex');
      let client = cache.get(key);
      if (client) {
        cache.delete(key);
      } else {
        client = createBucketClient(credentials, options);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(key, client);
      return client;
    },
  };
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
