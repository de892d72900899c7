import { ActivityFailure, ApplicationFailure, isCancellation, setCurrentDetails } from '@temporalio/workflow';
import { chunkLong, dbShort, failureMessage } from './activity-profiles';
import {
  ExportErrorType,
  validateChunkInput,
  type ChunkExportInput,
  type ChunkExportResult,
} from '../../contracts/offline-export';

/**
 * A run of consecutive portables of an offline export, exported by one activity: the permission re-check, the
 * relation rows, and every relation of every portable, at most maxConcurrentRelations at once. If the activity
 * gives up for good, what it left unfinished is failed with its error, so the export completes with them failed.
 */
export async function OfflineExportChunkWorkflow(input: ChunkExportInput): Promise<ChunkExportResult> {
  const problem = validateChunkInput(input);
  if (problem)
    throw ApplicationFailure.create({ type: ExportErrorType.InvalidInput, message: problem, nonRetryable: true });
  const { exportId, afterSelfId, lastSelfId } = input;
  setCurrentDetails(
    `Exporting the portables of offline export ${exportId} with 'self' rows ${afterSelfId + 1} to ${lastSelfId}, ` +
      `${input.maxConcurrentRelations} relations at once (the running activity's heartbeat shows its open uploads)`,
  );
  let result: ChunkExportResult;
  try {
    result = await chunkLong.exportPortableChunk(input);
  } catch (err) {
    if (isCancellation(err)) throw err;
    // A chunk of no export, or of bounds the activity refuses, is the caller's mistake: fail with its words.
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (
      cause instanceof ApplicationFailure &&
      (cause.type === ExportErrorType.ExportNotFound || cause.type === ExportErrorType.InvalidInput)
    ) {
      throw ApplicationFailure.create({ type: cause.type, message: cause.message, nonRetryable: true });
    }
    result = await dbShort.failPortableChunk({ exportId, afterSelfId, lastSelfId, error: failureMessage(err) });
  }
  setCurrentDetails(
    `**Done**: ${result.portablesFinished} portables exported, ${result.portablesFailed} failed; ` +
      `${result.relationsFinished} relations finished, ${result.relationsFailed} failed; ` +
      `${result.recordsWritten} records in ${result.objectsWritten} objects, ${result.bytesWritten} bytes`,
  );
  return result;
}
