import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import {
  batchProjects,
  failUnprocessedProjects,
  rangeOutcomes,
  recordedOutcomes,
  type ProjectOutcome,
} from '../../db/bulk-update/batches';
import type { OperationRecord } from '../../db/bulk-update/operations';
import type { Sql } from '../../db/sql';
import type {
  BulkUpdateBatchInput,
  BulkUpdateBatchResult,
  FailedRangeInput,
  FailedRangeResult,
} from '../../contracts/bulk-update';
import { applyToProject, newBatchCache } from './apply-to-project';
import { requireOperation } from './require-operation';
import { decideBatch } from './decide-batch';
import type { NewFailedItem, RedisStore, WriteResult } from '../../db/bulk-update/redis-store';

/** One batch's projects as recorded in PostgreSQL, and how many of them this attempt applied itself. */
export interface BatchOutcome {
  batchNumber: number;
  projects: number;
  successful: number;
  failed: number;
  appliedNow: number;
  /** How the batch was decided: 'set' (one transaction), or 'per-project' (asked for, or the set-based one failed). */
  decidedBy: 'set' | 'per-project';
}

export interface ProcessBatchDeps {
  sql: Sql;
  store: RedisStore;
  /** Defaults to the activity's heartbeat; a plain script (the benchmark's baseline) passes a no-op. */
  heartbeat?: (details: unknown) => void;
  /**
   * 'set' (the default): the batch decided in one transaction (decideBatch) and mirrored in one Redis script.
   * 'per-project': GitLab's loop, each project its own transaction and Redis write; kept as the reference the
   * set-based path is proven against (test/bulk-update/set-based-equivalence.test.ts) and as the benchmark's
   * plain per-project script.
   */
  evaluation?: 'set' | 'per-project';
}

/**
 * BackgroundOperationBulkUpdateWorker: applies the operation to every project of one batch, in one transaction
 * (decideBatch), and mirrors the batch's outcomes to Redis in one script. Safe to run any number of times: projects
 * with an outcome are not touched again, and their outcome is mirrored again because the previous attempt may have
 * died between the commit and the Redis write (the store counts each project at most once).
 */
export async function processBatch(
  deps: ProcessBatchDeps,
  input: { operationId: string; batchNumber: number },
): Promise<BatchOutcome> {
  if (deps.evaluation === 'per-project') return processBatchPerProject(deps, input);
  const op = await requireOperation(deps.sql, input.operationId);
  if (op.tracked && (await deps.store.markRunning(op.id)) === 'missing') await rebuildTracking(deps, op);
  (deps.heartbeat ?? heartbeat)({ batchNumber: input.batchNumber });
  const decided = await decideBatch(deps.sql, op, input.batchNumber);
  // Every outcome of the batch, the earlier attempts' too (one may have died between its commit and its Redis
  // write), in one script; the store counts each project once.
  if (op.tracked && (await mirrorAll(deps.store, op.id, decided.outcomes)) === 'missing') {
    // Redis lost the record while this batch ran (it keeps nothing on disk): rebuild it now, with this batch's outcomes.
    await rebuildTracking(deps, op);
  }
  return {
    batchNumber: input.batchNumber,
    projects: decided.outcomes.length,
    successful: decided.outcomes.filter((o) => o.outcome === 'succeeded').length,
    failed: decided.outcomes.filter((o) => o.outcome === 'failed').length,
    appliedNow: decided.appliedNow,
    decidedBy: decided.perProject ? 'per-project' : 'set',
  };
}

/** GitLab's loop: each project its own transaction (applyToProject), each outcome its own Redis write. */
async function processBatchPerProject(
  deps: ProcessBatchDeps,
  input: { operationId: string; batchNumber: number },
): Promise<BatchOutcome> {
  const op = await requireOperation(deps.sql, input.operationId);
  const projects = await batchProjects(deps.sql, op.id, input.batchNumber);
  if (op.tracked && (await deps.store.markRunning(op.id)) === 'missing') await rebuildTracking(deps, op);

  const beat = deps.heartbeat ?? heartbeat;
  let appliedNow = 0;
  let successful = 0;
  let failed = 0;
  const cache = newBatchCache();
  // Each outcome is mirrored right after its commit, without waiting for Redis's answer: the writes of the batch
  // travel pipelined (the worker's Redis client auto-pipelines) while the next projects are updated, and the
  // activity completes only once all of them are acknowledged. A write lost with a dying worker is repeated by
  // the retry (outcomes already committed are mirrored again; the store counts each project once).
  const mirrored: Promise<WriteResult | undefined>[] = [];
  const mirrorErrors: unknown[] = [];
  // A handler from the start: a rejected write must not become an unhandled rejection while the loop runs.
  const settled = () => Promise.all(mirrored);
  try {
    for (const project of projects) {
      beat({ batchNumber: input.batchNumber, projectId: project.projectId });
      let outcome = project;
      if (!project.outcome) {
        const applied = await applyToProject(deps.sql, op, project.projectId, cache);
        outcome = applied.outcome;
        if (applied.appliedNow) appliedNow++;
      }
      if (op.tracked) {
        mirrored.push(
          mirror(deps.store, op.id, outcome).catch((err: unknown) => {
            mirrorErrors.push(err);
            return undefined;
          }),
        );
      }
      if (outcome.outcome === 'succeeded') successful++;
      else if (outcome.outcome === 'failed') failed++;
    }
  } catch (err) {
    await settled();
    throw err;
  }
  const results = await settled();
  if (mirrorErrors.length > 0) throw mirrorErrors[0];
  // Redis lost the record while this batch ran (it keeps nothing on disk): rebuild it now, with this batch's outcomes.
  if (results.includes('missing')) await rebuildTracking(deps, op);
  return {
    batchNumber: input.batchNumber,
    projects: projects.length,
    successful,
    failed,
    appliedNow,
    decidedBy: 'per-project',
  };
}

