import { AccessLevel } from '../../db/access';
import {
  applyBatchChanges,
  lockBatchOutcomes,
  lockProjects,
  readBatchState,
  recordBatchOutcomes,
} from '../../db/bulk-update/batch-decision';
import { batchProjects, type Outcome, type ProjectOutcome } from '../../db/bulk-update/batches';
import type { OperationRecord } from '../../db/bulk-update/operations';
import type { Sql } from '../../db/sql';
import { PROJECT_GONE_MESSAGE, UNAUTHORIZED_MESSAGE, failedOutcome, planAttributeChange } from './attribute-rules';
import { applyToProject, newBatchCache } from './apply-to-project';
import { isTransientError } from './transient-errors';

export interface DecidedBatch {
  /** Every project of the batch with the outcome it now has, in project-id order. */
  outcomes: ProjectOutcome[];
  /** How many of them this call decided (the others had an outcome from an earlier attempt). */
  appliedNow: number;
  /** True when the batch's set-based transaction failed on a project's own error and each project went alone. */
  perProject: boolean;
}

type Decided = Omit<ProjectOutcome, 'outcome'> & { outcome: Outcome };

/**
 * One batch in one transaction: its outcome rows locked, then its projects, then everything the rules read for all
 * of them in one statement; each project decided by the same rules as the per-project path (planAttributeChange,
 * GitLab's order and messages); then one delete, one insert and one outcome update for the whole batch. Projects
 * that already have an outcome (an earlier or concurrent attempt) are neither changed nor decided again.
 *
 * A database error that belongs to a project (a trigger, a constraint: not a lost connection or a deadlock, which
 * are retried) rolls the whole batch back, and only then does the batch go project by project (applyToProject,
 * each in its own transaction), so that the failing project alone gets the exception's message, as GitLab's worker
 * records it, and the others their own outcomes.
 */
export async function decideBatch(sql: Sql, op: OperationRecord, batchNumber: number): Promise<DecidedBatch> {
  try {
    return await sql.begin(async (tx): Promise<DecidedBatch> => {
      const rows = await lockBatchOutcomes(tx, op.id, batchNumber);
      const pending = rows.filter((r) => r.outcome === null).map((r) => r.projectId);
      if (pending.length === 0) return { outcomes: rows, appliedNow: 0, perProject: false };

      const locked = await lockProjects(tx, pending);
      const state = await readBatchState(
        tx,
        op.userId,
        pending.filter((id) => locked.has(id)),
        op.attributeIds,
      );
      const decided = new Map<number, Decided>();
      const changes: Parameters<typeof applyBatchChanges>[1] = [];
      const fail = (
        projectId: number,
        message: string,
        details: string[],
        label?: { name: string; fullPath: string },
      ) => decided.set(projectId, failedOutcome(projectId, message, details, label));
      for (const projectId of pending) {
        const project = state.projects.get(projectId);
        if (!project) {
          fail(projectId, PROJECT_GONE_MESSAGE, []);
          continue;
        }
        if (project.accessLevel < AccessLevel.MAINTAINER) {
          fail(projectId, UNAUTHORIZED_MESSAGE, [], project);
          continue;
        }
        const plan = planAttributeChange({
          mode: op.mode,
          requestedIds: op.attributeIds,
          current: project.current,
          available: state.available,
          rootNamespaceId: project.rootNamespaceId,
        });
        if (!plan.ok) {
          fail(projectId, plan.message, plan.errors, project);
          continue;
        }
        changes.push({ projectId, traversalIds: project.traversalIds, add: plan.add, remove: plan.remove });
        decided.set(projectId, {
          projectId,
          outcome: 'succeeded',
          errorCode: null,
          errorMessage: null,
          errorDetails: [],
          entityName: project.name,
          entityFullPath: project.fullPath || null,
        });
      }
      await applyBatchChanges(tx, changes);
      const written = await recordBatchOutcomes(tx, op.id, [...decided.values()]);
      // Every pending row is locked by this transaction and had no outcome: anything else is a broken invariant.
      if (written !== decided.size) {
        throw new Error(
          `batch ${batchNumber} of ${op.id}: ${written} outcome rows written for ${decided.size} decided`,
        );
      }
      return {
        outcomes: rows.map((r) => decided.get(r.projectId) ?? r),
        appliedNow: decided.size,
        perProject: false,
      };
    });
  } catch (err) {
    if (isTransientError(err)) throw err;
    return decideProjectByProject(sql, op, batchNumber);
  }
}

/** The per-project path for one batch: each project its own transaction (GitLab's loop). */
export async function decideProjectByProject(
  sql: Sql,
  op: OperationRecord,
  batchNumber: number,
): Promise<DecidedBatch> {
  const outcomes: ProjectOutcome[] = [];
  let appliedNow = 0;
  const cache = newBatchCache();
  for (const project of await batchProjects(sql, op.id, batchNumber)) {
    if (project.outcome !== null) {
      outcomes.push(project);
      continue;
    }
    const applied = await applyToProject(sql, op, project.projectId, cache);
    outcomes.push(applied.outcome);
    if (applied.appliedNow) appliedNow++;
  }
  return { outcomes, appliedNow, perProject: true };
}
