import type postgres from 'postgres';
import type { Db } from '../../sql';
import type { RelationSource } from './types';

/** One line of one portable's relation, from a query over many portables. */
export interface ChunkLine {
  portableId: number;
  line: string;
  /** The record's id (batched relations only). */
  id?: number;
}

/**
 * One relation of many portables in one query: for each portable, in the order given, exactly the lines its own
 * query (`source.lines(sql, id)`) returns, in the same order. The relation's SQL is the same text, the portable's id
 * taken from the outer row: a LATERAL subquery per portable. The subquery holds a LIMIT, so PostgreSQL never folds
 * it into a join: the plan is a nested loop over the ids, one portable's lines after the other, each in its
 * query's own ORDER BY. With `maxPerPortable`, at most that many lines of each portable come back (a batched
 * relation read whole needs one more line than a batch to know it is larger).
 */
export function chunkLines(
  sql: Db,
  source: RelationSource,
  portableIds: readonly number[],
  maxPerPortable?: number,
): postgres.PendingQuery<ChunkLine[]> {
  const lines = source.lines(sql, sql`k.portable_id`);
  return sql<ChunkLine[]>`
    select k.portable_id as "portableId", l.*
    from unnest(${portableIds as number[]}::bigint[]) with ordinality as k(portable_id, ord)
    cross join lateral (select * from (${lines}) r limit ${maxPerPortable ?? null}) l`;
}
