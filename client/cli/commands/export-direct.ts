import { WorkflowNotFoundError } from '@temporalio/client';
import { findOfflineExportForUser, listOfflineExportsForUser } from '../../../db/offline-export/exports-read';
import { EXPORT_STATUS_NAMES } from '../../../db/offline-export/statuses';
import { toRelationEntity } from '../../offline-export/relation-entity';
import type { AuthenticatedUser } from '../../../db/users';
import { webUiLink } from '../../../contracts/temporal';
import {
  offlineExportProgressQuery,
  offlineExportWorkflowId,
  type OfflineExportProgress,
} from '../../../contracts/offline-export';
import { listExportRelations } from '../../../db/offline-export/export-relations-read';
import {
  cancelOfflineExport,
  OfflineExportNotCancellableError,
  OfflineExportNotFoundError,
} from '../../offline-export/cancel-service';
import {
  createOfflineExport,
  OfflineExportRequestError,
  OfflineExportStartError,
  toEntity,
} from '../../offline-export/create-service';
import type { OfflineExportEntity } from '../api-shapes';
import { CliError, ExitCode, type CliContext } from '../context';
import { ended, type ExportBackend } from './export-backend';

// The export commands' direct mode (--direct --user): loaded only when asked for, with the database and Temporal.

/** The workflow's progress in snake_case, as every other JSON the CLI prints. */
const progressJson = (p: OfflineExportProgress) => ({
  phase: p.phase,
  run: p.run,
  portables: p.portables,
  relations: p.relations,
  objects_written: p.objectsWritten,
  bytes_written: p.bytesWritten,
  records_written: p.recordsWritten,
});

export function directExportBackend(ctx: CliContext, user: AuthenticatedUser): ExportBackend {
  const find = async (id: number) => {
    const row = await findOfflineExportForUser(ctx.sql, user.id, id);
    if (!row) throw new CliError(`export ${id} not found`, ExitCode.NOT_FOUND);
    return toEntity(row);
  };
  const link = (id: number) => webUiLink(ctx.config, offlineExportWorkflowId(id));
  return {
    unit: 'groups and projects',
    async start(body) {
      try {
        const created = await createOfflineExport(
          { sql: ctx.sql, temporal: ctx.temporal, config: ctx.config },
          user,
          body,
        );
        return { entity: created.export, extra: { workflow_id: created.workflowId, web_ui: link(created.export.id) } };
      } catch (err) {
        if (err instanceof OfflineExportRequestError)
          throw new CliError(err.message, err.status === 404 ? ExitCode.NOT_FOUND : ExitCode.USAGE);
        if (err instanceof OfflineExportStartError) throw new CliError(err.message, ExitCode.UNAVAILABLE);
        throw err;
      }
    },
    async show(id) {
      const entity = await find(id);
      let progress: OfflineExportProgress | undefined;
      if (!ended(entity)) {
        progress = await ctx.temporal.workflow
          .getHandle(offlineExportWorkflowId(id))
          .query(offlineExportProgressQuery)
          .catch(() => undefined);
      }
      return {
        entity,
        extra: { ...(progress ? { progress: progressJson(progress) } : {}), web_ui: link(id) },
      };
    },
    async poll(id) {
      const entity = await find(id);
      // The export is done once its row says so; its workflow may stay open for the credential purge timer.
      if (ended(entity)) return { final: entity };
      const handle = ctx.temporal.workflow.getHandle(offlineExportWorkflowId(id));
      let progress: OfflineExportProgress | undefined;
      try {
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING')
          return description.status.name === 'CONTINUED_AS_NEW' ? {} : { final: entity };
        progress = await handle.query(offlineExportProgressQuery);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        return { final: entity };
      }
      if (!progress) return {};
      const p = progress.portables;
      return {
        frame: {
          done: p.finished + p.failed,
          total: p.total,
          label: `${progress.phase}, ${progress.objectsWritten} objects, ${(progress.bytesWritten / 1e6).toFixed(1)} MB${p.failed ? `, ${p.failed} failed` : ''}`,
        },
      };
    },
    async list({ status, limit }) {
      const statusValue = Object.entries(EXPORT_STATUS_NAMES).find(([, name]) => name === status)?.[0];
      const entities: OfflineExportEntity[] = [];
      for (let page = 1; entities.length < limit; page++) {
        const { rows } = await listOfflineExportsForUser(ctx.sql, user.id, {
          page,
          perPage: Math.min(100, limit),
          status: statusValue === undefined ? undefined : (Number(statusValue) as 0 | 1 | 2 | -1),
        });
        entities.push(...rows.map(toEntity).slice(0, limit - entities.length));
        if (rows.length < Math.min(100, limit)) break;
      }
      return entities;
    },
    async cancel(id) {
      try {
        await cancelOfflineExport({ sql: ctx.sql, temporal: ctx.temporal }, user.id, id);
      } catch (err) {
        if (err instanceof OfflineExportNotFoundError) throw new CliError(err.message, ExitCode.NOT_FOUND);
        if (err instanceof OfflineExportNotCancellableError) throw new CliError(err.message, ExitCode.USAGE);
        throw err;
      }
    },
    // The same rows as the API's relations endpoint, read page by page.
    async *relations(id, status) {
      await find(id);
      for (let page = 1; ; page++) {
        const { rows } = await listExportRelations(ctx.sql, id, { status }, { page, perPage: 100 });
        if (rows.length > 0)
          yield rows.map((r) => ({ ...toRelationEntity(r), portable_full_path: r.portableFullPath ?? '' }));
        if (rows.length < 100) return;
      }
    },
  };
}
