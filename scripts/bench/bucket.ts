import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';

// The benchmark's view of the stack bucket: the objects under a prefix, their sha256, and clean-up.

export async function listObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** sha256 of every object under the prefix, keyed by the path relative to the prefix. */
export async function objectDigests(
  s3: S3Client,
  bucket: string,
  prefix: string,
  concurrency = 16,
): Promise<Map<string, string>> {
  const objects = await listObjects(s3, bucket, prefix);
  const digests = new Map<string, string>();
  let next = 0;
  const lane = async () => {
    while (next < objects.length) {
      const { key } = objects[next++]!;
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const hash = createHash('sha256');
      for await (const chunk of res.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
      digests.set(key.slice(prefix.length + 1), hash.digest('hex'));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return digests;
}

export interface Comparison {
  same: number;
  different: string[];
  onlyLeft: string[];
  onlyRight: string[];
}

export function compareDigests(
  left: Map<string, string>,
  right: Map<string, string>,
  ignore: (key: string) => boolean,
): Comparison {
  const c: Comparison = { same: 0, different: [], onlyLeft: [], onlyRight: [] };
  for (const [key, digest] of left) {
    if (ignore(key)) continue;
    const other = right.get(key);
    if (other === undefined) c.onlyLeft.push(key);
    else if (other === digest) c.same++;
    else c.different.push(key);
  }
  for (const key of right.keys()) if (!ignore(key) && !left.has(key)) c.onlyRight.push(key);
  return c;
}

export async function deletePrefix(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  const objects = await listObjects(s3, bucket, prefix);
  for (let i = 0; i < objects.length; i += 1000) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: objects.slice(i, i + 1000).map((o) => ({ Key: o.key })), Quiet: true },
      }),
    );
  }
  return objects.length;
}
