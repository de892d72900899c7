import { ChildWorkflowFailure, ParentClosePolicy, condition, isCancellation, startChild } from '@temporalio/workflow';
import {
  SA_GITLAB_USER_ID,
  SA_OFFLINE_EXPORT_ID,
  SA_WORKFLOW_KIND,
  WORKFLOW_KIND_CHUNK,
  chunkWorkflowId,
  emptyTotals,
  type ChunkExportResult,
  type PortableChunk,
} from '../../contracts/offline-export';
import { OfflineExportChunkWorkflow } from './chunk.workflow';

/**
 * The chunk children in flight (a sliding window): each chunk's result, or its failure as a whole, is reported to
 * `onDone`; children never outlive the export (they are cancelled with it, and drained before continue-as-new).
 */
export class ChunkWindow {
  /** Workflow id -> portables of each running chunk. */
  readonly running = new Map<string, number>();

  constructor(
    private readonly context: { exportId: number; userId: number; maxConcurrentRelations: number },
    private readonly onDone: (result: ChunkExportResult) => void,
  ) {}

  get size(): number {
    return this.running.size;
  }

  /** Waits for a free slot among `window`, then starts the chunk's child. */
  async start(chunk: PortableChunk, window: number): Promise<void> {
    await condition(() => this.running.size < window);
    const { exportId, userId, maxConcurrentRelations } = this.context;
    const workflowId = chunkWorkflowId(exportId, chunk.firstSelfId, chunk.lastSelfId);
    this.running.set(workflowId, chunk.portables);
    void (async () => {
      let result: ChunkExportResult | undefined;
      try {
        const child = await startChild(OfflineExportChunkWorkflow, {
          workflowId,
          args: [{ exportId, afterSelfId: chunk.afterSelfId, lastSelfId: chunk.lastSelfId, maxConcurrentRelations }],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          staticSummary: `Export ${chunk.portables} portables, ${chunk.firstPath} to ${chunk.lastPath} (offline export ${exportId})`,
          typedSearchAttributes: [
            { key: SA_OFFLINE_EXPORT_ID, value: exportId },
            { key: SA_GITLAB_USER_ID, value: userId },
            { key: SA_WORKFLOW_KIND, value: WORKFLOW_KIND_CHUNK },
          ],
        });
        result = await child.result();
      } catch (err) {
        // A chunk that failed as a whole is counted failed here; completeExport fails the rows it left in progress.
        if (!(err instanceof ChildWorkflowFailure && isCancellation(err.cause))) result = failedChunk(chunk.portables);
      } finally {
        this.running.delete(workflowId);
      }
      if (result) this.onDone(result);
    })();
  }

  /** Resolves once no chunk is running. */
  drain(): Promise<void> {
    return condition(() => this.running.size === 0);
  }
}

/** A chunk that failed as a whole: all its portables failed, nothing counted as written. */
function failedChunk(portables: number): ChunkExportResult {
  const { portablesTotal: _total, ...nothing } = emptyTotals();
  return { ...nothing, portablesFailed: portables };
}
