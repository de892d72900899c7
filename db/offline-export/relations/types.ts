import type postgres from 'postgres';
import type { PortableType } from '../../../workflows/offline-export/definitions';
import type { Sql } from '../../sql';

/** Inclusive id range of one batch; fixed when the batch row is created so a retry re-reads the same rows. */
export interface IdRange {
  first: number;
  last: number;
}

export type LineQuery = postgres.PendingQuery<{ line: string }[]>;

/**
 * One exported relation: PostgreSQL builds every record as JSON text (allow-listed attributes and nested
 * sub-relations, like GitLab's import_export.yml), so no row object crosses into JavaScript.
 */
export interface RelationSource {
  portable: PortableType;
  relation: string;
  /**
   * has_many relations are batched (GitLab: BatchedRelationExportService) into <relation>/batch_<n>.ndjson.gz;
   * 'self' (self.json.gz) and has_one relations (project_feature.ndjson.gz) are a single file.
   */
  batched: boolean;
  /** Batched only: a query selecting the column `id` of every record of this portable. */
  ids?: (sql: Sql, portableId: number) => postgres.PendingQuery<{ id: number }[]>;
  /** One `line` per record, ordered by id; limited to `range` for a batch. */
  lines: (sql: Sql, portableId: number, range?: IdRange) => LineQuery;
}
