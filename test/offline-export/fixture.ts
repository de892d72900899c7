import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { encryptCredentials } from '../../db/offline-export/credentials';
import type { Sql } from '../../db/sql';
import type { Config } from '../../contracts/config';
import { RelationStatus, StorageProvider } from '../../db/offline-export/statuses';

// Creates exports the way the CreateService stores them (export, encrypted configuration, one PENDING 'self' row
// per requested path), without its validation, so the workflow's own behaviour is what these tests see.

let sequenceMoved = false;

export interface CreatedExport {
  exportId: number;
  exportPrefix: string;
}

const alphanumerics = (n: number): string =>
  Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');

/**
 * Workflow ids are derived from export ids, and the Temporal server outlives this test database: start the ids
 * somewhere no earlier run used.
 */
export async function moveExportIds(sql: Sql): Promise<void> {
  if (sequenceMoved) return;
  await sql`select setval(pg_get_serial_sequence('import_offline_exports', 'id'), ${1_000_000 + Math.floor(Math.random() * 1e9)})`;
  sequenceMoved = true;
}

export async function insertExport(sql: Sql, config: Config, userId: number, paths: string[]): Promise<CreatedExport> {
  await moveExportIds(sql);
  const now = new Date().toISOString().replace('T', '_').replace(/:/g, '-').slice(0, 19);
  const exportPrefix = `${now}_export_${alphanumerics(8)}`;
  return sql.begin(async (tx) => {
    const [exp] = await tx<{ id: number }[]>`insert into import_offline_exports (user_id) values (${userId}) returning id`;
    const exportId = exp!.id;
    const credentials = encryptCredentials(
      {
        aws_access_key_id: config.S3_ACCESS_KEY_ID,
        aws_secret_access_key: config.S3_SECRET_ACCESS_KEY,
        region: config.S3_REGION,
        path_style: true,
        endpoint: config.S3_ENDPOINT,
      },
      config.ENCRYPTION_KEY,
    );
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

export function stackBucketClient(config: Config): S3Client {
  return new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
  });
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
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

export interface MaildevEmail {
  subject: string;
  to: { address: string }[];
  text: string;
  html: string;
  messageId?: string;
  headers?: Record<string, string>;
}

/** Mail caught by maildev for this recipient that mentions the export prefix (never deletes anything). */
export async function emailsFor(config: Config, address: string, exportPrefix: string): Promise<MaildevEmail[]> {
  const res = await fetch(`http://127.0.0.1:${config.MAILDEV_WEB_PORT}/api/email`);
  const all = (await res.json()) as MaildevEmail[];
  return all.filter((m) => m.to.some((t) => t.address === address) && m.text.includes(exportPrefix));
}

export async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
