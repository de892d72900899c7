import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createGzip, gzipSync, type Gzip } from 'node:zlib';
import { abortUpload, type OpenBucket } from './bucket';

/** S3's minimum part size is 5 MiB (except the last part); 8 MiB keeps the part count low and memory bounded. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/**
 * Lines are joined into pieces of about this many characters (at most 64 KiB as a V8 string): under V8's
 * large-object size (128 KiB), so a piece is nursery garbage rather than a large object only a full GC frees, and
 * still large enough that gzip costs per write, not per row.
 */
const PIECE_CHARS = 32 * 1024;

/**
 * Input up to this size is held and compressed in one call when the object ends (the usual case: most relations of
 * a project are a few lines): no gzip stream, no stream plumbing per object. The output is the same bytes the
 * stream makes (deflate's output does not depend on how its input was split). Above it, the stream takes over.
 */
const ONE_CALL_BYTES = 64 * 1024;

export interface WrittenObject {
  key: string;
  bytes: number;
  /** Undefined for a multipart object whose head was deferred: its first bytes were known only at the end. */
  sha256: string | undefined;
  multipart: boolean;
  parts: number;
}

export interface ObjectWriterOptions {
  partSize?: number;
  signal?: AbortSignal;
  /** Called when a multipart upload starts and after every part, so the activity can heartbeat the upload id. */
  onProgress?: (progress: { uploadId?: string; parts: number; bytes: number }) => void;
  /**
   * The object starts with a head known only when the rest is written (a tar header holding the size of the
   * content after it). The head becomes a gzip member of its own in front of the rest (gzip readers read
   * concatenated members as one stream); the first part is held back until finish() so the head can go in it.
   */
  deferHead?: boolean;
}

/**
 * Streams text through gzip into one object. Small objects (under one part) are a single PUT; larger ones a
 * multipart upload whose parts are sent as they fill, so memory stays at about one part whatever the size.
 * Either way the object appears whole or not at all: S3 makes it visible only on PutObject or
 * CompleteMultipartUpload, and a failure or cancellation aborts the multipart upload.
 */
export class GzipObjectWriter {
  /** Created when the input outgrows ONE_CALL_BYTES; until then the input waits in `held`. */
  private gzip: Gzip | undefined;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private readonly hash = createHash('sha256');
  private readonly partSize: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private bytes = 0;
  private uploadId: string | undefined;
  private readonly parts: { PartNumber: number; ETag: string }[] = [];
  /** With deferHead: the first part's bytes, uploaded as part 1 behind the head at the end. */
  private heldFirst: Buffer | undefined;
  private consumer: Promise<void> | undefined;
  private failed: Error | undefined;
  private aborted = false;

  constructor(
    private readonly bucket: OpenBucket,
    readonly key: string,
    private readonly options: ObjectWriterOptions = {},
  ) {
    this.partSize = Math.max(options.partSize ?? DEFAULT_PART_SIZE, 5 * 1024 * 1024);
  }

  /** Writes one chunk of text or bytes, waiting when gzip or S3 is behind. */
  async write(data: string | Buffer): Promise<void> {
    this.throwIfFailed();
    // After abort() nothing is uploaded any more: a late write (an archiver's pipe still draining) goes nowhere.
    if (this.aborted) return;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (!this.gzip && this.heldBytes + bytes.length <= ONE_CALL_BYTES) {
      this.held.push(bytes);
      this.heldBytes += bytes.length;
      return;
    }
    const gzip = this.startStream();
    if (!gzip.write(bytes)) {
      await Promise.race([once(gzip, 'drain'), this.consumer]);
      this.throwIfFailed();
    }
  }

