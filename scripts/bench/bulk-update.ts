import { Client, Connection } from '@temporalio/client';
import { createHash, randomUUID } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import { failedItemsKey, operationKey, type FailedItem } from '../../db/bulk-update/redis-store';
import { generateOperationId } from '../../contracts/operation-id';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { insertOperation } from '../../db/bulk-update/operations';
import { createSql, type Sql } from '../../db/sql';
import { runNodeScript, transactions } from './common';
import { mailForOperation } from '../../test/helpers/mail';
import { loadConfig, type Config } from '../../contracts/config';
import { loadEnvFile } from '../../contracts/env-file';
import { temporalConnectionOptions } from '../../contracts/temporal';
import {
  BULK_UPDATE_WORKFLOW,
  bulkUpdateWorkflowId,
  OPERATION_TYPE_ATTRIBUTE_UPDATE,
  type BulkUpdateWorkflowResult,
} from '../../contracts/bulk-update';
import type { BulkBaselineOptions, BulkBaselineResult, RedisSnapshot } from './bulk-update-script';
import { snapshotOf } from './bulk-update-script';
import { benchAttribute, ensureBulkSeeded, resetBulkState, type BulkBenchDatabase } from './bulk-update-seed';
import { cpuSnapshot, cpuUsage } from './cpu';
import { historyStatsByQuery, type HistoryStats } from './histories';
import { buildWorkflowBundle, startBenchWorker, type BenchWorker } from './worker-process';

// npm run bench:bulk-update -- [--size small|10k|100k] [--projects N] [--workers 1,2] [--profile] [--env K=V] [--node-flag F]
// For each size, in one run and on the same data reset to the same starting state before each part:
//   the plain-script baseline (the activities' own functions, per project, no Temporal), the set-based limit (each
//   batch one SQL statement and one Redis script, no Temporal: bulk-update-limit.ts), then the full BulkUpdateWorkflow with
//   one (and, with --workers 1,2, two) real worker processes: ADD of the 'Air-gapped' attribute to every project of
//   one root group (the tenth of them that already hold 'Internal', same single-selection category, fail: the
//   failure path, the failed-items list and the email are measured too). Prints figures and ratios; asserts nothing.

const ALICE = 2; // Owner of every seeded root group

const SIZES: Record<string, number> = { small: 1_000, '10k': 10_000, '100k': 100_000 };

interface Options {
  size: string[];
  projects?: number;
  workers: number[];
  profile: boolean;
  nodeFlag: string[];
  baseline: boolean;
  limit: boolean;
  histories: number;
  env: string[];
  out: string;
}

/** What a run left behind, compared between the baseline and every worker count. */
interface Outcome {
  links: number;
  linksDigest: string;
  succeeded: number;
  failed: number;
  failedDigest: string;
  redis?: { totalItems: number; successfulItems: number; failedItems: number; failedDigest: string };
  emails: number;
  emailDigest: string;
}

interface WorkflowRun {
  workers: number;
  operationId: string;
  wallMs: number;
  result: BulkUpdateWorkflowResult;
  transactions: number;
  workerPeakRss: number[];
  workerRssAtReady: number[];
  workerPids: number[];
  cpuSeconds: Record<string, number>;
  history: HistoryStats;
  batchesPerWorker: Record<string, number>;
  outcome: Outcome;
  profileDir?: string;
}

const int = (name: string) => (value: string) => {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive whole number`);
  return n;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const perSec = (n: number, ms: number) => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`;

/** Follows the operation's Redis keys until they are deleted; keeps the last complete view (counters + list). */
function watchRedis(redis: Redis, operationId: string): { stop: () => Promise<RedisSnapshot | undefined> } {
  let last: RedisSnapshot | undefined;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const [total, ok, bad, status] = await redis.hmget(
        operationKey(operationId),
        'total_items',
        'successful_items',
        'failed_items',
        'status',
      );
      if (total !== null && Number(total) > 0 && Number(ok) + Number(bad) === Number(total)) {
        const items = (await redis.lrange(failedItemsKey(operationId), 0, -1)).map((x) => JSON.parse(x) as FailedItem);
        last = snapshotOf(
          { total_items: Number(total), successful_items: Number(ok), failed_items: Number(bad), status: status ?? '' },
          items,
        );
        if (last && items.length === last.failedItems) {
          // Complete: nothing changes any more until the cleanup deletes the keys.
          while (!stopped && (await redis.exists(operationKey(operationId))) === 1) await sleep(100);
          break;
        }
      }
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop.catch(() => undefined);
      return last;
    },
  };
}