/** Well inside the batch activities' 20 s heartbeat timeout; cancellation still arrives within seconds. */
const RANGE_HEARTBEAT_EVERY_MS = 1_000;

/** Where a range's activity is, heartbeated: batches below nextBatch are done and mirrored, with these totals. */
export interface RangeProgress {
  nextBatch: number;
  projects: number;
  successful: number;
  failed: number;
  appliedNow: number;
}

export interface ProcessRangeDeps extends ProcessBatchDeps {
  /** The last heartbeat of a previous attempt (defaults to the activity's); anything unrecognised starts afresh. */
  resume?: unknown;
  /** Stops the range between batches (defaults to the activity's cancellation). */
  signal?: AbortSignal;
}

function resumePoint(details: unknown, first: number, last: number): RangeProgress | undefined {
  const range = (details as { range?: unknown } | null | undefined)?.range as Partial<RangeProgress> | undefined;
  if (typeof range !== 'object' || range === null) return undefined;
  const { nextBatch, projects, successful, failed, appliedNow } = range;
  const counts = [nextBatch, projects, successful, failed, appliedNow];
  if (!counts.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) return undefined;
  if (nextBatch! < first || nextBatch! > last + 1) return undefined;
  return range as RangeProgress;
}

/**
 * The batches firstBatch..lastBatch of one operation, in order, in one activity: each exactly as processBatch
 * does it (its projects' transactions and Redis mirror), so a range is only a cheaper way to schedule batches.
 * The heartbeat carries the next batch and the totals of the finished ones (every outcome of a finished batch is
 * committed and mirrored), so a retry on another worker resumes at the batch that was running; that batch is
 * processed again, which skips its committed projects and re-mirrors them (Redis counts each project once).
 */
export async function processBatchRange(
  deps: ProcessRangeDeps,
  input: BulkUpdateBatchInput,
): Promise<BulkUpdateBatchResult> {
  const first = input.batchNumber;
  const last = input.lastBatchNumber;
  const beat = deps.heartbeat ?? heartbeat;
  const signal = deps.signal ?? (deps.heartbeat ? undefined : cancellationSignal());
  const progress: RangeProgress = resumePoint(
    deps.resume ?? (deps.heartbeat ? undefined : activityInfo().heartbeatDetails),
    first,
    last,
  ) ?? {
    nextBatch: first,
    projects: 0,
    successful: 0,
    failed: 0,
    appliedNow: 0,
  };
  // A batch's per-project heartbeats only update what the timer sends next: a heartbeat is a payload conversion and
  // a trip into the SDK's core, ten thousand of them for 10,000 projects otherwise. Each batch's start and end are
  // sent at once, so a retry's resume point is never more than the batch that was running.
  let latest: object | undefined;
  const timer = setInterval(() => {
    if (latest === undefined) return;
    const details = { ...latest, range: { ...progress } };
    latest = undefined;
    try {
      beat(details);
    } catch {
      // The next batch boundary heartbeats again.
    }
  }, RANGE_HEARTBEAT_EVERY_MS);
  const batchDeps: ProcessBatchDeps = { ...deps, heartbeat: (details) => (latest = details as object) };
  try {
    while (progress.nextBatch <= last) {
      // Stop between batches once cancelled (the parent was cancelled): the batch in hand finished whole.
      if (signal?.aborted) throw signal.reason;
      beat({ batchNumber: progress.nextBatch, range: { ...progress } });
      const r = await processBatch(batchDeps, { operationId: input.operationId, batchNumber: progress.nextBatch });
      progress.projects += r.projects;
      progress.successful += r.successful;
      progress.failed += r.failed;
      progress.appliedNow += r.appliedNow;
      progress.nextBatch++;
      latest = undefined;
      beat({ batchNumber: r.batchNumber, range: { ...progress } });
    }
  } finally {
    clearInterval(timer);
  }
  return {
    batchNumber: first,
    lastBatchNumber: last,
    batches: last - first + 1,
    projects: progress.projects,
    successful: progress.successful,
    failed: progress.failed,
    appliedNow: progress.appliedNow,
  };
}

