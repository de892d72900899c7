import {
  allHandlersFinished,
  condition,
  continueAsNew,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { SA_EXPORT_STATUS, type OfflineExportProgress, type OfflineExportResume } from '../../contracts/offline-export';
import { bucketShort, dbShort } from './activity-profiles';
import type { ChunkWindow } from './chunk-window';
import type { OfflineExportWorkflow } from './export.workflow';
import { nextChunkSize } from './export-progress';

/**
 * The chunks, a window of them at a time, continuing as new every chunksPerRun chunks; then the completion
 * (metadata, final status). Returns how the export completed.
 */
export async function exportChunks(
  exportId: number,
  s: OfflineExportResume,
  w: ChunkWindow,
  show: (s: OfflineExportResume, phase?: OfflineExportProgress['phase']) => void,
): Promise<Awaited<ReturnType<typeof bucketShort.completeExport>>> {
  const { portablesPerChunk, maxConcurrentChunks, chunksPerRun } = s.limits;
  for (let chunksThisRun = 0; ; chunksThisRun++) {
    if (chunksThisRun >= chunksPerRun || workflowInfo().continueAsNewSuggested) {
      // Drain the window so no child is left behind, then start afresh with only the cursor and counters.
      await w.drain();
      await condition(allHandlersFinished);
      return continueAsNew<typeof OfflineExportWorkflow>({ exportId, resume: { ...s, run: s.run + 1 } });
    }
    // Planned while the window is still full, so the next chunk starts the moment a slot frees.
    const left = s.totals.portablesTotal - s.portablesHandedOut;
    const { size, finalSize } = nextChunkSize(left, portablesPerChunk, maxConcurrentChunks, s.finalChunkSize);
    s.finalChunkSize = finalSize;
    const chunk = await dbShort.nextPortableChunk({ exportId, afterSelfId: s.afterSelfId, maxPortables: size });
    if (!chunk) break;
    await w.start(chunk, maxConcurrentChunks);
    s.afterSelfId = chunk.lastSelfId;
    s.portablesHandedOut += chunk.portables;
    show(s);
  }
  await w.drain();

  show(s, 'completing');
  const outcome = await bucketShort.completeExport({ exportId });
  upsertSearchAttributes([{ key: SA_EXPORT_STATUS, value: outcome.status }]);
  return outcome;
}