async function outcomeOf(
  sql: Sql,
  operationId: string,
  attributeId: number,
  rootId: number,
  redis: RedisSnapshot | undefined,
): Promise<Outcome> {
  const links = await sql<{ project_id: number }[]>`
    select pa.project_id from project_to_security_attributes pa
    join projects p on p.id = pa.project_id join namespaces n on n.id = p.namespace_id
    where pa.security_attribute_id = ${attributeId} and n.traversal_ids[1] = ${rootId} order by pa.project_id`;
  const rows = await sql<{ project_id: number; outcome: string | null; error_message: string | null }[]>`
    select project_id, outcome, error_message from background_operation_projects
    where operation_id = ${operationId} order by project_id`;
  const failed = rows.filter((r) => r.outcome === 'failed');
  let mails = await mailForOperation(operationId).catch(() => []);
  for (let i = 0; i < 40 && mails.length === 0 && failed.length > 0; i++) {
    await sleep(250);
    mails = await mailForOperation(operationId).catch(() => []);
  }
  const normalise = (t: string) => t.split(operationId).join('<op>');
  return {
    links: links.length,
    linksDigest: sha(links.map((l) => l.project_id).join(',')),
    succeeded: rows.filter((r) => r.outcome === 'succeeded').length,
    failed: failed.length,
    failedDigest: sha(failed.map((r) => `${r.project_id}:${r.error_message}`).join('\n')),
    redis: redis && {
      totalItems: redis.totalItems,
      successfulItems: redis.successfulItems,
      failedItems: redis.failedItems,
      failedDigest: sha(redis.failed.join('\n')),
    },
    emails: mails.length,
    emailDigest: sha(mails.map((m) => `${m.subject}\n${normalise(m.text)}`).join('\n---\n')),
  };
}

function sameOutcome(a: Outcome, b: Outcome): string {
  const diffs: string[] = [];
  if (a.links !== b.links || a.linksDigest !== b.linksDigest)
    diffs.push(`links ${a.links}/${a.linksDigest} vs ${b.links}/${b.linksDigest}`);
  if (a.succeeded !== b.succeeded || a.failed !== b.failed || a.failedDigest !== b.failedDigest)
    diffs.push('project outcomes');
  if (JSON.stringify(a.redis) !== JSON.stringify(b.redis))
    diffs.push(`redis ${JSON.stringify(a.redis)} vs ${JSON.stringify(b.redis)}`);
  if (a.emails !== b.emails || a.emailDigest !== b.emailDigest)
    diffs.push(`email ${a.emails}/${a.emailDigest} vs ${b.emails}/${b.emailDigest}`);
  return diffs.length === 0 ? 'identical' : `DIFFERENT: ${diffs.join('; ')}`;
}

