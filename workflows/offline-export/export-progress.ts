import type { ChunkExportResult, OfflineExportProgress, ProgressTotals } from '../../contracts/offline-export';

// The export's progress as the query answers it and the Web UI shows it. Pure: no Temporal calls, so it is
// unit-tested without a server.

/** A finished chunk's counts added to the export's. */
export function addTotals(totals: ProgressTotals, r: ChunkExportResult): void {
  totals.portablesFinished += r.portablesFinished;
  totals.portablesFailed += r.portablesFailed;
  totals.relationsFinished += r.relationsFinished;
  totals.relationsFailed += r.relationsFailed;
  totals.objectsWritten += r.objectsWritten;
  totals.bytesWritten += r.bytesWritten;
  totals.recordsWritten += r.recordsWritten;
}

export const formatBytes = (n: number): string =>
  n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;

export function newProgress(exportId: number, run: number): OfflineExportProgress {
  return {
    exportId,
    phase: 'loading',
    run,
    portables: { total: 0, pending: 0, running: 0, finished: 0, failed: 0 },
    relations: { finished: 0, failed: 0 },
    objectsWritten: 0,
    bytesWritten: 0,
    recordsWritten: 0,
    running: [],
  };
}

/** Brings the progress up to date with the totals and the chunks in flight (workflow id -> portables). */
export function updateProgress(
  progress: OfflineExportProgress,
  t: ProgressTotals,
  inFlight: ReadonlyMap<string, number>,
): void {
  const running = [...inFlight.values()].reduce((a, b) => a + b, 0);
  progress.portables = {
    total: t.portablesTotal,
    running,
    finished: t.portablesFinished,
    failed: t.portablesFailed,
    pending: Math.max(0, t.portablesTotal - t.portablesFinished - t.portablesFailed - running),
  };
  progress.relations = { finished: t.relationsFinished, failed: t.relationsFailed };
  progress.objectsWritten = t.objectsWritten;
  progress.bytesWritten = t.bytesWritten;
  progress.recordsWritten = t.recordsWritten;
  progress.running = [...inFlight.keys()];
}

/** The Markdown the Web UI shows as the workflow's current details. */
export function progressDetails(progress: OfflineExportProgress): string {
  const p = progress.portables;
  return (
    `**${progress.phase}** (run ${progress.run})\n\n` +
    `- portables: ${p.finished + p.failed} of ${p.total} done (${p.failed} failed), ${p.running} running\n` +
    `- relations: ${progress.relations.finished} finished, ${progress.relations.failed} failed\n` +
    `- written: ${progress.recordsWritten} records in ${progress.objectsWritten} objects, ${formatBytes(progress.bytesWritten)}`
  );
}

/**
 * Portables the next chunk may take: `perChunk`, except in the last round, where what is left is shared equally
 * among the window so its chunks end together. Returns the final-round size once reached (kept in the run state).
 */
export function nextChunkSize(
  left: number,
  perChunk: number,
  window: number,
  finalSize: number | undefined,
): { size: number; finalSize?: number } {
  if (finalSize !== undefined) return { size: finalSize, finalSize };
  if (left <= perChunk * window) {
    const size = Math.max(1, Math.ceil(left / window));
    return { size, finalSize: size };
  }
  return { size: perChunk };
}
