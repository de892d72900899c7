import type { PortableType } from '../../../contracts/offline-export';
import type { StoragePaths } from '../../../contracts/config';
import type { Db } from '../../../db/sql';
import type { ImportTarget, LoadResult } from '../../../db/offline-import/loaders/types';

// The contract between the import's batch runner and the file relations (uploads, lfs_objects, repository, wiki,
// design). The runner downloads the batch's object to `archivePath` (a local .tar.gz it has checked: gzip magic,
// size cap) before any transaction. `place` then reads the archive safely (no path may leave the destination
// storage; links, devices and traversal are refused) and writes the files to their FINAL, deterministic paths
// (temp file + fsync + rename, so a retry rewrites the same bytes); `commit` inserts the rows inside the batch
// transaction. A retry after a crash runs both again: place must be idempotent, commit runs once per batch.

export interface PlacedFiles {
  /** Whatever commit needs (ids, oids, sizes, paths relative to storage): JSON-plain, small. */
  [key: string]: unknown;
}

export interface FileRelationImporter {
  portable: PortableType;
  relation: string;
  place(input: {
    archivePath: string;
    target: ImportTarget;
    storage: StoragePaths;
    /** A private directory under the destination storage for this batch's scratch files, removed by the runner. */
    scratchDir: string;
    signal: AbortSignal;
  }): Promise<PlacedFiles>;
  commit(tx: Db, target: ImportTarget, placed: PlacedFiles): Promise<LoadResult>;
}
