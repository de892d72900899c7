import type { Command } from 'commander';
import { findOperation } from '../../../db/bulk-update/operations';
import { webUiLink } from '../../../contracts/temporal';
import { BULK_UPDATE_MODES } from '../../../contracts/bulk-update';
import { OperationNotFoundError, readOperationStatus, type OperationStatus } from '../../bulk-update/operation-status';
import { BulkUpdateRequestError } from '../../bulk-update/request';
import { startBulkUpdate } from '../../bulk-update/start-bulk-update';
import { actingUser, CliError, ExitCode, printJson, withContext, type CliContext } from '../context';
import { watch } from '../progress';

const ids = (value: string, previous: number[] = []) => {
  const parsed = value.split(',').map((v) => Number(v.trim()));
  if (parsed.some((n) => !Number.isInteger(n) || n < 1))
    throw new CliError(`${value} is not a list of ids`, ExitCode.USAGE);
  return [...previous, ...parsed];
};

async function view(ctx: CliContext, operationId: string, userId: number): Promise<OperationStatus> {
  try {
    return await readOperationStatus({ sql: ctx.sql, temporal: ctx.temporal }, operationId, userId);
  } catch (err) {
    if (err instanceof OperationNotFoundError) throw new CliError(err.message, ExitCode.NOT_FOUND);
    throw err;
  }
}

function exitCodeOf(v: OperationStatus): number {
  if (v.state === 'canceled' || v.state === 'terminated') return ExitCode.CANCELLED;
  if (v.state === 'finished') return v.failedItems > 0 ? ExitCode.FAILED : ExitCode.OK;
  return v.state === 'failed' || v.state === 'timed_out' ? ExitCode.FAILED : ExitCode.OK;
}

async function follow(ctx: CliContext, operationId: string, userId: number): Promise<OperationStatus> {
  return watch(
    async () => {
      const v = await view(ctx, operationId, userId);
      if (v.done) return { final: v };
      return {
        frame: {
          done: v.successfulItems + v.failedItems,
          total: v.totalItems,
          label: `${v.phase ?? v.state}${v.failedItems ? `, ${v.failedItems} failed` : ''}`,
        },
      };
    },
    { unit: 'projects', intervalMs: 500 },
  );
}

function report(ctx: CliContext, v: OperationStatus, json?: boolean): void {
  process.exitCode = exitCodeOf(v);
  if (json) {
    printJson({ ...v, webUi: webUiLink(ctx.config, v.workflowId) });
    return;
  }
  process.stdout.write(
    `operation ${v.operationId}: ${v.state}\n` +
      `  ${v.successfulItems} successful, ${v.failedItems} failed of ${v.totalItems} projects` +
      (v.notification ? `; email: ${v.notification}` : '') +
      `\n  ${webUiLink(ctx.config, v.workflowId)}\n`,
  );
}

export function registerBulkUpdateCommands(program: Command): void {
  const bulk = program.command('bulk-update').description('security-attribute bulk updates');

  bulk
    .command('start')
    .description('add, remove or replace security attributes on projects (groups expand to all their projects)')
    .requiredOption('--user <username>', 'the user who runs the update')
    .option('--group <ids>', 'group ids, comma separated (repeatable)', ids)
    .option('--project <ids>', 'project ids, comma separated (repeatable)', ids)
    .requiredOption('--attribute <ids>', 'security attribute ids, comma separated (repeatable)', ids)
    .requiredOption('--mode <mode>', `one of ${BULK_UPDATE_MODES.join(', ')}`)
    .option('--wait', 'follow the operation until it is done')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        user: string;
        group?: number[];
        project?: number[];
        attribute: number[];
        mode: string;
        wait?: boolean;
        json?: boolean;
      }) =>
        withContext(async (ctx) => {
          const user = await actingUser(ctx, opts.user);
          let started;
          try {
            started = await startBulkUpdate(
              { sql: ctx.sql, client: ctx.temporal, taskQueue: ctx.config.TEMPORAL_TASK_QUEUE_BULK_UPDATE },
              {
                userId: user.id,
                groupIds: opts.group ?? [],
                projectIds: opts.project ?? [],
                attributeIds: opts.attribute,
                mode: opts.mode,
              },
            );
          } catch (err) {
            if (err instanceof BulkUpdateRequestError) throw new CliError(err.problems.join('\n'), ExitCode.USAGE);
            throw err;
          }
          const v = opts.wait
            ? await follow(ctx, started.operationId, user.id)
            : await view(ctx, started.operationId, user.id);
          report(ctx, v, opts.json);
        }),
    );

  bulk
    .command('status <operationId>')
    .description('show an operation; --watch follows it with a progress bar')
    .requiredOption('--user <username>', 'the user who started it')
    .option('--watch', 'follow until done')
    .option('--json', 'print JSON')
    .action(async (operationId: string, opts: { user: string; watch?: boolean; json?: boolean }) =>
      withContext(async (ctx) => {
        const user = await actingUser(ctx, opts.user);
        const v = opts.watch ? await follow(ctx, operationId, user.id) : await view(ctx, operationId, user.id);
        report(ctx, v, opts.json);
      }),
    );

  bulk
    .command('cancel <operationId>')
    .description('cancel a running operation (projects already updated stay updated)')
    .requiredOption('--user <username>', 'the user who started it')
    .action(async (operationId: string, opts: { user: string }) =>
      withContext(async (ctx) => {
        const user = await actingUser(ctx, opts.user);
        const record = await findOperation(ctx.sql, operationId);
        if (!record || record.userId !== user.id)
          throw new CliError(`operation ${operationId} not found`, ExitCode.NOT_FOUND);
        await ctx.temporal.workflow.getHandle(record.workflowId).cancel();
        process.stdout.write(`cancellation requested for ${operationId}\n`);
        process.exitCode = ExitCode.CANCELLED;
      }),
    );
}
