import { log } from '@temporalio/activity';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { insideStorage, unsafeSource, type ArchiveContext, type Archiver, type ArchiverSpec } from './archiver';
import { TAR_END, tarHeader, tarPadding } from './tar';

/** One upload as the uploads source query describes it. */
interface UploadLine {
  id: number;
  path: string;
  secret: string | null;
  uploader: string;
  base: string;
}

/**
 * Streams one file into the archive as `name`, exactly the size stat gave: a file that changes while it is read
 * fails the attempt (retried) rather than writing an entry whose header lies. Returns false when the file is gone.
 */
export async function archiveFile(context: ArchiveContext, path: string, name: string): Promise<boolean> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!info?.isFile()) return false;
  await context.sink.write(tarHeader({ name, size: info.size, mtime: Math.floor(info.mtimeMs / 1000) }));
  let written = 0;
  // The abort signal is checked per chunk rather than given to the stream: twenty lanes' streams on one signal
  // would each add a listener to it.
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
    if (context.signal.aborted) throw new Error('archiving stopped: the attempt was cancelled');
    written += (chunk as Buffer).length;
    if (written > info.size) break;
    await context.sink.write(chunk as Buffer);
  }
  if (written !== info.size) throw new Error(`${path} changed size while it was archived`);
  await context.sink.write(tarPadding(info.size));
  return true;
}

/**
 * GitLab's UploadsExportService layout: each file under a directory named after its upload's secret, or `avatar/`
 * for the avatar. A file missing on disk is skipped with a warning, as GitLab does; a path that leaves the uploads
 * storage (or a secret that is not a plain name) fails the relation.
 */
export const uploadsArchiver: ArchiverSpec = {
  deferHead: false,
  create(context: ArchiveContext): Archiver {
    return {
      async add(lines) {
        let entries = 0;
        for (const line of lines) {
          const upload = JSON.parse(line) as UploadLine;
          const what = `upload ${upload.id}`;
          // Each part checked as stored: joined first, a path's ".." could cancel out against the base's names.
          insideStorage(context.storage.uploads, upload.path, what);
          const file = insideStorage(context.storage.uploads, posix.join(upload.base || '.', upload.path), what);
          const dir = upload.uploader === 'AvatarUploader' ? 'avatar' : (upload.secret ?? '');
          if (dir.includes('/') || dir === '..' || dir === '.') throw unsafeSource(`${what} has an unusable secret`);
          const name = `./${dir ? `${dir}/` : ''}${posix.basename(upload.path)}`;
          if (await archiveFile(context, file, name)) entries++;
          else log.warn('upload file missing; skipped', { uploadId: upload.id, relation: context.relation });
        }
        return entries;
      },
      async end() {
        await context.sink.write(TAR_END);
        return undefined;
      },
    };
  },
};