/** bulk-update-baseline.ts (the per-project plain script) or bulk-update-limit.ts (one statement per batch). */
async function runBaseline(
  db: BulkBenchDatabase,
  sql: Sql,
  config: Config,
  attributeId: number,
  outDir: string,
  script: 'bulk-update-baseline' | 'bulk-update-limit' = 'bulk-update-baseline',
): Promise<{ result: BulkBaselineResult; transactions: number; outcome: Outcome; operationId: string }> {
  await resetBulkState(sql, attributeId);
  // The request recorded as startBulkUpdate records it (its checks are the API's, not the update's).
  const operationId = generateOperationId(OPERATION_TYPE_ATTRIBUTE_UPDATE, ALICE);
  const workflowId = `bench-${script}:${operationId}`;
  await insertOperation(sql, {
    id: operationId,
    operationType: OPERATION_TYPE_ATTRIBUTE_UPDATE,
    userId: ALICE,
    workflowId,
    mode: 'ADD',
    attributeIds: [attributeId],
    groupIds: [db.rootId],
    projectIds: [],
  });
  const options: BulkBaselineOptions = {
    databaseUrl: db.url,
    operationId,
    workflowId,
    batchSize: config.BULK_UPDATE_BATCH_SIZE,
    lanes: config.BULK_UPDATE_MAX_CONCURRENT_BATCHES,
  };
  const file = join(outDir, `${script}-${randomUUID().slice(0, 8)}.json`);
  writeFileSync(file, JSON.stringify(options));
  const before = await transactions(sql);
  const out = await runNodeScript(join(__dirname, `${script}.ts`), `@${file}`).finally(() =>
    rmSync(file, { force: true }),
  );
  const xacts = (await transactions(sql)) - before;
  const result = JSON.parse(out.trim().split('\n').pop()!) as BulkBaselineResult;
  return {
    result,
    transactions: xacts,
    outcome: await outcomeOf(sql, operationId, attributeId, db.rootId, result.redis),
    operationId,
  };
}

