import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { WorkflowNotFoundError } from '@temporalio/client';
import { findOfflineExportForUser, listOfflineExportsForUser } from '../../../db/offline-export/exports-read';
import type { AuthenticatedUser } from '../../../db/users';
import { webUiLink } from '../../../contracts/temporal';
import {
  offlineExportProgressQuery,
  offlineExportWorkflowId,
  type OfflineExportProgress,
} from '../../../contracts/offline-export';
import { EXPORT_STATUS_NAMES } from '../../../db/offline-export/statuses';
import { devBucketExportBody } from '../../offline-export/dev-bucket';
import {
  createOfflineExport,
  OfflineExportRequestError,
  toEntity,
  type OfflineExportEntity,
} from '../../offline-export/create-service';
import { actingUser, CliError, ExitCode, printJson, withContext, type CliContext } from '../context';
import { watch } from '../progress';

function exitCodeOf(entity: OfflineExportEntity): number {
  return entity.status === 'finished' ? ExitCode.OK : entity.status === 'failed' ? ExitCode.FAILED : ExitCode.OK;
}

/** Follows an export until it finishes or fails, with a bar of portables done. */
async function follow(ctx: CliContext, user: AuthenticatedUser, id: number): Promise<OfflineExportEntity> {
  const handle = ctx.temporal.workflow.getHandle(offlineExportWorkflowId(id));
  return watch(
    async () => {
      const row = await findOfflineExportForUser(ctx.sql, user.id, id);
      if (!row) throw new CliError(`export ${id} not found`, ExitCode.NOT_FOUND);
      const entity = toEntity(row);
      // The export is done once its row says so; its workflow may stay open for the credential purge timer.
      if (entity.status === 'finished' || entity.status === 'failed') return { final: entity };
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
    { unit: 'groups and projects' },
  );
}

function printEntity(entity: OfflineExportEntity, link?: string): void {
  process.stdout.write(
    `export ${entity.id}: ${entity.status}${entity.has_failures ? ' (with failures)' : ''}\n` +
      `  bucket ${entity.bucket}, prefix ${entity.export_prefix}\n` +
      (link ? `  ${link}\n` : ''),
  );
}

export function registerExportCommands(program: Command): void {
  const exp = program.command('export').description('offline transfer exports');

  exp
    .command('start')
    .description("start an export; the request body is the API's (bucket, one storage configuration, entities)")
    .requiredOption('--user <username>', 'the user who asks for the export')
    .option('--body <file>', 'JSON request body ("-" for stdin), as for POST /api/v4/offline_exports')
    .option('--entity <full_path...>', 'group or project to export (with --dev-bucket)')
    .option('--dev-bucket', "export to the local stack's bucket with its credentials instead of a --body")
    .option('--wait', 'follow the export until it is done')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        user: string;
        body?: string;
        entity?: string[];
        devBucket?: boolean;
        wait?: boolean;
        json?: boolean;
      }) =>
        withContext(async (ctx) => {
          const user = await actingUser(ctx, opts.user);
          let body: unknown;
          if (opts.body) {
            try {
              body = JSON.parse(readFileSync(opts.body === '-' ? 0 : opts.body, 'utf8'));
            } catch (err) {
              throw new CliError(`cannot read the request body: ${(err as Error).message}`, ExitCode.USAGE);
            }
          } else if (opts.devBucket) {
            body = devBucketExportBody(ctx.config, opts.entity ?? []);
          } else {
            throw new CliError('give --body <file> or --dev-bucket with --entity', ExitCode.USAGE);
          }
          let created;
          try {
            created = await createOfflineExport(
              { sql: ctx.sql, temporal: ctx.temporal, config: ctx.config },
              user,
              body,
            );
          } catch (err) {
            if (err instanceof OfflineExportRequestError) throw new CliError(err.message, ExitCode.USAGE);
            throw err;
          }
          const link = webUiLink(ctx.config, created.workflowId);
          const entity = opts.wait ? await follow(ctx, user, created.export.id) : created.export;
          if (opts.json) printJson({ ...entity, workflow_id: created.workflowId, web_ui: link });
          else printEntity(entity, link);
          process.exitCode = exitCodeOf(entity);
        }),
    );

  exp
    .command('status <id>')
    .description('show an export; --watch follows it with a progress bar')
    .requiredOption('--user <username>', 'the user who owns the export')
    .option('--watch', 'follow until done')
    .option('--json', 'print JSON')
    .action(async (idText: string, opts: { user: string; watch?: boolean; json?: boolean }) =>
      withContext(async (ctx) => {
        const id = Number(idText);
        if (!Number.isInteger(id) || id < 1) throw new CliError(`${idText} is not an export id`, ExitCode.USAGE);
        const user = await actingUser(ctx, opts.user);
        const row = await findOfflineExportForUser(ctx.sql, user.id, id);
        if (!row) throw new CliError(`export ${id} not found`, ExitCode.NOT_FOUND);
        const entity = opts.watch ? await follow(ctx, user, id) : toEntity(row);
        let progress: OfflineExportProgress | undefined;
        if (!opts.watch && entity.status !== 'finished' && entity.status !== 'failed') {
          progress = await ctx.temporal.workflow
            .getHandle(offlineExportWorkflowId(id))
            .query(offlineExportProgressQuery)
            .catch(() => undefined);
        }
        const link = webUiLink(ctx.config, offlineExportWorkflowId(id));
        if (opts.json) printJson({ ...entity, progress, web_ui: link });
        else {
          printEntity(entity, link);
          if (progress) {
            const p = progress.portables;
            process.stdout.write(
              `  ${progress.phase}: ${p.finished + p.failed}/${p.total} groups and projects, ${progress.objectsWritten} objects\n`,
            );
          }
        }
        process.exitCode = exitCodeOf(entity);
      }),
    );

  exp
    .command('list')
    .description("the user's exports, newest first")
    .requiredOption('--user <username>', 'whose exports')
    .option('--status <status>', 'created, started, finished or failed')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (opts: { user: string; status?: string; limit: string; json?: boolean }) =>
      withContext(async (ctx) => {
        const user = await actingUser(ctx, opts.user);
        const statusEntry = Object.entries(EXPORT_STATUS_NAMES).find(([, name]) => name === opts.status);
        if (opts.status && !statusEntry)
          throw new CliError('--status must be created, started, finished or failed', ExitCode.USAGE);
        const { rows, total } = await listOfflineExportsForUser(ctx.sql, user.id, {
          perPage: Number(opts.limit) || 20,
          status: statusEntry ? (Number(statusEntry[0]) as 0 | 1 | 2 | -1) : undefined,
        });
        const entities = rows.map(toEntity);
        if (opts.json) printJson({ total, exports: entities });
        else
          for (const e of entities)
            process.stdout.write(
              `${String(e.id).padStart(6)}  ${e.status.padEnd(9)} ${e.has_failures ? 'failures ' : '         '}${e.created_at}  ${e.export_prefix}\n`,
            );
      }),
    );

  exp
    .command('cancel <id>')
    .description('cancel a running export: uploads stop and the export is marked failed')
    .requiredOption('--user <username>', 'the user who owns the export')
    .action(async (idText: string, opts: { user: string }) =>
      withContext(async (ctx) => {
        const id = Number(idText);
        const user = await actingUser(ctx, opts.user);
        if (!Number.isInteger(id) || !(await findOfflineExportForUser(ctx.sql, user.id, id))) {
          throw new CliError(`export ${idText} not found`, ExitCode.NOT_FOUND);
        }
        const handle = ctx.temporal.workflow.getHandle(offlineExportWorkflowId(id));
        await handle.cancel();
        process.stdout.write(`cancellation requested for export ${id}\n`);
        process.exitCode = ExitCode.CANCELLED;
      }),
    );
}
