import type { Command } from 'commander';
import { BULK_UPDATE_MODES } from '../../../contracts/bulk-update';
import { OPERATION_CANCELLED, type BackgroundOperation, type FailedItem } from '../api-shapes';
import { CliError, ExitCode, printJson } from '../errors';
import { watch } from '../progress';
import { printTable } from '../table';
import { positiveInt, resolveTarget, targetOptions, wantsJson, type TargetOptions } from '../target';
import { apiBulkUpdateBackend, operationDone, type BulkUpdateBackend } from './bulk-update-backend';

const ids = (value: string, previous: number[] = []) => {
  const parsed = value.split(',').map((v) => Number(v.trim()));
  if (parsed.some((n) => !Number.isInteger(n) || n < 1))
    throw new CliError(`${value} is not a list of ids`, ExitCode.USAGE);
  return [...previous, ...parsed];
};

/**
 * The exit code an operation's state gives, the same in every command: finished without failed items 0; finished
 * with failed items, failed or timed out 1; cancelled or terminated 4; still pending or running 0.
 */
export function operationExitCode(o: BackgroundOperation): number {
  if (OPERATION_CANCELLED.includes(o.status)) return ExitCode.CANCELLED;
  if (o.status === 'finished') return o.failed_items > 0 ? ExitCode.FAILED : ExitCode.OK;
  return o.status === 'failed' || o.status === 'timed_out' ? ExitCode.FAILED : ExitCode.OK;
}

async function withBulkUpdateBackend<T>(
  opts: TargetOptions,
  run: (backend: BulkUpdateBackend) => Promise<T>,
): Promise<T> {
  const target = resolveTarget(opts);
  if (target.kind === 'api') return run(apiBulkUpdateBackend(target.api));
  // The direct mode's modules (database, Temporal) load only here: API mode starts without them.
  const { actingUser, withContext } = await import('../context');
  const { directBulkUpdateBackend } = await import('./bulk-update-direct');
  return withContext(async (ctx) => run(directBulkUpdateBackend(ctx, await actingUser(ctx, target.user))));
}

async function follow(backend: BulkUpdateBackend, id: string) {
  return watch(
    async () => {
      const shown = await backend.show(id);
      const o = shown.operation;
      if (operationDone(o)) return { final: shown };
      return {
        frame: {
          done: o.successful_items + o.failed_items,
          total: o.total_items,
          label: `${o.phase ?? o.status}${o.failed_items ? `, ${o.failed_items} failed` : ''}`,
        },
      };
    },
    { unit: 'projects', intervalMs: 500 },
  );
}

function report(opts: TargetOptions, o: BackgroundOperation, extra: Record<string, unknown>): void {
  process.exitCode = operationExitCode(o);
  if (wantsJson(opts)) {
    printJson({ ...o, ...extra });
    return;
  }
  process.stdout.write(
    `operation ${o.id}: ${o.status}\n` +
      `  ${o.successful_items} successful, ${o.failed_items} failed of ${o.total_items} projects` +
      (o.notification ? `; email: ${JSON.stringify(o.notification)}` : '') +
      `\n` +
      (typeof extra.web_ui === 'string' ? `  ${extra.web_ui}\n` : `  workflow ${o.workflow_id}\n`) +
      (o.failed_items > 0 ? `  see: bulk-update failures ${o.id}\n` : ''),
  );
}

function printFailures(opts: TargetOptions, items: FailedItem[]): void {
  if (wantsJson(opts)) printJson(items);
  else
    printTable(
      ['project', 'path', 'code', 'error', 'reasons'],
      items.map((f) => [f.entity_id, f.entity_full_path, f.error_code, f.error_message, f.errors.join('; ')]),
      'no failed projects',
    );
}

export function registerBulkUpdateCommands(program: Command): void {
  const bulk = program.command('bulk-update').description('security-attribute bulk updates');

  targetOptions(
    bulk
      .command('start')
      .description('add, remove or replace security attributes on projects (groups expand to all their projects)')
      .option('--group <ids>', 'group ids, comma separated (repeatable)', ids)
      .option('--project <ids>', 'project ids, comma separated (repeatable)', ids)
      .requiredOption('--attribute <ids>', 'security attribute ids, comma separated (repeatable)', ids)
      .requiredOption('--mode <mode>', `one of ${BULK_UPDATE_MODES.join(', ')}`)
      .option('--wait', 'follow the operation until it is done, with a progress bar'),
  ).action(
    async (
      opts: TargetOptions & { group?: number[]; project?: number[]; attribute: number[]; mode: string; wait?: boolean },
    ) =>
      withBulkUpdateBackend(opts, async (backend) => {
        const started = await backend.start({
          group_ids: opts.group ?? [],
          project_ids: opts.project ?? [],
          attribute_ids: opts.attribute,
          mode: opts.mode,
        });
        if (opts.wait) {
          const shown = await follow(backend, started.operation_id);
          report(opts, shown.operation, shown.extra);
          return;
        }
        // Without --wait, the start's answer: the workflow may not have been picked up by a worker yet.
        if (wantsJson(opts)) printJson(started);
        else
          process.stdout.write(
            `operation ${started.operation_id}: started\n  ${started.message}\n  workflow ${started.workflow_id}\n`,
          );
      }),
  );

  targetOptions(
    bulk
      .command('status <operationId>')
      .description('show an operation; --watch follows it with a progress bar')
      .option('--watch', 'follow until done'),
  ).action(async (operationId: string, opts: TargetOptions & { watch?: boolean }) =>
    withBulkUpdateBackend(opts, async (backend) => {
      const shown = opts.watch ? await follow(backend, operationId) : await backend.show(operationId);
      report(opts, shown.operation, shown.extra);
    }),
  );

  targetOptions(
    bulk.command('list').description('your operations, newest first').option('--limit <n>', 'how many', '20'),
  ).action(async (opts: TargetOptions & { limit: string }) =>
    withBulkUpdateBackend(opts, async (backend) => {
      const operations = await backend.list(positiveInt(opts.limit, '--limit'));
      if (wantsJson(opts)) printJson(operations);
      else
        printTable(
          ['id', 'status', 'total', 'successful', 'failed', 'created_at'],
          operations.map((o) => [o.id, o.status, o.total_items, o.successful_items, o.failed_items, o.created_at]),
          'no operations',
        );
    }),
  );

  targetOptions(
    bulk
      .command('cancel <operationId>')
      .description('cancel a running operation; projects already updated stay updated (exit 0 once accepted)'),
  ).action(async (operationId: string, opts: TargetOptions) =>
    withBulkUpdateBackend(opts, async (backend) => {
      await backend.cancel(operationId);
      if (wantsJson(opts)) printJson({ id: operationId, status: 'cancel_requested' });
      else process.stdout.write(`cancellation requested for ${operationId}\n`);
      process.exitCode = ExitCode.OK;
    }),
  );

  targetOptions(
    bulk
      .command('failures <operationId>')
      .description("the operation's failed projects with their errors (from PostgreSQL, also after it ended)"),
  ).action(async (operationId: string, opts: TargetOptions) =>
    withBulkUpdateBackend(opts, async (backend) => {
      const items: FailedItem[] = [];
      for await (const page of backend.failures(operationId)) items.push(...page);
      printFailures(opts, items);
    }),
  );
}
