import { activityInfo, ApplicationFailure, cancellationSignal, heartbeat, log } from '@temporalio/activity';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  chunkPortables,
  chunkTotals,
  ensureAndReadChunkRelationRows,
  failUnfinishedInChunk,
  nextChunk,
  type ChunkTotals,
} from '../../db/offline-export/chunks';
import { findExport } from '../../db/offline-export/export-state';
import { relationSource } from '../../db/offline-export/relations/index';
import { failRelation, recordWholeRelations, type ExportRow } from '../../db/offline-export/tracking';
import {
  ExportErrorType,
  PORTABLE_RELATIONS,
  truncateError,
  type ChunkExportInput,
  type PortableChunk,
  type PortableType,
} from '../../contracts/offline-export';
import { RelationStatus } from '../../db/offline-export/statuses';
import { abortUpload, openBucket } from './bucket';
import { refusedPortables } from './permissions';
import type { RelationSlots } from './relation-slots';
import { createKindExporter } from './kind-export';
import { createRowExporter, type RelationExportDeps, type RelationHeartbeat } from './relation-export';
import { WholeRelationRecorder } from './whole-recorder';

/** How one relation of a chunk retries in-process before it is recorded FAILED (the chunk carries on). */
export interface RelationRetry {
  attempts: number;
  initialMs: number;
  maxMs: number;
}

// Like the per-relation activity's policy (2, 4, ... 60 s, 9 attempts: about 4 minutes), so a bucket or database
// that is away for a few minutes delays a relation rather than failing it.
const DEFAULT_RETRY: RelationRetry = { attempts: 9, initialMs: 2_000, maxMs: 60_000 };

/**
 * Heartbeats go out on this timer (and at once when the set of open uploads changes), not per page written: a
 * heartbeat is a payload conversion and a call into the SDK's core, thousands of them per chunk otherwise. Well
 * inside the heartbeat timeout, and with the worker's 2 s throttle a cancellation arrives within seconds.
 */
const HEARTBEAT_EVERY_MS = 1_000;
/**
 * Without progress (a page written, a part uploaded, a relation done) or a lane waiting out a backoff for this long,
 * the attempt stops itself with a retryable error: a lane hung on a dead connection (seen after a PostgreSQL
 * restart) then hands the chunk to a new attempt, which resumes from the finished rows, instead of holding it and
 * its relation slots until the start-to-close timeout.
 */
const STALL_MS = 45_000;

/**
 * Relations exported whole are recorded FINISHED in groups: one statement for up to this many, or for what arrived
 * within the delay (relations read for many portables at once arrive by the dozen). The delay keeps progress and
 * cancellation within a fraction of a second of the objects.
 */
const RECORD_GROUP = 200;
const RECORD_DELAY_MS = 250;

/**
 * A relation not started yet is read for this many portables of the chunk at once, by one query, its lines split
 * into each portable's object as they stream (kind-export.ts): one query instead of one per portable. Not more, so
 * the largest relations of a chunk (issues, merge requests) still spread over several lanes.
 */
const PORTABLES_PER_QUERY = 25;

// The largest relations first, so a chunk's long tail is small ones.
const RELATION_WEIGHT = [
  'repository',
  'issues',
  'merge_requests',
  'ci_pipelines',
  'lfs_objects',
  'uploads',
  'wiki',
  'user_contributions',
  'snippets',
  'milestones',
  'labels',
  'releases',
  'boards',
  'project_members',
  'members',
  'badges',
  'protected_branches',
  'protected_tags',
  'self',
  'project_feature',
];
const weight = (relation: string) => {
  const i = RELATION_WEIGHT.indexOf(relation);
  return i === -1 ? RELATION_WEIGHT.length : i;
};

export interface ChunkExportDeps extends RelationExportDeps {
  relationRetry?: RelationRetry;
  /** Relation exports at once in this worker, across every chunk it runs. */
  relationSlots: RelationSlots;
}

export type ExportChunkInput = ChunkExportInput;

/** What a chunk attempt heartbeats: the multipart uploads it has open, so the next attempt can abort them. */
interface ChunkHeartbeat {
  uploads: { key: string; uploadId: string }[];
  relationsDone: number;
}

