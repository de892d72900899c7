import type postgres from 'postgres';
import type { PortableType } from '../../../contracts/offline-export';
import type { Db } from '../../sql';

/** Inclusive id range of one batch; fixed when the batch row is created so a retry re-reads the same rows. */
export interface IdRange {
  first: number;
  last: number;
}

/**
 * The portable a relation's query reads: its id, or (chunkLines) the column of a query over many portables that
 * holds it, a fragment the query text takes where it would take the id.
 */
export type PortableKey = number | postgres.PendingQuery<postgres.Row[]>;

export type LineQuery = postgres.PendingQuery<{ line: string }[]>;
/** A batched relation's lines carry their record's id, so a relation streamed whole knows its batch's id range. */
export type IdLineQuery = postgres.PendingQuery<{ line: string; id: number }[]>;

/**
 * One exported relation: PostgreSQL builds every record as JSON text (allow-listed attributes and nested
 * sub-relations, like GitLab's import_export.yml), so no row object crosses into JavaScript.
 */
interface SourceBase {
  portable: PortableType;
  relation: string;
  /**
   * 'tar': a file relation (uploads, lfs_objects, repository, wiki, design) written as <relation>.tar.gz; each line
   * describes one file to archive, and the activity's archiver for the relation reads the files. Default 'ndjson'.
   */
  format?: 'ndjson' | 'tar';
}

/** 'self' (self.json.gz) and has_one relations (project_feature.ndjson.gz): a single file. */
export interface SingleObjectSource extends SourceBase {
  batched: false;
  lines: (sql: Db, portableId: PortableKey) => LineQuery;
}

/** has_many relations, batched (GitLab: BatchedRelationExportService) into <relation>/batch_<n>.ndjson.gz. */
export interface BatchedSource extends SourceBase {
  batched: true;
  /** A query selecting the column `id` of every record of this portable. */
  ids: (sql: Db, portableId: number) => postgres.PendingQuery<{ id: number }[]>;
  /** One `line` (and its record's `id`) per record, ordered by id; limited to `range` for a batch. */
  lines: (sql: Db, portableId: PortableKey, range?: IdRange) => IdLineQuery;
}

export type RelationSource = SingleObjectSource | BatchedSource;
