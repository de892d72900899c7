import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';
import { abortUpload, type OpenBucket } from './bucket';

/** S3's minimum part size is 5 MiB (except the last part); 8 MiB keeps the part count low and memory bounded. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/**
 * Lines are joined into pieces of about this many characters (at most 64 KiB as a V8 string): under V8's
 * large-object size (128 KiB), so a piece is nursery garbage rather than a large object only a full GC frees, and
 * still large enough that gzip costs per write, not per row.
 */
const PIECE_CHARS = 32 * 1024;

export interface WrittenObject {
  key: string;
  bytes: number;
  sha256: string;
  multipart: boolean;
  parts: number;
}

export interface ObjectWriterOptions {
  partSize?: number;
  signal?: AbortSignal;
  /** Called when a multipart upload starts and after every part, so the activity can heartbeat the upload id. */
  onProgress?: (progress: { uploadId?: string; parts: number; bytes: number }) => void;
}

/**
 * Streams text through gzip into one object. Small objects (under one part) are a single PUT; larger ones a
 * multipart upload whose parts are sent as they fill, so memory stays at about one part whatever the size.
 * Either way the object appears whole or not at all: S3 makes it visible only on PutObject or
 * CompleteMultipartUpload, and a failure or cancellation aborts the multipart upload.
 */
export class GzipObjectWriter {
  private readonly gzip: Gzip = createGzip({ level: 6 });
  private readonly hash = createHash('sha256');
  private readonly partSize: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private bytes = 0;
  private uploadId: string | undefined;
  private readonly etags: string[] = [];
  private readonly consumer: Promise<void>;
  private failed: Error | undefined;

  constructor(
    private readonly bucket: OpenBucket,
    readonly key: string,
    private readonly options: ObjectWriterOptions = {},
  ) {
    this.partSize = Math.max(options.partSize ?? DEFAULT_PART_SIZE, 5 * 1024 * 1024);
    this.consumer = this.consume().catch((err: unknown) => {
      this.failed = err instanceof Error ? err : new Error(String(err));
      this.gzip.destroy();
    });
  }

  /** Writes one chunk of text, waiting when gzip or S3 is behind. */
  async write(text: string): Promise<void> {
    this.throwIfFailed();
    if (!this.gzip.write(text)) {
      await Promise.race([once(this.gzip, 'drain'), this.consumer]);
      this.throwIfFailed();
    }
  }

  /** Writes records as NDJSON lines, in pieces of about PIECE_CHARS joined into one gzip write each. */
  async writeLines(lines: readonly string[]): Promise<void> {
    let from = 0;
    let size = 0;
    for (let i = 0; i < lines.length; i++) {
      size += lines[i]!.length + 1;
      if (size >= PIECE_CHARS || i === lines.length - 1) {
        await this.write(lines.slice(from, i + 1).join('\n') + '\n');
        from = i + 1;
        size = 0;
      }
    }
  }

  async finish(): Promise<WrittenObject> {
    this.throwIfFailed();
    this.gzip.end();
    await this.consumer;
    this.throwIfFailed();
    const multipart = this.uploadId !== undefined;
    if (multipart) {
      await this.flushPart();
      await this.bucket.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
        { abortSignal: this.options.signal },
      );
    } else {
      await this.bucket.client.send(
        new PutObjectCommand({
          Bucket: this.bucket.bucket,
          Key: this.key,
          Body: Buffer.concat(this.pending),
          ContentType: 'application/gzip',
        }),
        { abortSignal: this.options.signal },
      );
    }
    return { key: this.key, bytes: this.bytes, sha256: this.hash.digest('hex'), multipart, parts: this.etags.length };
  }

  /** Stops writing and removes any uploaded parts; safe to call more than once. */
  async abort(): Promise<void> {
    this.gzip.destroy();
    await this.consumer;
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    if (uploadId) await abortUpload(this.bucket, this.key, uploadId);
  }

  private async consume(): Promise<void> {
    for await (const chunk of this.gzip as AsyncIterable<Buffer>) {
      this.hash.update(chunk);
      this.bytes += chunk.length;
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes >= this.partSize) await this.flushPart();
    }
  }

  private async flushPart(): Promise<void> {
    if (this.pendingBytes === 0) return;
    if (!this.uploadId) {
      const created = await this.bucket.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket.bucket,
          Key: this.key,
          ContentType: 'application/gzip',
        }),
        { abortSignal: this.options.signal },
      );
      this.uploadId = created.UploadId;
      this.options.onProgress?.({ uploadId: this.uploadId, parts: 0, bytes: this.bytes });
    }
    const body = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const part = await this.bucket.client.send(
      new UploadPartCommand({
        Bucket: this.bucket.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        PartNumber: this.etags.length + 1,
        Body: body,
      }),
      { abortSignal: this.options.signal },
    );
    this.etags.push(part.ETag ?? '');
    this.options.onProgress?.({ uploadId: this.uploadId, parts: this.etags.length, bytes: this.bytes });
  }

  private throwIfFailed(): void {
    if (this.failed !== undefined) throw this.failed;
  }
}
