import { Option, type Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { loadEnvFile } from '../../../contracts/env-file';
import { devBucketExportBody } from '../../offline-export/dev-bucket';
import type { ExportRelation, OfflineExportEntity } from '../api-shapes';
import { CliError, ExitCode, printJson } from '../errors';
import { watch } from '../progress';
import { printTable } from '../table';
import { positiveInt, resolveTarget, targetOptions, wantsJson, type TargetOptions } from '../target';
import { apiExportBackend, type ExportBackend } from './export-backend';

/**
 * The exit code an export's state gives, the same in every command: finished without failures 0, finished with
 * failures or failed 1 (an export cancelled ends failed), still created or started 0 (nothing went wrong yet).
 */
export function exportExitCode(entity: OfflineExportEntity): number {
  if (entity.status === 'failed') return ExitCode.FAILED;
  if (entity.status === 'finished') return entity.has_failures ? ExitCode.FAILED : ExitCode.OK;
  return ExitCode.OK;
}

/** Runs a command against the backend its options select: the API with a token, or --direct as --user. */
async function withExportBackend<T>(opts: TargetOptions, run: (backend: ExportBackend) => Promise<T>): Promise<T> {
  const target = resolveTarget(opts);
  if (target.kind === 'api') return run(apiExportBackend(target.api));
  // The direct mode's modules (database, Temporal, AWS SDK) load only here: API mode starts without them.
  const { actingUser, withContext } = await import('../context');
  const { directExportBackend } = await import('./export-direct');
  return withContext(async (ctx) => run(directExportBackend(ctx, await actingUser(ctx, target.user))));
}

const exportId = (value: string) => positiveInt(value, 'the export id');

/**
 * The local stack's bucket and credentials from its settings (dev.env), for --dev-bucket over the API: only the
 * S3 variables are read, so that API mode needs no database or Temporal setting.
 */
function devBucketFromEnvironment(entities: string[]): unknown {
  loadEnvFile();
  const names = ['S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_REGION', 'S3_ENDPOINT'] as const;
  const missing = names.filter((n) => !process.env[n]);
  if (missing.length > 0)
    throw new CliError(`--dev-bucket needs ${missing.join(', ')} (the local stack's dev.env)`, ExitCode.CONFIG);
  const [S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION, S3_ENDPOINT] = names.map(
    (n) => process.env[n] as string,
  ) as [string, string, string, string, string];
  return devBucketExportBody({ S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION, S3_ENDPOINT }, entities);
}

function printEntity(entity: OfflineExportEntity, extra: Record<string, unknown> = {}): void {
  const progress = extra.progress as
    | { phase: string; portables: { total: number; finished: number; failed: number }; objects_written: number }
    | undefined;
  process.stdout.write(
    `export ${entity.id}: ${entity.status}${entity.has_failures ? ' (with failures)' : ''}\n` +
      `  bucket ${entity.bucket}, prefix ${entity.export_prefix}\n` +
      (progress
        ? `  ${progress.phase}: ${progress.portables.finished + progress.portables.failed}/${progress.portables.total} groups and projects, ${progress.objects_written} objects\n`
        : '') +
      (typeof extra.web_ui === 'string' ? `  ${extra.web_ui}\n` : '') +
      (entity.has_failures ? `  see: export failures ${entity.id}\n` : ''),
  );
}

function report(opts: TargetOptions, entity: OfflineExportEntity, extra: Record<string, unknown> = {}): void {
  if (wantsJson(opts)) printJson({ ...entity, ...extra });
  else printEntity(entity, extra);
  process.exitCode = exportExitCode(entity);
}

const follow = (backend: ExportBackend, id: number) => watch(() => backend.poll(id), { unit: backend.unit });

/** Columns of `export log`, in the API's names: one line per portable and relation, as migration tools log. */
const LOG_COLUMNS: (keyof ExportRelation)[] = [
  'portable_full_path',
  'portable_type',
  'relation',
  'status',
  'total_objects_count',
  'batches_count',
  'batched',
  'error',
  'updated_at',
];

/**
 * Writes the relations as CSV (RFC 4180 quoting by csv-stringify) page by page. A file is written beside its name
 * and renamed at the end, so that a failed read leaves no half log where the complete one was expected.
 */
async function writeLog(pages: AsyncGenerator<ExportRelation[]>, out?: string): Promise<number> {
  const target = out ? `${out}.partial` : undefined;
  const fd = target ? openSync(target, 'w') : undefined;
  const write = (text: string) => (fd === undefined ? process.stdout.write(text) : writeSync(fd, text));
  let count = 0;
  try {
    write(stringify([], { header: true, columns: LOG_COLUMNS }));
    for await (const page of pages) {
      write(stringify(page, { columns: LOG_COLUMNS, cast: { boolean: (b) => String(b) } }));
      count += page.length;
    }
  } catch (err) {
    if (fd !== undefined) {
      closeSync(fd);
      rmSync(target as string, { force: true });
    }
    throw err;
  }
  if (fd !== undefined) {
    closeSync(fd);
    renameSync(target as string, out as string);
  }
  return count;
}

export function registerExportCommands(program: Command): void {
  const exp = program.command('export').description('offline transfer exports');

  targetOptions(
    exp
      .command('start')
      .description("start an export; the request body is the API's (bucket, one storage configuration, entities)")
      .option('--body <file>', 'JSON request body ("-" for stdin), as for POST /api/v4/offline_exports')
      .option('--entity <full_path...>', 'group or project to export (with --dev-bucket)')
      .option('--dev-bucket', "export to the local stack's bucket with its credentials instead of a --body")
      .option('--wait', 'follow the export until it is done, with a progress bar'),
  ).action(async (opts: TargetOptions & { body?: string; entity?: string[]; devBucket?: boolean; wait?: boolean }) =>
    withExportBackend(opts, async (backend) => {
      let body: unknown;
      if (opts.body) {
        try {
          body = JSON.parse(readFileSync(opts.body === '-' ? 0 : opts.body, 'utf8'));
        } catch (err) {
          throw new CliError(`cannot read the request body: ${(err as Error).message}`, ExitCode.USAGE);
        }
      } else if (opts.devBucket) {
        body = devBucketFromEnvironment(opts.entity ?? []);
      } else {
        throw new CliError('give --body <file> or --dev-bucket with --entity', ExitCode.USAGE);
      }
      const { entity, extra } = await backend.start(body);
      report(opts, opts.wait ? await follow(backend, entity.id) : entity, extra);
    }),
  );

  targetOptions(
    exp
      .command('status <id>')
      .description('show an export; --watch follows it with a progress bar')
      .option('--watch', 'follow until done'),
  ).action(async (idText: string, opts: TargetOptions & { watch?: boolean }) =>
    withExportBackend(opts, async (backend) => {
      const id = exportId(idText);
      const shown = await backend.show(id);
      if (opts.watch) report(opts, await follow(backend, id), { web_ui: shown.extra.web_ui });
      else report(opts, shown.entity, shown.extra);
    }),
  );

  targetOptions(
    exp
      .command('list')
      .description('your exports, newest first')
      .addOption(new Option('--status <status>', 'only these').choices(['created', 'started', 'finished', 'failed']))
      .option('--limit <n>', 'how many', '20'),
  ).action(async (opts: TargetOptions & { status?: OfflineExportEntity['status']; limit: string }) =>
    withExportBackend(opts, async (backend) => {
      const entities = await backend.list({ status: opts.status, limit: positiveInt(opts.limit, '--limit') });
      if (wantsJson(opts)) printJson(entities);
      else
        printTable(
          ['id', 'status', 'failures', 'created_at', 'export_prefix'],
          entities.map((e) => [e.id, e.status, e.has_failures ? 'yes' : '', e.created_at, e.export_prefix]),
          'no exports',
        );
    }),
  );

  targetOptions(
    exp
      .command('cancel <id>')
      .description('cancel a running export: uploads stop and the export ends failed (exit 0 once accepted)'),
  ).action(async (idText: string, opts: TargetOptions) =>
    withExportBackend(opts, async (backend) => {
      const id = exportId(idText);
      await backend.cancel(id);
      if (wantsJson(opts)) printJson({ id, cancel_requested: true });
      else process.stdout.write(`cancellation requested for export ${id}\n`);
      process.exitCode = ExitCode.OK;
    }),
  );

  targetOptions(
    exp.command('failures <id>').description("the export's failed relations: portable, relation and error"),
  ).action(async (idText: string, opts: TargetOptions) =>
    withExportBackend(opts, async (backend) => {
      const failed: ExportRelation[] = [];
      for await (const page of backend.relations(exportId(idText), 'failed')) failed.push(...page);
      if (wantsJson(opts)) printJson(failed);
      else
        printTable(
          ['portable', 'type', 'relation', 'error'],
          failed.map((r) => [r.portable_full_path, r.portable_type, r.relation, r.error]),
          'no failed relations',
        );
    }),
  );

  targetOptions(
    exp
      .command('log <id>')
      .description(
        'every relation of every portable as CSV (path, type, relation, status, objects, batches, error), or JSON',
      )
      .option('--out <file>', 'write to this file instead of stdout'),
  ).action(async (idText: string, opts: TargetOptions & { out?: string }) =>
    withExportBackend(opts, async (backend) => {
      const pages = backend.relations(exportId(idText));
      if (wantsJson(opts)) {
        const all: ExportRelation[] = [];
        for await (const page of pages) all.push(...page);
        if (!opts.out) printJson(all);
        else {
          const fd = openSync(`${opts.out}.partial`, 'w');
          writeSync(fd, `${JSON.stringify(all, null, 2)}\n`);
          closeSync(fd);
          renameSync(`${opts.out}.partial`, opts.out);
        }
        return;
      }
      const lines = await writeLog(pages, opts.out);
      if (opts.out) process.stderr.write(`${lines} relations written to ${opts.out}\n`);
    }),
  );
}
