import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { findExport, markExportFailed, markExportStarted } from '../../db/offline-export/export-state';
import {
  countSelfRows,
  createDescendantSelfRows,
  ensureRelationRows,
  failRelation,
  maxSelfRowId,
  nextPortables,
  type PortableRef,
} from '../../db/offline-export/tracking';
import type { Sql } from '../../db/sql';
import { refusedPortables } from './permissions';
import { ExportErrorType, PORTABLE_RELATIONS, truncateError, type ExportLimits, type PortableType } from '../../contracts/offline-export';
import { EXPORT_STATUS_NAMES, ExportStatus, type ExportStatusValue } from '../../db/offline-export/statuses';

export interface OrchestrationDeps {
  sql: Sql;
  limits: ExportLimits;
}

export interface LoadExportResult {
  userId: number;
  status: 'created' | 'started' | 'finished' | 'failed';
  exportPrefix: string;
  limits: ExportLimits;
}

const DESCENDANT_PAGE = 50;
const MAX_PORTABLE_PAGE = 100;

export function createOrchestrationActivities(deps: OrchestrationDeps) {
  const { sql } = deps;
  return {
    /** The export's state and the limits the workflow runs with (workflows cannot read config). */
    async loadExport({ exportId }: { exportId: number }): Promise<LoadExportResult> {
      const found = await findExport(sql, exportId);
      if (!found) {
        throw ApplicationFailure.create({
          type: ExportErrorType.ExportNotFound,
          message: `offline export ${exportId} does not exist`,
          nonRetryable: true,
        });
      }
      return {
        userId: found.userId,
        status: EXPORT_STATUS_NAMES[found.status as ExportStatusValue],
        exportPrefix: found.exportPrefix,
        limits: deps.limits,
      };
    },

    /**
     * ProcessService steps 4: 'self' rows for every descendant group and project of each requested group (a
     * requested subgroup inside a requested group is skipped by the unique index), then created -> started.
     * Pages over the requested rows and heartbeats its cursor, so a retry continues where it stopped.
     */
    async prepareExport({ exportId }: { exportId: number }): Promise<{ portables: number; added: number }> {
      const upTo = await maxSelfRowId(sql, exportId);
      let after = 0;
      let added = 0;
      for (;;) {
        const page = await createDescendantSelfRows(sql, exportId, after, upTo, DESCENDANT_PAGE);
        if (page.lastSelfId === undefined) break;
        added += page.groups + page.projects;
        after = page.lastSelfId;
        heartbeat({ after });
      }
      await markExportStarted(sql, exportId);
      const { total } = await countSelfRows(sql, exportId);
      return { portables: total, added };
    },

    /** The next portables to hand to children: a small page after a cursor, never the whole list. */
    async nextPortables(input: { exportId: number; afterSelfId: number; limit: number }): Promise<PortableRef[]> {
      return nextPortables(sql, input.exportId, input.afterSelfId, Math.min(Math.max(input.limit, 1), MAX_PORTABLE_PAGE));
    },

    /**
     * Re-checks that the user may still administer the portable (group Owner, project Maintainer or above), as
     * ExportService does. If not, the 'self' row fails with the message and has_failures is set; otherwise the
     * portable's relation rows are created PENDING.
     */
    async startPortable(input: {
      exportId: number;
      portableType: PortableType;
      portableId: number;
    }): Promise<{ permitted: boolean; error?: string }> {
      const { exportId, portableType, portableId } = input;
      const found = await findExport(sql, exportId);
      if (!found) {
        throw ApplicationFailure.create({ type: ExportErrorType.ExportNotFound, message: `offline export ${exportId} does not exist`, nonRetryable: true });
      }
      const refused = await refusedPortables(sql, found.userId, [{ portableType, portableId }]);
      const error = refused.get(`${portableType}:${portableId}`);
      if (error !== undefined) {
        await failRelation(sql, exportId, portableType, portableId, 'self', error);
        return { permitted: false, error };
      }
      await ensureRelationRows(sql, exportId, portableType, portableId, PORTABLE_RELATIONS[portableType]);
      return { permitted: true };
    },

    /** A relation whose export gave up: FAILED with the error (at most 255 characters) and has_failures. */
    async markRelationFailed(input: {
      exportId: number;
      portableType: PortableType;
      portableId: number;
      relation: string;
      error: string;
    }): Promise<void> {
      await failRelation(sql, input.exportId, input.portableType, input.portableId, input.relation, truncateError(input.error));
    },

    /** For the worker's last resort (ExportWorker's sidekiq_retries_exhausted): fail_op with the error. */
    async failExport(input: { exportId: number; error: string }): Promise<void> {
      await markExportFailed(sql, input.exportId, truncateError(input.error));
    },
  };
}

export const isCompletedStatus = (status: number): boolean =>
  status === ExportStatus.FINISHED || status === ExportStatus.FAILED;
