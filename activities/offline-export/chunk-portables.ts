import { chunkPortableSummaries } from '../../db/offline-export/chunk-portables';
import type { ChunkPortable } from '../../contracts/offline-export';
import type { Db } from '../../db/sql';

/** What the chunk child shows of its portables (paths for its search attribute, statuses for its query). */
export function createChunkPortableActivities(deps: { sql: Db }) {
  return {
    /** Each portable of a chunk with its full path and relation counts; read-only, so any retry is safe. */
    async chunkPortables(input: {
      exportId: number;
      afterSelfId: number;
      lastSelfId: number;
    }): Promise<ChunkPortable[]> {
      return chunkPortableSummaries(deps.sql, input.exportId, input.afterSelfId, input.lastSelfId);
    },
  };
}
