import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { findExport, markExportStarted } from '../../db/offline-export/export-state';
import { countSelfRows, createDescendantSelfRows, maxSelfRowId } from '../../db/offline-export/tracking';
import type { Sql } from '../../db/sql';
import { ExportErrorType, type ExportLimits } from '../../contracts/offline-export';
import { EXPORT_STATUS_NAMES, type ExportStatusValue } from '../../db/offline-export/statuses';

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
  };
}
