import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure, asyncLocalStorage, log } from '@temporalio/activity';
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
        client = refusedWritesArePermanent(createBucketClient(credentials, options));
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(key, client);
      return client;
    },
  };
}

// GitLab documents s3:PutObject and s3:ListBucket as the whole policy an export key needs. PutObject covers every
// write the export makes (PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload) and ListBucket the
// bucket check (HeadBucket). Removing what a failed or killed attempt left behind needs more (s3:AbortMultipartUpload,
// s3:ListBucketMultipartUploads), so that clean-up is best effort: a refusal is logged once and the export goes on.

/** The error type of an export write the bucket refused (no s3:PutObject): permanent, so the relation fails at once. */
export const BUCKET_WRITE_DENIED = 'BucketWriteDenied';

const WRITE_COMMANDS = new Set([
  'PutObjectCommand',
  'CreateMultipartUploadCommand',
  'UploadPartCommand',
  'CompleteMultipartUploadCommand',
]);

/** S3 refused the request for the key's permissions (or the key itself): the same request fails the same way again. */
export function isAccessDenied(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'AccessDenied' || e?.$metadata?.httpStatusCode === 403;
}

/**
 * A write the bucket refuses becomes a non-retryable failure that says which permission is missing. Retrying it
 * would only spend the relation's retry budget (minutes per relation) before every relation fails the same way.
 */
function refusedWritesArePermanent(client: S3Client): S3Client {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (!WRITE_COMMANDS.has(context.commandName ?? '') || !isAccessDenied(err)) throw err;
        throw ApplicationFailure.create({
          type: BUCKET_WRITE_DENIED,
          message:
            'The bucket refused the upload (access denied): the export credentials need s3:PutObject on the ' +
            "bucket's objects",
          nonRetryable: true,
          cause: err instanceof Error ? err : undefined,
        });
      }
    },
    { step: 'initialize', name: 'refusedWritesArePermanent' },
  );
  return client;
}

// One warning per export and permission in this worker, not one per upload or per attempt. Bounded: a worker that
// runs for months forgets the oldest prefixes.
const warned = new Set<string>();
const MAX_WARNED = 1_000;

function warnRefusedOnce(bucket: OpenBucket, permission: string, err: unknown): void {
  const key = `${bucket.bucket}/${bucket.exportPrefix}:${permission}`;
  if (warned.has(key)) return;
  if (warned.size >= MAX_WARNED) warned.delete(warned.values().next().value!);
  warned.add(key);
  // Outside an activity (a script, a unit test) there is no activity logger; the refusal is still tolerated.
  if (!asyncLocalStorage.getStore()) return;
  log.warn(
    `the bucket refused a multipart clean-up call: the export goes on without it (grant ${permission} to clean up)`,
    {
      exportPrefix: bucket.exportPrefix,
      permission,
      error: err instanceof Error ? err.name : String(err),
    },
  );
}

/**
 * Aborts one multipart upload a crashed or cancelled attempt left behind; a missing upload is fine. Best effort for
 * a key without s3:AbortMultipartUpload: the refusal is logged once and false returned (the parts stay until the
 * bucket's lifecycle rule removes them).
 */
export async function abortUpload(bucket: OpenBucket, key: string, uploadId: string): Promise<boolean> {
  try {
    await bucket.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.bucket, Key: key, UploadId: uploadId }));
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchUpload') return true;
    if (isAccessDenied(err)) {
      warnRefusedOnce(bucket, 's3:AbortMultipartUpload', err);
      return false;
    }
    throw err;
  }
}

/**
 * Aborts every unfinished multipart upload under the export's prefix. Run when no upload of the export can still
 * be in flight (completion, cancellation), it removes the parts of attempts killed before they could heartbeat
 * their upload id. Best effort for a key without s3:ListBucketMultipartUploads or s3:AbortMultipartUpload: the
 * refusal is logged once and the sweep stops.
 *
 * The listing names no prefix and the keys are filtered here: MinIO matches a listing's prefix against whole object
 * names only, so `<export prefix>/` would find nothing there (AWS takes any prefix). A bucket's open uploads are few.
 */
export async function abortIncompleteUploads(bucket: OpenBucket): Promise<number> {
  let aborted = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    let page;
    try {
      page = await bucket.client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket.bucket,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
    } catch (err) {
      if (!isAccessDenied(err)) throw err;
      warnRefusedOnce(bucket, 's3:ListBucketMultipartUploads', err);
      return aborted;
    }
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key?.startsWith(`${bucket.exportPrefix}/`) || !upload.UploadId) continue;
      if (!(await abortUpload(bucket, upload.Key, upload.UploadId))) return aborted;
      aborted++;
    }
    if (!page.IsTruncated) return aborted;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}
