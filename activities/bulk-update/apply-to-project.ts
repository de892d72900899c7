import { AccessLevel, projectAccessLevels } from '../../db/access';
import { lockProjectOutcome, recordProjectOutcome, type ProjectOutcome } from '../../db/bulk-update/batches';
import type { OperationRecord } from '../../db/bulk-update/operations';
import {
  applyAttributeChanges,
  liveAttributes,
  lockProjectWithAttributes,
  projectLabel,
  type AttributeRef,
} from '../../db/bulk-update/project-attributes';
import type { Sql } from '../../db/sql';
import { PROJECT_GONE_MESSAGE, UNAUTHORIZED_MESSAGE, failedOutcome, planAttributeChange } from './attribute-rules';
import { errorMessageOf, isTransientError } from './transient-errors';

export interface AppliedOutcome {
  outcome: ProjectOutcome;
  /** False when an earlier attempt had already recorded this project's outcome. */
  appliedNow: boolean;
}

/**
 * What one batch may share between its projects: the operation's attributes as they are (read by the batch's first
 * project, inside its transaction). An attribute deleted while a batch runs is therefore still applied to the rest
 * of that batch (at most batch-size projects), as it would have been had the batch run a moment earlier; the next
 * batch reads it afresh.
 */
export interface BatchCache {
  attributes?: AttributeRef[];
}

export const newBatchCache = (): BatchCache => ({});

/**
 * Applies the operation to one project in one transaction that also writes the project's outcome row. The row is
 * locked first, so a project that already has an outcome (an earlier attempt committed it) is skipped: a retried
 * or concurrently re-run batch never changes or counts a project twice.
 */
export async function applyToProject(
  sql: Sql,
  op: OperationRecord,
  projectId: number,
  cache: BatchCache = newBatchCache(),
): Promise<AppliedOutcome> {
  try {
    return await sql.begin(async (tx): Promise<AppliedOutcome> => {
      const existing = await lockProjectOutcome(tx, op.id, projectId);
      if (!existing) throw new Error(`project ${projectId} is not part of background operation ${op.id}`);
      if (existing.outcome) return { outcome: existing, appliedNow: false };

      const fail = async (message: string, details: string[], label?: { name: string; fullPath: string }) => ({
        outcome: await recordProjectOutcome(tx, op.id, failedOutcome(projectId, message, details, label)),
        appliedNow: true,
      });

      const locked = await lockProjectWithAttributes(tx, projectId);
      if (!locked) return fail(PROJECT_GONE_MESSAGE, []);
      const { project } = locked;
      const levels = await projectAccessLevels(tx, op.userId, [projectId]);
      if ((levels.get(projectId) ?? 0) < AccessLevel.MAINTAINER) return fail(UNAUTHORIZED_MESSAGE, [], project);

      cache.attributes ??= await liveAttributes(tx, op.attributeIds);
      const plan = planAttributeChange({
        mode: op.mode,
        requestedIds: op.attributeIds,
        current: locked.current,
        available: cache.attributes,
        rootNamespaceId: project.rootNamespaceId,
      });
      if (!plan.ok) return fail(plan.message, plan.errors, project);

      await applyAttributeChanges(tx, project, plan);
      return {
        outcome: await recordProjectOutcome(tx, op.id, {
          projectId,
          outcome: 'succeeded',
          errorCode: null,
          errorMessage: null,
          errorDetails: [],
          entityName: project.name,
          entityFullPath: project.fullPath || null,
        }),
        appliedNow: true,
      };
    });
  } catch (err) {
    if (isTransientError(err)) throw err;
    // The change rolled back; the project's own failure is recorded once, in a transaction of its own.
    const label = await projectLabel(sql, projectId);
    const outcome = await recordProjectOutcome(sql, op.id, {
      projectId,
      outcome: 'failed',
      errorCode: 'unexpected_error',
      // GitLab's worker records the exception's message (record_failure(project, e.message)).
      errorMessage: errorMessageOf(err),
      errorDetails: [],
      entityName: label?.name ?? null,
      entityFullPath: label?.fullPath || null,
    });
    return { outcome, appliedNow: true };
  }
}
