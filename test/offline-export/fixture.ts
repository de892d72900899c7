import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { encryptCredentials } from '../../db/offline-export/credentials';
import type { Sql } from '../../db/sql';
import type { Config } from '../../contracts/config';
import {
  createOfflineExport,
  OfflineExportRequestError,
  type CreateOfflineExportDeps,
} from '../../client/offline-export/create-service';
import { writtenRows } from '../helpers/database';
import { devBucketCredentials } from '../helpers/dev-bucket';
import { RelationStatus, StorageProvider } from '../../db/offline-export/statuses';

// Creates exports the way the CreateService stores them (export, encrypted configuration, one PENDING 'self' row
// per requested path), without its validation, so the workflow's own behaviour is what these tests see.

export interface CreatedExport {
  exportId: number;
  exportPrefix: string;
}

const alphanumerics = (n: number): string =>
  Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');

export async function insertExport(sql: Sql, config: Config, userId: number, paths: string[]): Promise<CreatedExport> {
  const now = new Date().toISOString().replace('T', '_').replace(/:/g, '-').slice(0, 19);
  const exportPrefix = `${now}_export_${alphanumerics(8)}`;
  return sql.begin(async (tx) => {
    const [exp] = await tx<
      { id: number }[]
    >`insert into import_offline_exports (user_id) values (${userId}) returning id`;
    const exportId = exp!.id;
    const credentials = encryptCredentials(devBucketCredentials(config), config.ENCRYPTION_KEY);
    await tx`
      insert into import_offline_configurations
        (offline_export_id, provider, bucket, export_prefix, source_hostname, object_storage_credentials)
      values (${exportId}, ${StorageProvider.s3_compatible}, ${config.S3_BUCKET}, ${exportPrefix},
              ${config.INSTANCE_BASE_URL}, ${tx.json(credentials as never)})`;
    for (const path of paths) {
      const inserted = await tx`
        insert into bulk_import_exports (offline_export_id, user_id, relation, status, group_id, project_id)
        select ${exportId}, ${userId}, 'self', ${RelationStatus.PENDING},
               case when r.source_type = 'Namespace' then r.source_id end,
               case when r.source_type = 'Project' then r.source_id end
        from routes r where lower(r.path) = lower(${path})`;
      if (inserted.count !== 1) throw new Error(`no group or project at ${path}`);
    }
    return { exportId, exportPrefix };
  });
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

export async function getObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** The records of an NDJSON.gz (or JSON.gz) object. */
export function parseGzipLines(body: Buffer): unknown[] {
  return gunzipSync(body)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as unknown);
}

/** Asserts CreateService refuses the request with this status and message, and that not one row was written. */
export async function expectExportRefused(
  deps: CreateOfflineExportDeps,
  user: { id: number },
  request: unknown,
  status: number,
  message: string,
): Promise<void> {
  const before = await writtenRows(deps.sql);
  const error = await createOfflineExport(deps, user, request).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(OfflineExportRequestError);
  expect((error as OfflineExportRequestError).message).toBe(message);
  expect((error as OfflineExportRequestError).status).toBe(status);
  expect(await writtenRows(deps.sql)).toEqual(before);
}

/**
 * Multipart uploads still open under an export prefix. The whole bucket is listed and filtered here: MinIO matches a
 * listing's Prefix only against whole object names, so a prefix listing would find nothing and the check could not
 * fail.
 */
export async function openUploadsUnder(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
    );
    for (const u of page.Uploads ?? []) if (u.Key?.startsWith(`${prefix}/`)) keys.push(u.Key);
    if (!page.IsTruncated) return keys;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}
