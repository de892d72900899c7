import type { PortableType } from '../../../contracts/offline-export';
import type { Db } from '../../sql';

// The contract between the import's batch runner (activities/offline-import) and the relation loaders: the runner
// reads and parses one object (a batch) before any transaction, opens the batch transaction, calls the relation's
// loader with the batch's records, and commits the loader's rows with the batch's status in that one transaction.
// A loader writes only through `tx`, never commits, and never reads the bucket or the source instance.

/** Where a batch lands: the entity, its destination portable and what user mapping needs. Ids only. */
export interface ImportTarget {
  importId: number;
  entityId: number;
  portable: PortableType;
  /** namespaces.id of the destination group, or projects.id of the destination project (set by `self`). */
  destinationId: number;
  /** The destination's top-level group the import's source users belong to (GitLab: the root namespace). */
  rootNamespaceId: number;
  /** The id the portable had on the source instance (group_5 → 5). */
  sourceId: number;
  /** source_hostname from metadata.json.gz: part of every source user's identity. */
  sourceHostname: string;
  /** The user who started the import (bulk_imports.user_id). */
  importerUserId: number;
  /** The batch tracker the rows are written under (failures reference it). */
  batchTrackerId: number;
}

/**
 * A record (or one of its sub-records) that could not be saved: the batch goes on, a bulk_import_failures row is
 * written in the same transaction (GitLab's per-entry failure: exception_class 'ActiveRecord::RecordInvalid').
 */
export interface RecordFailure {
  /** The sub-relation's class name when a nested record failed ('Note', 'LabelLink'), else undefined. */
  subrelation?: string;
  exceptionClass: string;
  message: string;
  /** A human title of the record (an issue's title), truncated to 255 by the writer. */
  sourceTitle?: string;
  /** 0-based line of the record in its object. */
  lineIndex?: number;
}

export interface LoadResult {
  /** Records of the batch that were saved (top-level records, as GitLab's imported_objects_count). */
  imported: number;
  failures: RecordFailure[];
}

/** One NDJSON relation's loader. `records` are the batch's parsed lines in order (objects, not yet validated). */
export interface TableLoader {
  portable: PortableType;
  relation: string;
  load(tx: Db, target: ImportTarget, records: readonly unknown[]): Promise<LoadResult>;
}