const rowType = (row: ExportRow): PortableType => (row.groupId !== null ? 'group' : 'project');
const rowPortableId = (row: ExportRow): number => (row.groupId ?? row.projectId)!;
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Abort listeners one lane holds at most on the attempt's signal (slot, S3 request, git process, backoff). */
const LISTENERS_PER_LANE = 4;

/** What a lane takes next: one relation of one portable, or one relation of several portables read by one query. */
type Task = { row: ExportRow } | { group: ExportRow[] };

/**
 * The rows of a chunk as lane tasks, in the order given (largest relations first). A relation not started yet
 * (PENDING, never cut into batches) of a database source is read for up to PORTABLES_PER_QUERY portables at once;
 * file relations stay one per task (their archivers read one portable's files, git runs per repository), and so do
 * rows an earlier attempt started.
 */
function planTasks(rows: ExportRow[]): Task[] {
  const tasks: Task[] = [];
  const open = new Map<string, ExportRow[]>();
  for (const row of rows) {
    const source = relationSource(rowType(row), row.relation);
    if (!source || source.format === 'tar' || row.status !== RelationStatus.PENDING || row.batched) {
      tasks.push({ row });
      continue;
    }
    const kind = `${rowType(row)}:${row.relation}`;
    let group = open.get(kind);
    if (!group || group.length >= PORTABLES_PER_QUERY) {
      group = [];
      open.set(kind, group);
      tasks.push({ group });
    }
    group.push(row);
  }
  // A group of one is the per-relation path's single query anyway.
  return tasks.map((t) => ('group' in t && t.group.length === 1 ? { row: t.group[0]! } : t));
}

/** SQL that PostgreSQL cannot run (class 42: syntax, types, names) or data it refuses (22) fails the same way again. */
const isPermanentSqlError = (err: unknown) => {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    (err as { name?: unknown } | null)?.name === 'PostgresError' && typeof code === 'string' && /^(42|22)/.test(code)
  );
};

function checkBounds(input: ExportChunkInput): void {
  const ok =
    [input.exportId, input.afterSelfId, input.lastSelfId, input.maxConcurrentRelations].every(
      (n) => Number.isSafeInteger(n) && n >= 0,
    ) &&
    input.exportId > 0 &&
    input.maxConcurrentRelations > 0 &&
    input.lastSelfId > input.afterSelfId;
  if (!ok) {
    throw ApplicationFailure.create({
      type: ExportErrorType.InvalidInput,
      message: 'a chunk needs a positive exportId and maxConcurrentRelations, and 0 <= afterSelfId < lastSelfId',
      nonRetryable: true,
    });
  }
}

