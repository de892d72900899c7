import { ApplicationFailure, log } from '@temporalio/activity';
import { type RelationSource } from '../../db/offline-export/relations/index';
import {
  beginBatchedRelation,
  finishBatch,
  finishBatchedRelation,
  finishBatchStartNext,
  finishLastBatch,
  startBatch,
  unfinishedBatches,
  type ExportRow,
  type WholeRelationOutcome,
} from '../../db/offline-export/tracking';
import type { Sql } from '../../db/sql';
import { type PortableType } from '../../contracts/offline-export';
import { RelationStatus } from '../../db/offline-export/statuses';
import type { StoragePaths } from '../../contracts/config';
import { archiverFor, type ArchiverSpec } from './archive/index';
import { type BucketClients, type OpenBucket } from './bucket';
import { batchKey, relationKey } from './object-keys';
import { GzipObjectWriter, type WrittenObject } from './object-writer';

export interface RelationExportDeps {
  sql: Sql;
  encryptionKey: Buffer;
  clients: BucketClients;
  batchSize: number;
  /** Rows fetched per cursor round trip (written to gzip in pieces of about 32 K characters). */
  cursorRows?: number;
  partSize?: number;
  /** The source instance's repositories, uploads and LFS objects, which the file relations archive. */
  storage?: StoragePaths;
}

/** Which relation of which portable. */
export interface RelationRef {
  exportId: number;
  portableType: PortableType;
  portableId: number;
  relation: string;
}

/** What one relation's export wrote. */
export interface ExportRelationResult {
  relation: string;
  batched: boolean;
  batches: number;
  records: number;
  objects: number;
  bytes: number;
}

/** What a retry needs from the attempt before it: where it was, and which multipart upload it left open. */
export interface RelationHeartbeat {
  batch?: number;
  key?: string;
  uploadId?: string;
  parts?: number;
  records?: number;
}

const BATCH_PAGE = 100;

/**
 * Rows per cursor round trip. Twenty lanes each hold one page while gzip takes it; at 500 issues (~900 KB) a page
 * outlived the nursery and was promoted, and twenty lanes of large relations grew the worker to 542 MiB (measured:
 * 20 projects of 20,000 issues); at 100 the peak was 447 MiB and the time the same.
 */
export const CURSOR_ROWS = 100;

/** One relation's export once its row, source and bucket are known. */
export interface RowExport extends RelationRef {
  row: ExportRow;
  source: RelationSource;
  bucket: OpenBucket;
  signal: AbortSignal;
  beat: (details: RelationHeartbeat) => void;
  /**
   * Records a relation exported whole (its object written). The chunk activity gathers these and records many in
   * one statement; until then the row stays PENDING, so a crash before that only means writing the same object again.
   */
  recordWhole: (outcome: WholeRelationOutcome) => void | Promise<void>;
}

interface Written {
  object?: WrittenObject;
  records: number;
  firstId?: number;
  lastId?: number;
}

/**
 * Moves the row (and its batches) through STARTED to FINISHED while writing its objects. Resumable: finished
 * batches are skipped, an unfinished one is written again from the start to the same key.
 */
