import { ApplicationFailure } from '@temporalio/activity';
import { isAbsolute, relative, resolve } from 'node:path';
import type { StoragePaths } from '../../../contracts/config';
import { ExportErrorType, type PortableType } from '../../../contracts/offline-export';

/** Where an archiver writes: the object's gzip stream (text or bytes, waiting when it is behind). */
export interface ArchiveSink {
  write(data: string | Buffer): Promise<void>;
}

export interface ArchiveContext {
  sink: ArchiveSink;
  storage: StoragePaths;
  signal: AbortSignal;
  portableType: PortableType;
  portableId: number;
  relation: string;
}

/** Writes one file relation's archive from the lines its source query yields. */
export interface Archiver {
  /** Archives the files these lines describe; returns how many became entries (missing files are skipped). */
  add(lines: readonly string[]): Promise<number>;
  /** Ends the archive; returns the head to put in front of everything written, for a writer made with deferHead. */
  end(): Promise<Buffer | undefined>;
}

export interface ArchiverSpec {
  /** The archive's first bytes are known only at its end (a bundle's tar header holds the bundle's size). */
  deferHead: boolean;
  create(context: ArchiveContext): Archiver;
}

/** Bad data in the source instance (a path leaving storage, a broken repository): the same on every attempt. */
export function unsafeSource(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ExportErrorType.UnsafeSourceData, message, nonRetryable: true });
}

/** `relativePath` under `root`, refused when it is absolute, climbs with "..", or resolves outside the root. */
export function insideStorage(root: string, relativePath: string, what: string): string {
  if (relativePath.includes('\0') || isAbsolute(relativePath) || relativePath.split(/[\\/]/).includes('..')) {
    throw unsafeSource(`${what} has a path that leaves its storage: ${JSON.stringify(relativePath)}`);
  }
  const full = resolve(root, relativePath);
  const rel = relative(root, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw unsafeSource(`${what} has a path that leaves its storage: ${JSON.stringify(relativePath)}`);
  }
  return full;
}