export function createChunkExportActivities(deps: ChunkExportDeps) {
  const { sql } = deps;
  const retry = deps.relationRetry ?? DEFAULT_RETRY;
  const exportRow = createRowExporter(deps);
  const exportKind = createKindExporter(deps);

  return {
    /** The next run of at most `maxPortables` portables to export after the cursor; null at the end. */
    async nextPortableChunk(input: {
      exportId: number;
      afterSelfId: number;
      maxPortables: number;
    }): Promise<PortableChunk | null> {
      return (
        (await nextChunk(sql, input.exportId, input.afterSelfId, Math.min(Math.max(input.maxPortables, 1), 1000))) ??
        null
      );
    },

    /**
     * Every relation of every portable of one chunk, at most maxConcurrentRelations at once, in one activity: one
     * Temporal step for what would be dozens of child workflows and hundreds of activities. Re-checks permissions
     * (a refused portable fails its 'self' row), creates the relation rows, then exports every row not yet
     * finished. A relation that keeps failing is retried in-process, then recorded FAILED while the others carry
     * on, as in GitLab. Resumable: a retry of the whole activity skips finished rows and batches and aborts the
     * multipart uploads the previous attempt heartbeated. The totals are read back from the rows, so they are exact
     * whatever the number of attempts.
     */
    async exportPortableChunk(input: ExportChunkInput): Promise<ChunkTotals> {
      checkBounds(input);
      const { exportId, afterSelfId, lastSelfId } = input;
      const found = await findExport(sql, exportId);
      if (!found) {
        throw ApplicationFailure.create({
          type: ExportErrorType.ExportNotFound,
          message: `offline export ${exportId} does not exist`,
          nonRetryable: true,
        });
      }
      const portables = await chunkPortables(sql, exportId, afterSelfId, lastSelfId);
      const refused = await refusedPortables(sql, found.userId, portables);
      for (const p of portables) {
        const error = refused.get(`${p.portableType}:${p.portableId}`);
        if (error !== undefined) await failRelation(sql, exportId, p.portableType, p.portableId, 'self', error);
      }
      const permitted = portables.filter((p) => !refused.has(`${p.portableType}:${p.portableId}`));
      const order = new Map(permitted.map((p, i) => [`${p.portableType}:${p.portableId}`, i]));
      // The relation rows created where missing and read back, in one statement.
      const rows = (
        await ensureAndReadChunkRelationRows(
          sql,
          exportId,
          permitted.flatMap((p) =>
            PORTABLE_RELATIONS[p.portableType].map((relation) => ({
              relation,
              groupId: p.portableType === 'group' ? p.portableId : null,
              projectId: p.portableType === 'project' ? p.portableId : null,
            })),
          ),
        )
      )
        .filter((r) => r.status === RelationStatus.PENDING || r.status === RelationStatus.STARTED)
        .sort(
          (a, b) =>
            weight(a.relation) - weight(b.relation) ||
            order.get(`${rowType(a)}:${rowPortableId(a)}`)! - order.get(`${rowType(b)}:${rowPortableId(b)}`)!,
        );

      if (rows.length > 0) await exportRows(input, rows);
      return chunkTotals(sql, exportId, afterSelfId, lastSelfId);
    },

    /** A chunk whose activity gave up for good: what it left in progress fails, and its totals are returned. */
    async failPortableChunk(input: {
      exportId: number;
      afterSelfId: number;
      lastSelfId: number;
      error: string;
    }): Promise<ChunkTotals> {
      await failUnfinishedInChunk(sql, input.exportId, input.afterSelfId, input.lastSelfId, truncateError(input.error));
      return chunkTotals(sql, input.exportId, input.afterSelfId, input.lastSelfId);
    },
  };

  async function exportRows(input: ExportChunkInput, rows: ExportRow[]): Promise<void> {
    const { exportId } = input;
    const bucket = await openBucket(sql, deps.encryptionKey, exportId, deps.clients);
    const previous = activityInfo().heartbeatDetails as ChunkHeartbeat | undefined;
    for (const upload of previous?.uploads ?? []) await abortUpload(bucket, upload.key, upload.uploadId);

    // One lane's infrastructure failure stops the others, so no lane outlives the attempt that started it.
    const stop = new AbortController();
    const signal = AbortSignal.any([cancellationSignal(), stop.signal]);
    // Every lane listens on this one signal while it works: its relation slot, its S3 request in flight, a bundle's
    // git process or a backoff, at most LISTENERS_PER_LANE at once. Past Node's default of 10 listeners it printed
    // MaxListenersExceededWarning ("possible EventTarget memory leak") though each listener is removed when its
    // request ends: the bound is the lanes', not a leak.
    setMaxListeners(input.maxConcurrentRelations * LISTENERS_PER_LANE + 10, signal);
    const open = new Map<number, { key: string; uploadId: string }>();
    let relationsDone = 0;
    let lastProgress = Date.now();
    let backingOff = 0;
    const beat = () => heartbeat({ uploads: [...open.values()], relationsDone } satisfies ChunkHeartbeat);
    const recorder = new WholeRelationRecorder({
      record: (outcomes) => recordWholeRelations(sql, outcomes),
      maxPending: RECORD_GROUP,
      delayMs: RECORD_DELAY_MS,
      attempts: retry.attempts,
      initialBackoffMs: retry.initialMs,
      maxBackoffMs: retry.maxMs,
      onGiveUp: (err) => {
        if (!stop.signal.aborted) stop.abort(err);
      },
    });
    const timer = setInterval(() => {
      if (backingOff > 0 || recorder.backingOff || Date.now() - lastProgress < STALL_MS) beat();
      else if (!stop.signal.aborted)
        stop.abort(new Error(`no relation of the chunk made progress for ${STALL_MS / 1000} s; retrying the chunk`));
    }, HEARTBEAT_EVERY_MS);

    const exportWithRetries = async (row: ExportRow) => {
      const portableType = rowType(row);
      const portableId = rowPortableId(row);
      const source = relationSource(portableType, row.relation);
      const fail = (error: string) =>
        failRelation(sql, exportId, portableType, portableId, row.relation, truncateError(error));
      if (!source) return fail(`${portableType}s do not export the relation ${row.relation}`);
      const track = (d: RelationHeartbeat) => {
        lastProgress = Date.now();
        const had = open.get(row.id)?.uploadId;
        if (d.uploadId && d.key) open.set(row.id, { key: d.key, uploadId: d.uploadId });
        else open.delete(row.id);
        // A new multipart upload is recorded at once, so a crash right after leaves its id to the next attempt.
        if (open.get(row.id)?.uploadId !== had) beat();
      };
      for (let attempt = 1; ; attempt++) {
        try {
          await deps.relationSlots.run(
            () =>
              exportRow({
                exportId,
                portableType,
                portableId,
                relation: row.relation,
                row,
                source,
                bucket,
                signal,
                beat: track,
                recordWhole: (o) => recorder.add(o),
              }),
            signal,
          );
          return;
        } catch (err) {
          if (signal.aborted) throw err;
          const permanent = (err instanceof ApplicationFailure && err.nonRetryable) || isPermanentSqlError(err);
          if (permanent || attempt >= retry.attempts) return fail(messageOf(err));
          const wait = Math.min(retry.initialMs * 2 ** (attempt - 1), retry.maxMs);
          log.warn('relation export failed; retrying', {
            exportId,
            portableType,
            portableId,
            relation: row.relation,
            attempt,
            waitMs: wait,
            error: messageOf(err),
          });
          backingOff++;
          try {
            await sleep(wait, undefined, { signal });
          } finally {
            backingOff--;
            lastProgress = Date.now();
          }
        } finally {
          open.delete(row.id);
        }
      }
    };

    /**
     * Rows of one relation for several portables, by one query (createKindExporter); what it leaves (a relation
     * larger than one batch, the rows after a failure) joins the queue as rows of their own.
     */
    const exportGroup = async (group: ExportRow[]) => {
      const first = group[0]!;
      const portableType = rowType(first);
      const source = relationSource(portableType, first.relation)!;
      const result = await deps.relationSlots.run(
        () =>
          exportKind({
            portableType,
            relation: first.relation,
            source,
            rows: group,
            bucket,
            signal,
            beat: (rowId, d) => {
              lastProgress = Date.now();
              const had = open.get(rowId)?.uploadId;
              if (d.uploadId && d.key) open.set(rowId, { key: d.key, uploadId: d.uploadId });
              if (open.get(rowId)?.uploadId !== had) beat();
            },
            settled: (rowId) => {
              open.delete(rowId);
              lastProgress = Date.now();
            },
            recordWhole: (o) => recorder.add(o),
          }),
        signal,
      );
      if (result.error !== undefined) {
        log.warn('reading a relation for several portables failed; exporting them one by one', {
          exportId,
          portableType,
          relation: first.relation,
          portables: result.left.length,
          error: messageOf(result.error),
        });
      }
      relationsDone += result.written;
      for (const row of result.left) tasks.push({ row });
    };

    const tasks = planTasks(rows);
    let next = 0;
    const lane = async () => {
      while (next < tasks.length && !signal.aborted) {
        const task = tasks[next++]!;
        if ('group' in task) {
          await exportGroup(task.group);
        } else {
          await exportWithRetries(task.row);
          relationsDone++;
        }
        lastProgress = Date.now();
      }
    };
    try {
      const lanes = await Promise.allSettled(
        Array.from({ length: Math.min(input.maxConcurrentRelations, tasks.length) }, () =>
          lane().catch((err: unknown) => {
            stop.abort(err);
            throw err;
          }),
        ),
      );
      // The lane that failed first says why; the others only saw the stop.
      if (stop.signal.aborted) throw stop.signal.reason;
      const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
      if (failed) throw failed.reason;
      await recorder.drain();
    } finally {
      // Stopping (cancelled, failed): what was written is still recorded if the database answers, so cancellation
      // sees those relations finished; the rest stays PENDING for the next attempt.
      await recorder.flushOnce();
      clearInterval(timer);
    }
  }
}