export function createRowExporter(deps: RelationExportDeps) {
  const cursorRows = deps.cursorRows ?? CURSOR_ROWS;

  const storageOf = (run: RelationRef): StoragePaths => {
    if (!deps.storage) throw new Error(`the ${run.relation} relation needs the instance's storage paths`);
    return deps.storage;
  };
  /** A file relation's archiver, with the run it archives for. */
  const archiveOf = (run: RowExport) => {
    if (run.source.format !== 'tar') return undefined;
    const spec = archiverFor(run.relation);
    if (!spec) throw new Error(`no archiver for the file relation ${run.relation}`);
    return { spec, run };
  };

  /**
   * Streams one query's lines into one object; returns the object, its record count and the ids of its first and
   * last record (when the lines carry them). With `maxRecords`, a query that yields more records aborts the object
   * (nothing becomes visible) and returns 'overflow'; with `skipEmpty`, no record means no object.
   */
  async function writeLines(
    bucket: OpenBucket,
    key: string,
    lines: AsyncIterable<{ line: string; id?: number }[]>,
    beat: (details: RelationHeartbeat) => void,
    signal: AbortSignal,
    limits: { maxRecords?: number; skipEmpty?: boolean } = {},
    archive?: { spec: ArchiverSpec; run: RelationRef },
  ): Promise<Written | 'overflow'> {
    let records = 0;
    // A file relation's records are the files that became entries; its lines only say where they are.
    let lineCount = 0;
    let firstId: number | undefined;
    let lastId: number | undefined;
    let uploadId: string | undefined;
    let parts = 0;
    const writer = new GzipObjectWriter(bucket, key, {
      signal,
      partSize: deps.partSize,
      deferHead: archive?.spec.deferHead,
      onProgress: (p) => {
        uploadId = p.uploadId;
        parts = p.parts;
        beat({ key, uploadId, parts, records });
      },
    });
    const archiver = archive?.spec.create({
      sink: writer,
      storage: storageOf(archive.run),
      signal,
      portableType: archive.run.portableType,
      portableId: archive.run.portableId,
      relation: archive.run.relation,
    });
    try {
      for await (const rows of lines) {
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('activity cancelled');
        if (limits.maxRecords !== undefined && lineCount + rows.length > limits.maxRecords) {
          await writer.abort();
          return 'overflow';
        }
        if (archiver) {
          records += await archiver.add(rows.map((r) => r.line));
        } else {
          // Lines joined into large pieces: gzip and the pipeline cost per write, not per row (performance-notes.md).
          await writer.writeLines(rows.map((r) => r.line));
          records += rows.length;
        }
        if (rows.length > 0) {
          firstId ??= rows[0]!.id;
          lastId = rows[rows.length - 1]!.id;
        }
        lineCount += rows.length;
        beat({ key, uploadId, parts, records });
      }
      if (lineCount === 0 && limits.skipEmpty) {
        await writer.abort();
        return { records: 0 };
      }
      const head = await archiver?.end();
      return { object: await writer.finish(head), records, firstId, lastId };
    } catch (err) {
      await writer.abort().catch((abortErr: unknown) => {
        log.warn('could not abort upload', { key, error: String(abortErr) });
      });
      throw err;
    }
  }

  /**
   * A relation not started yet, streamed whole by one query into its one object (a batched relation: into its first
   * batch, while it has at most one batch of records), then handed to recordWhole: no id query, no batch rows cut
   * ahead, no STARTED transition. Undefined when a batched relation turns out to hold more than one batch (its
   * object is aborted; the batched path then cuts and writes its batches).
   */
  async function exportWhole(run: RowExport): Promise<ExportRelationResult | undefined> {
    const { portableType, portableId, relation, row, source, bucket, beat, signal } = run;
    const key = source.batched
      ? batchKey(bucket.exportPrefix, portableType, portableId, relation, 1, source.format)
      : relationKey(bucket.exportPrefix, portableType, portableId, relation, source.format);
    const limits = source.batched ? { maxRecords: deps.batchSize, skipEmpty: true } : {};
    const written = await writeLines(
      bucket,
      key,
      source.lines(deps.sql, portableId).cursor(cursorRows),
      beat,
      signal,
      limits,
      archiveOf(run),
    );
    if (written === 'overflow') return undefined;
    const { object, records } = written;
    await run.recordWhole({
      rowId: row.id,
      batched: source.batched,
      records,
      bytes: object?.bytes ?? 0,
      objectKey: object?.key,
      sha256: object?.sha256,
      firstId: written.firstId,
      lastId: written.lastId,
    });
    const objects = object ? 1 : 0;
    return {
      relation,
      batched: source.batched,
      batches: source.batched ? objects : 0,
      records,
      objects,
      bytes: object?.bytes ?? 0,
    };
  }

  return async function exportRow(run: RowExport): Promise<ExportRelationResult> {
    const { portableType, portableId, relation, row, source, bucket, beat, signal } = run;
    if (!source.batched || (row.status === RelationStatus.PENDING && !row.batched)) {
      const whole = await exportWhole(run);
      if (whole) return whole;
    }
    if (!source.batched) throw new Error(`${relation} is not batched`); // exportWhole never overflows one

    const ids = source.ids(deps.sql, portableId);
    const begun = await beginBatchedRelation(deps.sql, row.id, ids, deps.batchSize, BATCH_PAGE);
    if (!begun.started) {
      throw ApplicationFailure.create({
        type: 'RelationAlreadyCompleted',
        message: `the ${relation} export of ${portableType} ${portableId} was finished or failed by another attempt`,
        nonRetryable: true,
      });
    }
    let page = begun.page;
    let finished: { finished: boolean; objects: number; bytes: number; unfinished: number } | undefined;
    for (;;) {
      const lastPage = page.length < BATCH_PAGE;
      for (const [i, batch] of page.entries()) {
        const key = batchKey(bucket.exportPrefix, portableType, portableId, relation, batch.batchNumber, source.format);
        // The first batch of a page was marked STARTED with the page, each next one with its predecessor's finish.
        const batchBeat = (d: RelationHeartbeat) => beat({ ...d, batch: batch.batchNumber });
        batchBeat({ key });
        const range = { first: batch.firstId, last: batch.lastId };
        const written = await writeLines(
          bucket,
          key,
          source.lines(deps.sql, portableId, range).cursor(cursorRows),
          batchBeat,
          signal,
          {},
          archiveOf(run),
        );
        if (written === 'overflow' || !written.object)
          throw new Error(`batch ${batch.batchNumber} of ${relation} wrote no object`);
        const outcome = {
          objectsCount: written.records,
          bytes: written.object.bytes,
          objectKey: key,
          sha256: written.object.sha256 ?? null,
        };
        const next = page[i + 1];
        if (next) await finishBatchStartNext(deps.sql, batch.id, outcome, next.id);
        else if (lastPage) finished = await finishLastBatch(deps.sql, row.id, batch.id, outcome);
        else await finishBatch(deps.sql, batch.id, outcome);
      }
      if (lastPage) break;
      page = await unfinishedBatches(deps.sql, row.id, page[page.length - 1]!.batchNumber, BATCH_PAGE);
      if (page[0]) await startBatch(deps.sql, page[0].id);
    }
    // A relation with no records has no batches; one whose last page was full finishes here.
    finished ??= await finishBatchedRelation(deps.sql, row.id);
    if (finished.unfinished > 0) throw new Error(`${finished.unfinished} batches of ${relation} did not finish`);
    return {
      relation,
      batched: true,
      batches: begun.batchesCount,
      records: finished.objects,
      objects: begun.batchesCount,
      bytes: finished.bytes,
    };
  };
}
