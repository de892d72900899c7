import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { DEFAULT_PART_SIZE } from '../../activities/offline-export/object-writer';

// The object floor (issue 15, item 5): what the S3 server alone takes to store the export's objects. Every object the
// workflow just wrote is PUT again, with its own size (random bytes: nothing to compress, nothing built), as many at
// once as the export runs relations, through the client the export's writer gets. Objects above one part go as a
// multipart upload in the writer's part size, parts one after the other as the writer sends them. No database, no
// gzip, no Temporal: an export of these objects cannot be faster than this on the same server.

export interface ObjectFloorResult {
  ms: number;
  objects: number;
  bytes: number;
  /** Objects sent as multipart uploads (larger than one part). */
  multipart: number;
  concurrency: number;
}

/** One object of `size` bytes, its bytes prefixes of `data` (at least one part long, or the object's size). */
async function putOne(s3: S3Client, bucket: string, key: string, size: number, data: Buffer, partSize: number) {
  if (size <= partSize) {
    const body = data.subarray(0, size);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/gzip' }));
    return;
  }
  const created = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/gzip' }),
  );
  const parts: { PartNumber: number; ETag: string }[] = [];
  for (let at = 0, n = 1; at < size; at += partSize, n++) {
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: created.UploadId,
        PartNumber: n,
        Body: data.subarray(0, Math.min(partSize, size - at)),
      }),
    );
    parts.push({ PartNumber: n, ETag: part.ETag ?? '' });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: created.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}

/** PUTs one object of each size under `prefix`, `concurrency` at once, timed. */
export async function objectFloor(
  s3: S3Client,
  bucket: string,
  prefix: string,
  sizes: readonly number[],
  concurrency: number,
  partSize = DEFAULT_PART_SIZE,
): Promise<ObjectFloorResult> {
  if (sizes.length === 0) return { ms: 0, objects: 0, bytes: 0, multipart: 0, concurrency };
  // One random buffer as large as the largest object or one part; each PUT (or part) sends a prefix of it (the
  // bytes do not matter, and a GiB repository needs no GiB of memory here).
  const data = randomBytes(
    Math.min(
      sizes.reduce((a, b) => Math.max(a, b), 1),
      partSize,
    ),
  );
  let next = 0;
  const started = Date.now();
  const lane = async () => {
    while (next < sizes.length) {
      const i = next++;
      await putOne(s3, bucket, `${prefix}/object-${i}`, sizes[i]!, data, partSize);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, sizes.length)) }, lane));
  return {
    ms: Date.now() - started,
    objects: sizes.length,
    bytes: sizes.reduce((s, n) => s + n, 0),
    multipart: sizes.filter((n) => n > partSize).length,
    concurrency,
  };
}
