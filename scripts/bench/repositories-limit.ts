import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_PART_SIZE } from '../../activities/offline-export/object-writer';
import type { StoragePaths } from '../../contracts/config';
import type { Sql } from '../../db/sql';

// The practical limit for the repository relations: `git bundle create - --all | gzip -6` of every repository the
// export bundles (each project's repository, wiki and design repository that exists on disk), with as many at once
// as the export runs relations, measured twice: gzip's output dropped (a stricter limit than the export's work,
// which must also upload every byte), and uploaded to the bucket with the same client and part size as the export's
// writer (one PUT per repository, multipart above 8 MiB): the fair limit for a pipeline that ends in the bucket.
// git and gzip -6 are what the export's archiver and writer stand for (git's bundle into Node's zlib at level 6).

/** The relations whose objects are Git bundles. */
export const BUNDLE_RELATIONS = ['repository', 'wiki', 'design'];

const SUFFIXES = ['', '.wiki', '.design'];

export interface RepositoriesLimitResult {
  ms: number;
  repositories: number;
  /** Size of the gzipped bundles. */
  gzipBytes: number;
  /** The largest single one (the streaming benchmark's repository). */
  largestGzipBytes: number;
}

/** The bare repositories of every project's repository row that exist on disk, as the bundle archiver finds them. */
export async function bundledRepositories(sql: Sql, storage: StoragePaths): Promise<string[]> {
  const rows = await sql<{ disk_path: string }[]>`select disk_path from project_repositories order by project_id`;
  const dirs: string[] = [];
  for (const { disk_path: diskPath } of rows) {
    for (const suffix of SUFFIXES) {
      const gitDir = join(storage.repositories, `${diskPath}${suffix}.git`);
      if ((await stat(gitDir).catch(() => undefined))?.isDirectory()) dirs.push(gitDir);
    }
  }
  return dirs;
}

/** Where the limit's output goes: nowhere (counted), or a PUT to the bucket (multipart above one part). */
export interface LimitUpload {
  s3: S3Client;
  bucket: string;
  prefix: string;
}

/** Uploads a stream as the export's writer does (8 MiB parts, one PUT when smaller); returns its size. */
async function putStream(upload: LimitUpload, key: string, stream: AsyncIterable<Buffer>): Promise<number> {
  const target = { Bucket: upload.bucket, Key: key };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  let uploadId: string | undefined;
  const parts: { PartNumber: number; ETag: string }[] = [];
  const flush = async () => {
    uploadId ??= (await upload.s3.send(new CreateMultipartUploadCommand(target))).UploadId;
    const PartNumber = parts.length + 1;
    const body = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    const { ETag } = await upload.s3.send(
      new UploadPartCommand({ ...target, UploadId: uploadId, PartNumber, Body: body }),
    );
    parts.push({ PartNumber, ETag: ETag ?? '' });
  };
  for await (const chunk of stream) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    total += chunk.length;
    if (pendingBytes >= DEFAULT_PART_SIZE) await flush();
  }
  if (uploadId === undefined) {
    await upload.s3.send(new PutObjectCommand({ ...target, Body: Buffer.concat(pending) }));
  } else {
    if (pendingBytes > 0) await flush();
    await upload.s3.send(
      new CompleteMultipartUploadCommand({ ...target, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
    );
  }
  return total;
}

/**
 * `git bundle create - --all | gzip -6`, two processes and no shell between them (git's stdout pipe is gzip's
 * stdin); gzip's output is counted, or uploaded with `upload`. Returns the gzipped size.
 */
function bundleThroughGzip(gitDir: string, upload: LimitUpload | undefined, key: string): Promise<number> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  // stdin ignored: a stdin pipe nobody writes cost ~140 ms per child here before 'close' (measured with `true`).
  const git = spawn('git', ['--git-dir', gitDir, 'bundle', 'create', '--quiet', '-', '--all'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const gzip = spawn('gzip', ['-6'], { stdio: [git.stdout, 'pipe', 'ignore'], env });
  git.stdout.destroy(); // gzip holds the pipe now; this process's end would keep git's 'close' from ever coming
  const exit = (child: ChildProcess) =>
    new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
  let err = '';
  git.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const output = gzip.stdout as AsyncIterable<Buffer>;
  const consumed = upload
    ? putStream(upload, key, output)
    : (async () => {
        let n = 0;
        for await (const chunk of output) n += chunk.length;
        return n;
      })();
  return Promise.all([exit(git), exit(gzip), consumed]).then(([gitCode, gzipCode, gzipBytes]) => {
    if (gitCode !== 0 || gzipCode !== 0)
      throw new Error(`git bundle | gzip of ${gitDir} failed (git ${gitCode}, gzip ${gzipCode}): ${err.slice(-500)}`);
    return gzipBytes;
  });
}

/** Times every repository through `git bundle | gzip -6` (and a PUT with `upload`), `lanes` at once. */
export async function repositoriesLimit(
  gitDirs: string[],
  lanes: number,
  upload?: LimitUpload,
): Promise<RepositoriesLimitResult> {
  const result: RepositoriesLimitResult = {
    ms: 0,
    repositories: gitDirs.length,
    gzipBytes: 0,
    largestGzipBytes: 0,
  };
  const started = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < gitDirs.length) {
      const i = next++;
      const gzipBytes = await bundleThroughGzip(gitDirs[i]!, upload, `${upload?.prefix}/${i + 1}.bundle.gz`);
      result.gzipBytes += gzipBytes;
      result.largestGzipBytes = Math.max(result.largestGzipBytes, gzipBytes);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, gitDirs.length)) }, lane));
  result.ms = Date.now() - started;
  return result;
}