  /** The gzip stream, fed first with what was held. */
  private startStream(): Gzip {
    if (this.gzip) return this.gzip;
    const gzip = createGzip({ level: 6 });
    this.gzip = gzip;
    this.consumer = this.consume(gzip).catch((err: unknown) => {
      this.failed = err instanceof Error ? err : new Error(String(err));
      gzip.destroy();
    });
    if (this.heldBytes > 0) gzip.write(Buffer.concat(this.held, this.heldBytes));
    this.held = [];
    this.heldBytes = 0;
    return gzip;
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

  /** Ends the object; `head` (only with deferHead) goes in front of everything written. */
  async finish(head?: Buffer): Promise<WrittenObject> {
    this.throwIfFailed();
    if (head && !this.options.deferHead) throw new Error('a head can only be given to a writer made with deferHead');
    if (this.gzip) {
      this.gzip.end();
      await this.consumer;
      this.throwIfFailed();
    } else {
      // Small: the whole input compressed in one call, as the stream would have compressed it.
      const gz = gzipSync(Buffer.concat(this.held, this.heldBytes), { level: 6 });
      this.held = [];
      this.heldBytes = 0;
      if (!this.options.deferHead) this.hash.update(gz);
      this.bytes += gz.length;
      this.pending.push(gz);
      this.pendingBytes += gz.length;
    }
    const headGz = head ? gzipSync(head) : Buffer.alloc(0);
    const multipart = this.uploadId !== undefined;
    let sha256: string | undefined;
    if (multipart) {
      await this.flushPart();
      if (this.options.deferHead) {
        await this.uploadPart(1, Buffer.concat([headGz, this.heldFirst ?? Buffer.alloc(0)]));
        this.parts.sort((a, b) => a.PartNumber - b.PartNumber);
      } else {
        sha256 = this.hash.digest('hex');
      }
      await this.bucket.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.parts },
        }),
        { abortSignal: this.options.signal },
      );
    } else {
      const body = Buffer.concat([headGz, ...(this.heldFirst ? [this.heldFirst] : []), ...this.pending]);
      sha256 = this.options.deferHead ? createHash('sha256').update(body).digest('hex') : this.hash.digest('hex');
      await this.bucket.client.send(
        new PutObjectCommand({
          Bucket: this.bucket.bucket,
          Key: this.key,
          Body: body,
          ContentType: 'application/gzip',
        }),
        { abortSignal: this.options.signal },
      );
    }
    return {
      key: this.key,
      bytes: this.bytes + headGz.length,
      sha256,
      multipart,
      parts: this.parts.length,
    };
  }

  /** Stops writing and removes any uploaded parts; safe to call more than once. */
  async abort(): Promise<void> {
    this.aborted = true;
    this.held = [];
    this.heldBytes = 0;
    this.gzip?.destroy();
    await this.consumer;
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    if (uploadId) await abortUpload(this.bucket, this.key, uploadId);
  }

  private async consume(gzip: Gzip): Promise<void> {
    for await (const chunk of gzip as AsyncIterable<Buffer>) {
      if (!this.options.deferHead) this.hash.update(chunk);
      this.bytes += chunk.length;
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes >= this.partSize) await this.flushPart();
    }
  }

  private async flushPart(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const body = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.options.deferHead && this.heldFirst === undefined) {
      this.heldFirst = body;
      return;
    }
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
    // With a deferred head, part 1 is the held first part (sent last); the others follow it.
    await this.uploadPart(this.parts.length + (this.options.deferHead ? 2 : 1), body);
  }

  private async uploadPart(partNumber: number, body: Buffer): Promise<void> {
    const part = await this.bucket.client.send(
      new UploadPartCommand({
        Bucket: this.bucket.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        PartNumber: partNumber,
        Body: body,
      }),
      { abortSignal: this.options.signal },
    );
    this.parts.push({ PartNumber: partNumber, ETag: part.ETag ?? '' });
    this.options.onProgress?.({ uploadId: this.uploadId, parts: this.parts.length, bytes: this.bytes });
  }

  private throwIfFailed(): void {
    if (this.failed !== undefined) throw this.failed;
  }
}
