import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { chunkLong, dbShort, failureMessage } from './activity-profiles';
import {
  CHUNK_PORTABLE_INDEX_PATCH,
  ExportErrorType,
  SA_PORTABLE_FULL_PATHS,
  chunkPortableStatus,
  keywordListWithin,
  offlineExportChunkStatusQuery,
  validateChunkInput,
  type ChunkExportInput,
  type ChunkExportResult,
  type ChunkPortable,
  type OfflineExportChunkStatus,
} from '../../contracts/offline-export';

/**
 * A run of consecutive portables of an offline export, exported by one activity: the permission re-check, the
 * relation rows, and every relation of every portable, at most maxConcurrentRelations at once. If the activity
 * gives up for good, what it left unfinished is failed with its error, so the export completes with them failed.
 *
 * Since CHUNK_PORTABLE_INDEX_PATCH it also reads its portables before and after the export: their full paths go into
 * the PortableFullPaths search attribute (`PortableFullPaths = "group/project"` finds this child), and
 * offlineExportChunkStatusQuery answers with each one's status.
 */
export async function OfflineExportChunkWorkflow(input: ChunkExportInput): Promise<ChunkExportResult> {
  const problem = validateChunkInput(input);
  if (problem)
    throw ApplicationFailure.create({ type: ExportErrorType.InvalidInput, message: problem, nonRetryable: true });
  const { exportId, afterSelfId, lastSelfId } = input;
  const status: OfflineExportChunkStatus = {
    exportId,
    afterSelfId,
    lastSelfId,
    phase: 'loading',
    portables: [],
    pathsIndexed: 0,
  };
  setHandler(offlineExportChunkStatusQuery, () => status);
  const indexed = patched(CHUNK_PORTABLE_INDEX_PATCH);
  if (indexed) {
    const portables = await readPortables(input);
    if (portables) {
      show(status, portables, true);
      // Paths are names, not secrets; as many as fit Temporal's value limit (all, for chunks of ordinary paths).
      const paths = keywordListWithin(portables.map((p) => p.fullPath).filter((p) => p !== ''));
      status.pathsIndexed = paths.length;
      upsertSearchAttributes([{ key: SA_PORTABLE_FULL_PATHS, value: paths }]);
    }
  }
  status.phase = 'exporting';
  setCurrentDetails(
    `Exporting the portables of offline export ${exportId} with 'self' rows ${afterSelfId + 1} to ${lastSelfId}, ` +
      `${input.maxConcurrentRelations} relations at once (the running activity's heartbeat shows its open uploads)`,
  );
  let result: ChunkExportResult;
  try {
    result = await chunkLong.exportPortableChunk(input);
  } catch (err) {
    if (isCancellation(err)) {
      status.phase = 'cancelled';
      throw err;
    }
    // A chunk of no export, or of bounds the activity refuses, is the caller's mistake: fail with its words.
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (
      cause instanceof ApplicationFailure &&
      (cause.type === ExportErrorType.ExportNotFound || cause.type === ExportErrorType.InvalidInput)
    ) {
      status.phase = 'failed';
      throw ApplicationFailure.create({ type: cause.type, message: cause.message, nonRetryable: true });
    }
    result = await dbShort.failPortableChunk({ exportId, afterSelfId, lastSelfId, error: failureMessage(err) });
  }
  if (indexed) {
    const portables = await readPortables(input);
    if (portables) show(status, portables, false);
  }
  status.phase = 'done';
  setCurrentDetails(
    `**Done**: ${result.portablesFinished} portables exported, ${result.portablesFailed} failed; ` +
      `${result.relationsFinished} relations finished, ${result.relationsFailed} failed; ` +
      `${result.recordsWritten} records in ${result.objectsWritten} objects, ${result.bytesWritten} bytes`,
  );
  return result;
}

/**
 * The chunk's portables, or undefined when they cannot be read (PostgreSQL away through every attempt): the index
 * and the query are for people looking, and must never fail the export's work.
 */
async function readPortables(input: ChunkExportInput): Promise<ChunkPortable[] | undefined> {
  const { exportId, afterSelfId, lastSelfId } = input;
  try {
    return await dbShort.chunkPortables({ exportId, afterSelfId, lastSelfId });
  } catch (err) {
    if (isCancellation(err)) throw err;
    return undefined;
  }
}

function show(status: OfflineExportChunkStatus, portables: ChunkPortable[], running: boolean): void {
  status.portables = portables.map((p) => ({ ...p, status: chunkPortableStatus(p, running) }));
  status.readAt = new Date(Date.now()).toISOString();
}
