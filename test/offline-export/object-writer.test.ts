import { HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { OpenBucket } from '../../activities/offline-export/bucket';
import { GzipObjectWriter } from '../../activities/offline-export/object-writer';
import { loadConfig } from '../../contracts/config';
import { getObject } from './fixture';
import { createStackS3Client } from '../../worker/deps';

// The writer against the real S3 server: multipart above one part, a single PUT below, and an abort that leaves
// neither an object nor an open multipart upload. Random text barely compresses, so a few MiB make several parts.

const PART = 5 * 1024 * 1024;
const chunk = () => randomBytes(768 * 1024).toString('base64'); // 1 MiB of text

describe('GzipObjectWriter', () => {
  const config = loadConfig();
  let s3: S3Client;
  let bucket: OpenBucket;
  const prefix = `writer-test-${randomUUID().slice(0, 8)}`;
  beforeAll(() => {
    s3 = createStackS3Client(config);
    bucket = { client: s3, bucket: config.S3_BUCKET, exportPrefix: prefix };
  });
  afterAll(() => s3?.destroy());

  const openUploads = async (key: string) =>
    (await s3.send(new ListMultipartUploadsCommand({ Bucket: config.S3_BUCKET, Prefix: key }))).Uploads ?? [];

  it('uploads a large object in parts, with memory of about one part, and the content intact', async () => {
    const key = `${prefix}/big.ndjson.gz`;
    const progress: { uploadId?: string; parts: number }[] = [];
    const writer = new GzipObjectWriter(bucket, key, { partSize: PART, onProgress: (p) => progress.push(p) });
    const hash = createHash('sha256');
    for (let i = 0; i < 14; i++) {
      const text = `${chunk()}\n`;
      hash.update(text);
      await writer.write(text);
    }
    const written = await writer.finish();
    expect(written.multipart).toBe(true);
    expect(written.parts).toBeGreaterThanOrEqual(2);
    expect(progress[0]?.uploadId).toBeTruthy();
    const body = await getObject(s3, config.S3_BUCKET, key);
    expect(body.length).toBe(written.bytes);
    expect(createHash('sha256').update(body).digest('hex')).toBe(written.sha256);
    expect(createHash('sha256').update(gunzipSync(body)).digest('hex')).toBe(hash.digest('hex'));
    expect(await openUploads(key)).toHaveLength(0);
  });

  it('puts a deferred head in front of a multipart object: part 1 is sent last, the gzip reads as one stream', async () => {
    const key = `${prefix}/deferred.tar.gz`;
    const writer = new GzipObjectWriter(bucket, key, { partSize: PART, deferHead: true });
    const body = randomBytes(13 * 1024 * 1024); // incompressible: three parts of gzip output
    for (let at = 0; at < body.length; at += 1024 * 1024) await writer.write(body.subarray(at, at + 1024 * 1024));
    const head = Buffer.from(`head of ${body.length} bytes\n`);
    const written = await writer.finish(head);
    expect(written).toMatchObject({ multipart: true, parts: 3, sha256: undefined });
    const object = await getObject(s3, config.S3_BUCKET, key);
    expect(object.length).toBe(written.bytes);
    expect(gunzipSync(object).equals(Buffer.concat([head, body]))).toBe(true);
    expect(await openUploads(key)).toHaveLength(0);
  });

  it('puts a deferred head in front of a small object, with its sha256', async () => {
    const key = `${prefix}/deferred-small.tar.gz`;
    const writer = new GzipObjectWriter(bucket, key, { partSize: PART, deferHead: true });
    await writer.write('body');
    const written = await writer.finish(Buffer.from('head:'));
    const object = await getObject(s3, config.S3_BUCKET, key);
    expect(written).toMatchObject({ multipart: false, sha256: createHash('sha256').update(object).digest('hex') });
    expect(gunzipSync(object).toString()).toBe('head:body');
  });

  it('writes a small object with one PUT', async () => {
    const key = `${prefix}/small.ndjson.gz`;
    const writer = new GzipObjectWriter(bucket, key);
    await writer.write('{"a":1}\n{"a":2}\n');
    const written = await writer.finish();
    expect(written).toMatchObject({ multipart: false, parts: 0 });
    expect(gunzipSync(await getObject(s3, config.S3_BUCKET, key)).toString()).toBe('{"a":1}\n{"a":2}\n');
  });

  it('aborts: no object appears and the multipart upload with its parts is gone', async () => {
    const key = `${prefix}/aborted.ndjson.gz`;
    const writer = new GzipObjectWriter(bucket, key, { partSize: PART });
    for (let i = 0; i < 9; i++) await writer.write(chunk());
    expect(await openUploads(key)).toHaveLength(1); // a part is already up
    await writer.abort();
    expect(await openUploads(key)).toHaveLength(0);
    await expect(s3.send(new HeadObjectCommand({ Bucket: config.S3_BUCKET, Key: key }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  it('stops when its abort signal fires (activity cancellation) and leaves nothing behind', async () => {
    const key = `${prefix}/cancelled.ndjson.gz`;
    const controller = new AbortController();
    const writer = new GzipObjectWriter(bucket, key, { partSize: PART, signal: controller.signal });
    for (let i = 0; i < 6; i++) await writer.write(chunk());
    controller.abort(new Error('cancelled'));
    await expect(writer.finish()).rejects.toThrow();
    await writer.abort();
    expect(await openUploads(key)).toHaveLength(0);
    await expect(s3.send(new HeadObjectCommand({ Bucket: config.S3_BUCKET, Key: key }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });
});