/**
 * A range whose work failed for good (its child workflow failed, was terminated or timed out): every project of
 * it without an outcome becomes an unexpected_error failed item with the failure's message, as GitLab's worker
 * records an exception against each project it could not update. Every outcome of the range is then mirrored to
 * Redis (the dead attempt may have committed some without mirroring them), and the range's counts come back from
 * PostgreSQL, so the operation's counts stay exact. Safe to repeat: a project is failed at most once.
 */
export async function failUnprocessedRange(
  deps: Pick<ProcessBatchDeps, 'sql' | 'store'>,
  input: FailedRangeInput,
): Promise<FailedRangeResult> {
  const op = await requireOperation(deps.sql, input.operationId);
  const range = { firstBatch: input.batchNumber, lastBatch: input.lastBatchNumber };
  const failedNow = await failUnprocessedProjects(deps.sql, op.id, range, input.errorMessage);
  const outcomes = await rangeOutcomes(deps.sql, op.id, range);
  if (op.tracked) {
    if ((await mirrorInChunks(deps.store, op.id, outcomes)) === 'missing') await rebuildTracking(deps, op);
  }
  return {
    batchNumber: input.batchNumber,
    lastBatchNumber: input.lastBatchNumber,
    projects: outcomes.length,
    successful: outcomes.filter((o) => o.outcome === 'succeeded').length,
    failed: outcomes.filter((o) => o.outcome === 'failed').length,
    failedNow,
  };
}

/**
 * Recreates an operation's Redis record from PostgreSQL, the source of truth, after Redis lost it (a restart, an
 * eviction): the hash as createTracking writes it, then every outcome recorded so far. The store counts each project
 * once, so batches that rebuild at the same time, or mirror their own outcomes meanwhile, never double-count. A
 * finished operation is left alone: its record was deleted on purpose.
 */
async function rebuildTracking(deps: Pick<ProcessBatchDeps, 'sql' | 'store'>, op: OperationRecord): Promise<void> {
  if (op.status === 'finished' || op.status === 'failed') return;
  await deps.store.createOperation({
    id: op.id,
    operationType: op.operationType,
    userId: op.userId,
    totalItems: op.totalItems ?? 0,
    parameters: { attribute_ids: op.attributeIds, mode: op.mode },
  });
  await deps.store.markRunning(op.id);
  await mirrorInChunks(deps.store, op.id, await recordedOutcomes(deps.sql, op.id));
}

/** Outcomes per Redis script for a range or a rebuild: bounded, so one script never blocks Redis for long. */
const MIRROR_CHUNK = 500;

async function mirrorInChunks(
  store: RedisStore,
  operationId: string,
  outcomes: ProjectOutcome[],
): Promise<'recorded' | 'missing'> {
  for (let i = 0; i < outcomes.length; i += MIRROR_CHUNK) {
    if ((await mirrorAll(store, operationId, outcomes.slice(i, i + MIRROR_CHUNK))) === 'missing') return 'missing';
  }
  return 'recorded';
}

/** Outcomes as failed items (what mirror writes for one), for the store's batch write. */
function failedItemOf(outcome: ProjectOutcome): NewFailedItem {
  return {
    entity_id: outcome.projectId,
    entity_type: 'Project',
    ...(outcome.entityName !== null ? { entity_name: outcome.entityName } : {}),
    ...(outcome.entityFullPath !== null ? { entity_full_path: outcome.entityFullPath } : {}),
    error_message: outcome.errorMessage ?? 'Unknown error',
    errors: outcome.errorDetails,
    error_code: outcome.errorCode ?? 'unexpected_error',
  };
}

/** Many outcomes in one Redis script, in order; the same records as mirror writes one by one. */
async function mirrorAll(
  store: RedisStore,
  operationId: string,
  outcomes: ProjectOutcome[],
): Promise<number | 'missing'> {
  return store.recordOutcomes(operationId, {
    successful: outcomes.filter((o) => o.outcome === 'succeeded').map((o) => ({ type: 'Project', id: o.projectId })),
    failed: outcomes.filter((o) => o.outcome === 'failed').map(failedItemOf),
  });
}

async function mirror(
  store: RedisStore,
  operationId: string,
  outcome: ProjectOutcome,
): Promise<WriteResult | undefined> {
  if (outcome.outcome === 'succeeded') {
    return store.incrementSuccessful(operationId, { entity: { type: 'Project', id: outcome.projectId } });
  } else if (outcome.outcome === 'failed') {
    return store.addFailedItem(operationId, failedItemOf(outcome));
  }
  return undefined;
}
