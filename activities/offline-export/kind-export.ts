import { log } from '@temporalio/activity';
import { chunkLines, type ChunkLine } from '../../db/offline-export/relations/chunk-lines';
import type { RelationSource } from '../../db/offline-export/relations/index';
import type { ExportRow, WholeRelationOutcome } from '../../db/offline-export/tracking';
import type { PortableType } from '../../contracts/offline-export';
import type { OpenBucket } from './bucket';
import { batchKey, relationKey } from './object-keys';
import { GzipObjectWriter } from './object-writer';
import { CURSOR_ROWS, type RelationExportDeps, type RelationHeartbeat } from './relation-export';

/**
 * One relation of several portables of a chunk (each row PENDING, never cut into batches), read by one query and
 * written as each portable's own object, exactly the object its own export would write: the same lines in the same
 * order, the same key. Each object is handed to recordWhole as it is written, as the per-relation path does.
 */
export interface KindExport {
  portableType: PortableType;
  relation: string;
  source: RelationSource;
  /** The rows, one per portable, in the order their lines are read. */
  rows: ExportRow[];
  bucket: OpenBucket;
  signal: AbortSignal;
  /** Progress of one row's object (its multipart upload, for the chunk's heartbeat). */
  beat: (rowId: number, details: RelationHeartbeat) => void;
  /** One row's object is written, aborted or not needed: its upload is no longer open. */
  settled: (rowId: number) => void;
  recordWhole: (outcome: WholeRelationOutcome) => void | Promise<void>;
}

/** What is left for the per-relation path: from the first relation larger than a batch on, or every row on failure. */
export interface KindExportResult {
  /** Rows recorded (handed to recordWhole). */
  written: number;
  left: ExportRow[];
  error?: unknown;
}

const portableOf = (row: ExportRow) => (row.groupId ?? row.projectId)!;

/**
 * Exports a relation of many portables with one query instead of one per portable: the rows stream in portable
 * order and are split into each portable's object as they come. A batched relation holding more than one batch
 * stops the query: its object is aborted (nothing visible), and it and the rows after it are left to the
 * per-relation path, which cuts its batches.
 *
 * The objects are recorded only once the query has ended in order: should a portable's lines ever come back after
 * another's (the plan is a nested loop in the order of the ids, so they should not), the error is seen then, and no
 * row was recorded from an object that missed lines. A failure leaves every row to the per-relation path (its
 * retries and FAILED rows as before), which writes the same keys again; objects already written stay invisible to
 * the export's rows until then. Only an attempt that is stopping (the signal) throws.
 */
export function createKindExporter(deps: RelationExportDeps) {
  const cursorRows = deps.cursorRows ?? CURSOR_ROWS;

  return async function exportKind(run: KindExport): Promise<KindExportResult> {
    const { portableType, relation, source, rows, bucket, signal } = run;
    if (source.format === 'tar') throw new Error(`${relation} is a file relation: its archiver reads one portable`);
    const left: ExportRow[] = [];
    const outcomes: WholeRelationOutcome[] = [];
    const index = new Map(rows.map((row, i) => [portableOf(row), i]));
    // The row whose lines are being read (index into rows) and its object, opened at its first line.
    let at = -1;
    let writer: GzipObjectWriter | undefined;
    let records = 0;
    let firstId: number | undefined;
    let lastId: number | undefined;
    let overflow = false;

    const keyOf = (row: ExportRow) =>
      source.batched
        ? batchKey(bucket.exportPrefix, portableType, portableOf(row), relation, 1, source.format)
        : relationKey(bucket.exportPrefix, portableType, portableOf(row), relation, source.format);

    const open = (row: ExportRow) => {
      const key = keyOf(row);
      let uploadId: string | undefined;
      writer = new GzipObjectWriter(bucket, key, {
        signal,
        partSize: deps.partSize,
        onProgress: (p) => {
          uploadId = p.uploadId;
          run.beat(row.id, { key, uploadId, parts: p.parts, records });
        },
      });
      return writer;
    };

    /** Ends the current row: its object written (or none: an empty batched relation) and recorded. */
    const close = async () => {
      const row = rows[at]!;
      if (source.batched && records === 0) {
        // No record: no batch and no object, as the per-relation path records it.
        outcomes.push({ rowId: row.id, batched: true, records: 0, bytes: 0 });
      } else {
        // A single-object relation with no line is still its (empty) object.
        const object = await (writer ?? open(row)).finish();
        outcomes.push({
          rowId: row.id,
          batched: source.batched,
          records,
          bytes: object.bytes,
          objectKey: object.key,
          sha256: object.sha256,
          firstId,
          lastId,
        });
      }
      run.settled(row.id);
      writer = undefined;
      records = 0;
      firstId = undefined;
      lastId = undefined;
    };

    /** Moves to the row of `portableId`, ending every row before it (those have no line at all). */
    const advanceTo = async (portableId: number) => {
      const to = index.get(portableId);
      if (to === at) return;
      if (to === undefined || to < at) throw new Error(`the ${relation} lines came back out of portable order`);
      for (; at < to; at++) if (at >= 0) await close();
    };

    const write = async (portableLines: ChunkLine[]) => {
      if (source.batched && records + portableLines.length > deps.batchSize) {
        overflow = true;
        return;
      }
      await (writer ?? open(rows[at]!)).writeLines(portableLines.map((l) => l.line));
      records += portableLines.length;
      firstId ??= portableLines[0]!.id;
      lastId = portableLines[portableLines.length - 1]!.id;
      run.beat(rows[at]!.id, { key: writer!.key, records });
    };

    try {
      const ids = rows.map(portableOf);
      const query = chunkLines(deps.sql, source, ids, source.batched ? deps.batchSize + 1 : undefined);
      read: for await (const page of query.cursor(cursorRows)) {
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('activity cancelled');
        // The page's lines, one run per portable.
        for (let from = 0; from < page.length;) {
          const portableId = page[from]!.portableId;
          let to = from + 1;
          while (to < page.length && page[to]!.portableId === portableId) to++;
          await advanceTo(portableId);
          await write(page.slice(from, to));
          if (overflow) break read;
          from = to;
        }
      }
      if (overflow) {
        // A relation larger than a batch: the ones after it may be too, and the per-relation path exports those in
        // parallel (cutting batches) rather than one after the other here. The query stops; this row and the rest
        // go there, the ones before it are done.
        await writer?.abort();
        writer = undefined;
        left.push(...rows.slice(at));
        for (const row of rows.slice(at)) run.settled(row.id);
      } else {
        // The current row and every row after it that had no line.
        if (at >= 0) await close();
        for (at++; at < rows.length; at++) await close();
      }
    } catch (err) {
      if (writer) {
        await writer.abort().catch((abortErr: unknown) => {
          log.warn('could not abort upload', { key: writer?.key, error: String(abortErr) });
        });
      }
      if (at >= 0 && at < rows.length) run.settled(rows[at]!.id);
      if (signal.aborted) throw err;
      return { written: 0, left: rows, error: err };
    }
    for (const outcome of outcomes) await run.recordWhole(outcome);
    return { written: outcomes.length, left };
  };
}