async function runWorkflow(
  db: BulkBenchDatabase,
  sql: Sql,
  client: Client,
  redis: Redis,
  attributeId: number,
  workerCount: number,
  workerEnv: Record<string, string>,
  opts: Options,
  outDir: string,
  log: (line: string) => void,
): Promise<WorkflowRun> {
  await resetBulkState(sql, attributeId);
  const taskQueue = `bench-bulk-${db.projects}-${randomUUID().slice(0, 8)}`;
  // Workers start as production ones do, on the prebuilt workflow bundle: their memory is the worker's, not webpack's.
  buildWorkflowBundle();
  const env = {
    WORKER_PREBUILT_BUNDLE: 'true',
    ...workerEnv,
    TEMPORAL_TASK_QUEUE_BULK_UPDATE: taskQueue,
    TEMPORAL_TASK_QUEUE_EXPORT: taskQueue,
  };
  const profileDir = join(outDir, `cpu-profile-bulk-${db.projects}-${workerCount}w-${Date.now()}`);
  const flags = [...(opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...opts.nodeFlag];
  const workers: BenchWorker[] = [];
  for (let i = 0; i < workerCount; i++) workers.push(startBenchWorker(env, flags));
  try {
    await Promise.all(workers.map((w) => w.ready));
  } catch (err) {
    for (const w of workers) await w.stop();
    throw err;
  }
  log(`${workerCount} worker(s) ready (${workers.map((w) => w.pid).join(', ')}) on ${taskQueue}`);

  const xactBefore = await transactions(sql);
  const stopSampling = workers.map((w) => w.sample());
  const cpuBefore = cpuSnapshot();
  const started = Date.now();
  const op = await startBulkUpdate(
    { sql, client, taskQueue },
    { userId: ALICE, groupIds: [db.rootId], attributeIds: [attributeId], mode: 'ADD' },
  );
  const watcher = watchRedis(redis, op.operationId);
  const result = (await client.workflow
    .getHandle(bulkUpdateWorkflowId(op.operationId))
    .result()) as BulkUpdateWorkflowResult;
  const wallMs = Date.now() - started;
  const cpu = cpuUsage(
    cpuBefore,
    cpuSnapshot(),
    workers.map((w) => w.pid),
  );
  const peaks = stopSampling.map((stop) => stop());
  const xacts = (await transactions(sql)) - xactBefore;
  const snapshot = await watcher.stop();
  const atReady = workers.map((w) => w.rssAtReady());
  for (const w of workers) await w.stop();
  log(
    `operation ${op.operationId}: ${result.totalItems} projects in ${s1(wallMs)} (${result.runs} runs); reading histories`,
  );

  const history = await historyStatsByQuery(
    client,
    `BulkOperationId = "${op.operationId}"`,
    BULK_UPDATE_WORKFLOW,
    opts.histories,
    // Parent runs plus at least one child: since ranges there are fewer children than batches.
    result.runs + 1,
  );
  const batchesPerWorker: Record<string, number> = {};
  for (const [identity, byType] of Object.entries(history.perIdentityByType)) {
    batchesPerWorker[identity] = (byType.processBulkUpdateBatch ?? 0) + (byType.processBulkUpdateBatches ?? 0);
  }
  return {
    workers: workerCount,
    operationId: op.operationId,
    wallMs,
    result,
    transactions: xacts,
    workerPeakRss: peaks,
    workerRssAtReady: atReady,
    workerPids: workers.map((w) => w.pid),
    cpuSeconds: cpu,
    history,
    batchesPerWorker,
    outcome: await outcomeOf(sql, op.operationId, attributeId, db.rootId, snapshot),
    profileDir: opts.profile ? profileDir : undefined,
  };
}

function print(title: string, rows: [string, string][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\n=== ${title} ===\n`);
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

async function benchSize(projects: number, name: string, opts: Options, outDir: string): Promise<unknown> {
  const log = (line: string) => process.stdout.write(`[${name}] ${line}\n`);
  loadEnvFile();
  const base = loadConfig();
  const db = await ensureBulkSeeded(base.DATABASE_URL, projects, log);
  const overrides = Object.fromEntries(
    opts.env.map((kv) => {
      const at = kv.indexOf('=');
      if (at < 1) throw new InvalidArgumentError(`--env takes KEY=VALUE (got ${kv})`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
  const workerEnv: Record<string, string> = { DATABASE_URL: db.url, ...overrides };
  // The baseline process reads the same settings from the environment.
  Object.assign(process.env, workerEnv);
  const config = loadConfig({ ...process.env, ...workerEnv });
  const sql = createSql(db.url, { max: 4, applicationName: 'bench-bulk-update' });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 });
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  try {
    const attributeId = await benchAttribute(sql, db.rootPath);
    const rows: [string, string][] = [];
    rows.push([
      'instance',
      `${db.projects.toLocaleString('en-US')} projects under ${db.rootPath} (db ${db.name}${db.reused ? ', reused' : `, seeded in ${s1(db.seedMs)}`})`,
    ]);
    rows.push(['operation', `ADD 'Air-gapped' (attribute ${attributeId}) to group ${db.rootId}; user ${ALICE}`]);
    rows.push([
      'settings',
      `${opts.nodeFlag.length ? `worker node flags ${opts.nodeFlag.join(' ')}, ` : ''}batch ${config.BULK_UPDATE_BATCH_SIZE}, window ${config.BULK_UPDATE_MAX_CONCURRENT_BATCHES}, batches per child ${config.BULK_UPDATE_BATCHES_PER_CHILD}, batches per run ${config.BULK_UPDATE_BATCHES_PER_RUN}, pool ${config.DATABASE_POOL_SIZE}${Object.keys(overrides).length ? `, overrides ${JSON.stringify(overrides)}` : ''}`,
    ]);
    rows.push([
      'load average at start',
      loadavg()
        .map((x) => x.toFixed(1))
        .join(' '),
    ]);

    let baseline: Awaited<ReturnType<typeof runBaseline>> | undefined;
    if (opts.baseline) {
      log("baseline (plain script, the activities' functions without Temporal) ...");
      baseline = await runBaseline(db, sql, config, attributeId, outDir);
      const b = baseline.result;
      log(`baseline: ${s1(b.ms)}`);
      rows.push([
        'baseline: wall time',
        `${s1(b.ms)} (${perSec(b.totalItems, b.ms)} projects, ${b.batches} batches, ${b.successful} ok, ${b.failed} failed, email ${b.notification}, peak RSS ${mb(b.peakRssBytes)})`,
      ]);
      rows.push([
        'baseline: db transactions',
        `${baseline.transactions.toLocaleString('en-US')} (${(baseline.transactions / Math.max(1, b.totalItems)).toFixed(2)} per project)`,
      ]);
    }

    let limit: Awaited<ReturnType<typeof runBaseline>> | undefined;
    if (opts.limit) {
      log('set-based limit (one statement per batch, no Temporal) ...');
      limit = await runBaseline(db, sql, config, attributeId, outDir, 'bulk-update-limit');
      const l = limit.result;
      log(`limit: ${s1(l.ms)}`);
      rows.push([
        'set-based limit: wall time',
        `${s1(l.ms)} (${perSec(l.totalItems, l.ms)} projects, ${l.batches} batches, ${l.successful} ok, ${l.failed} failed, email ${l.notification}, peak RSS ${mb(l.peakRssBytes)})`,
      ]);
      rows.push([
        'set-based limit: db transactions',
        `${limit.transactions.toLocaleString('en-US')} (${(limit.transactions / Math.max(1, l.totalItems)).toFixed(2)} per project)`,
      ]);
      if (baseline) rows.push(['set-based limit: outcome vs baseline', sameOutcome(limit.outcome, baseline.outcome)]);
    }

    const runs: WorkflowRun[] = [];
    for (const n of opts.workers) {
      log(`workflow with ${n} worker process(es) ...`);
      const run = await runWorkflow(db, sql, client, redis, attributeId, n, workerEnv, opts, outDir, log);
      runs.push(run);
      const r = run.result;
      const h = run.history;
      const p = `workflow (${n} worker${n > 1 ? 's' : ''})`;
      rows.push([
        `${p}: wall time`,
        `${s1(run.wallMs)} (${perSec(r.totalItems, run.wallMs)} projects, ${r.batchCount} batches, ${r.successfulItems} ok, ${r.failedItems} failed, email ${r.notification})`,
      ]);
      rows.push([
        `${p}: db transactions`,
        `${run.transactions.toLocaleString('en-US')} (${(run.transactions / Math.max(1, r.totalItems)).toFixed(2)} per project)`,
      ]);
      rows.push([
        `${p}: histories`,
        `${h.parentRuns} parent runs (largest ${h.largestParentRun} events), ${h.children} batch children (largest ${h.largestChild} events), ${h.totalEvents.toLocaleString('en-US')} events in all; ${h.historiesRead} read`,
      ]);
      rows.push([
        `${p}: worker peak RSS`,
        `${run.workerPeakRss.map(mb).join(', ')} (when ready: ${run.workerRssAtReady.map(mb).join(', ')})`,
      ]);
      rows.push([
        `${p}: cpu seconds`,
        Object.entries(run.cpuSeconds)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', '),
      ]);
      for (const [key, t] of Object.entries(h.timings)) {
        rows.push([
          `  ${key}`,
          `${t.count} x: mean wait ${(t.waitMs / t.count).toFixed(0)} ms, mean run ${(t.runMs / t.count).toFixed(0)} ms (summed run ${s1(t.runMs)})`,
        ]);
      }
      for (const [identity, batches] of Object.entries(run.batchesPerWorker))
        rows.push([`  worker ${identity}`, `${batches} batch (or batch range) activities`]);
      if (baseline) rows.push([`${p}: outcome vs baseline`, sameOutcome(run.outcome, baseline.outcome)]);
      if (limit) rows.push([`${p}: outcome vs set-based limit`, sameOutcome(run.outcome, limit.outcome)]);
      if (runs.length > 1)
        rows.push([`${p}: outcome vs ${runs[0]!.workers}-worker run`, sameOutcome(run.outcome, runs[0]!.outcome)]);
      const otherFile = join(outDir, `bulk-outcome-${name}-${n === 1 ? 2 : 1}w.json`);
      if (opts.workers.length === 1 && existsSync(otherFile)) {
        rows.push([
          `${p}: outcome vs ${n === 1 ? 2 : 1}-worker run (earlier)`,
          sameOutcome(run.outcome, JSON.parse(readFileSync(otherFile, 'utf8')) as Outcome),
        ]);
      }
      writeFileSync(join(outDir, `bulk-outcome-${name}-${n}w.json`), JSON.stringify(run.outcome));
    }
    const first = runs[0];
    if (first) {
      rows.push([
        'outcome',
        `${first.outcome.links} links, ${first.outcome.succeeded} succeeded, ${first.outcome.failed} failed, Redis ${JSON.stringify(first.outcome.redis ?? null)}, ${first.outcome.emails} email(s)`,
      ]);
    }
    print(`bench:bulk-update ${name}`, rows);

    process.stdout.write('\nratios (targets from issues 5 and 15; printed, not asserted)\n');
    for (const run of runs) {
      if (baseline) {
        const x = run.wallMs / baseline.result.ms;
        process.stdout.write(
          `workflow (${run.workers}w) / baseline  ${x.toFixed(2)}x   <= 1.5x: ${x <= 1.5 ? 'meets' : 'MISSES'}\n`,
        );
      }
      if (limit) {
        const x = run.wallMs / limit.result.ms;
        process.stdout.write(
          `workflow (${run.workers}w) / set-based limit  ${x.toFixed(2)}x   <= 2x: ${x <= 2 ? 'meets' : 'MISSES'}\n`,
        );
      }
      const rssPeak = Math.max(...run.workerPeakRss);
      process.stdout.write(
        `worker peak RSS (${run.workers}w)    ${mb(rssPeak)}  < 512 MB: ${rssPeak < 512 * 2 ** 20 ? 'meets' : 'MISSES'}\n`,
      );
      const largest = Math.max(run.history.largestParentRun, run.history.largestChild);
      process.stdout.write(
        `largest history (${run.workers}w)     ${largest} events  < 10,240: ${largest < 10_240 ? 'meets' : 'MISSES'}\n`,
      );
    }
    return {
      name,
      db,
      config: {
        batch: config.BULK_UPDATE_BATCH_SIZE,
        window: config.BULK_UPDATE_MAX_CONCURRENT_BATCHES,
        perChild: config.BULK_UPDATE_BATCHES_PER_CHILD,
        perRun: config.BULK_UPDATE_BATCHES_PER_RUN,
        overrides,
      },
      baseline,
      limit,
      runs,
    };
  } finally {
    await connection.close();
    redis.disconnect();
    await sql.end({ timeout: 5 });
  }
}

const program = new Command('bench:bulk-update')
  .description('Benchmark the security-inventory bulk update: workflow vs a plain-script baseline, in one run')
  .option('--size <names>', 'small (1,000), 10k, 100k, or a comma list (default small)', (v) => v.split(','), ['small'])
  .option('--projects <n>', 'a custom size: projects under one root group', int('--projects'))
  .option(
    '--workers <list>',
    'worker counts to run, e.g. 1,2 (each on the same data, compared)',
    (v) => v.split(',').map((x) => int('--workers')(x)),
    [1],
  )
  .option('--profile', 'run the workers with node --cpu-prof (profiles in the output directory)', false)
  .option('--node-flag <flags...>', 'node flags for the workers, e.g. --node-flag=--max-old-space-size=256', [])
  .option('--no-baseline', 'skip the plain-script baseline')
  .option('--no-limit', 'skip the set-based limit (one statement per batch)')
  .option('--histories <n>', 'read at most this many histories for per-worker counts', int('--histories'), 5000)
  .option('--env <KEY=VALUE...>', 'worker settings, e.g. --env BULK_UPDATE_BATCH_SIZE=100', [])
  .option('--out <dir>', 'where results and profiles go', '/tmp/bench-bulk-update')
  .action(async (opts: Options) => {
    const outDir = resolve(opts.out);
    mkdirSync(outDir, { recursive: true });
    const sizes: [string, number][] =
      opts.projects !== undefined
        ? [[`p${opts.projects}`, opts.projects]]
        : opts.size.map((n) => {
            const p = SIZES[n];
            if (!p) throw new InvalidArgumentError(`unknown size ${n} (small, 10k, 100k)`);
            return [n, p];
          });
    process.stdout.write(
      `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}\n`,
    );
    for (const [name, projects] of sizes) {
      const report = await benchSize(projects, name, opts, outDir);
      const file = join(outDir, `result-bulk-${name}-${opts.workers.join('_')}w-${Date.now()}.json`);
      writeFileSync(file, JSON.stringify(report, null, 2));
      process.stdout.write(`results: ${file}\n\n`);
    }
  });

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`bench:bulk-update: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
