import { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import { createBucketClient } from '../../db/bucket-client';
import { createOfflineExport } from '../../client/offline-export/create-service';
import { createSql, type Sql } from '../../db/sql';
import { runNodeScript, transactions } from './common';
import { loadConfig, type Config } from '../../contracts/config';
import { loadEnvFile } from '../../contracts/env-file';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { createRunNamespace, isRunNamespaceOf } from '../stack/namespaces';
import { createStackS3Client } from '../../worker/deps';
import { offlineExportWorkflowId } from '../../contracts/offline-export';
import type { BaselineOptions, BaselineResult } from './baseline';
import { cpuSnapshot, cpuUsage } from './cpu';
import { compareDigests, deletePrefix, listObjects, objectDigests } from './bucket';
import { historyStats, type HistoryStats } from './histories';
import { instanceIssuesSqlText, practicalLimit, type LimitResult } from './limit';
import { objectFloor, type ObjectFloorResult } from './object-floor';
import { printReport, type SizeReport, type WorkflowFigures } from './report';
import {
  BUNDLE_RELATIONS,
  bundledRepositories,
  repositoriesLimit,
  type RepositoriesLimitResult,
} from './repositories-limit';
import { ensureSeeded, largeRepositorySize, SIZES, type BenchSize, type SeededDatabase } from './seed';
import { buildWorkflowBundle, startBenchWorker, type BenchWorker } from './worker-process';

// npm run bench:export -- [--size small|medium|large|all] [--projects N --issues M] [--workers 2] [--profile]
//                          [--large-repository-mb N]
// For each size, in one run: the full workflow with real worker processes, the same work as a plain script (the
// baseline), and the machine's practical limits: psql | gzip on the largest relation, git bundle | gzip on the
// repositories (against the plain script's repository relations alone), and the object floor: the workflow's own
// objects PUT again with their sizes, as many at once as the export runs; then a table of figures and ratios.
// --large-repository-mb N exports an instance of one project with an N MiB repository instead: the worker's peak
// resident set while it streams, and the export's time against git bundle | gzip of the same repositories.
// Prints figures only: there are no thresholds here and nothing in the test suite is timed.

const ALICE = 2; // Owner of every seeded root group

interface Options {
  size: string[];
  projects?: number;
  issues?: number;
  workers: number;
  profile: boolean;
  keep: boolean;
  baseline: boolean;
  limit: boolean;
  verify: boolean;
  histories: number;
  baselineLanes?: number;
  nodeOptions?: string;
  env: string[];
  out: string;
  largeRepositoryMb?: number;
}

const int = (name: string) => (value: string) => {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive whole number`);
  return n;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withTemporal<T>(config: Config, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await Connection.connect(temporalConnectionOptions(config));
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

async function runBaselineProcess(options: BaselineOptions, outDir: string): Promise<BaselineResult> {
  const file = join(outDir, `baseline-options-${randomUUID().slice(0, 8)}.json`);
  writeFileSync(file, JSON.stringify(options));
  const out = await runNodeScript(join(__dirname, 'baseline.ts'), `@${file}`).finally(() =>
    rmSync(file, { force: true }),
  );
  return JSON.parse(out.trim().split('\n').pop()!) as BaselineResult;
}

async function rootGroupPaths(sql: Sql): Promise<string[]> {
  const rows = await sql<{ path: string }[]>`
    select r.path from namespaces n join routes r on r.source_type = 'Namespace' and r.source_id = n.id
    where n.parent_id is null order by n.id`;
  return rows.map((r) => r.path);
}

async function runWorkflow(
  config: Config,
  sql: Sql,
  client: Client,
  size: BenchSize,
  opts: Options,
  workerEnv: Record<string, string>,
  outDir: string,
  log: (line: string) => void,
): Promise<{ figures: WorkflowFigures; prefix: string; history: HistoryStats; workerOutput: string[] }> {
  const taskQueue = `bench-export-${size.name}-${randomUUID().slice(0, 8)}`;
  buildWorkflowBundle();
  const env = {
    WORKER_PREBUILT_BUNDLE: 'true',
    ...workerEnv,
    TEMPORAL_TASK_QUEUE_EXPORT: taskQueue,
    // The same queue twice: the worker then runs one Worker, for this queue only.
    TEMPORAL_TASK_QUEUE_BULK_UPDATE: taskQueue,
  };
  const profileDir = join(outDir, `cpu-profile-${size.name}-${Date.now()}`);
  const flags = [
    ...(opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ...(opts.nodeOptions ? opts.nodeOptions.split(/\s+/).filter(Boolean) : []),
  ];
  const workers: BenchWorker[] = [];
  for (let i = 0; i < opts.workers; i++) workers.push(startBenchWorker(env, flags));
  await Promise.all(workers.map((w) => w.ready));
  log(`workers ready (${workers.map((w) => w.pid).join(', ')}) on ${taskQueue}`);

  const body = devBucketExportBody(config, await rootGroupPaths(sql));
  const xactBefore = await transactions(sql);
  const stopSampling = workers.map((w) => w.sample());
  const cpuBefore = cpuSnapshot();
  const started = Date.now();
  const created = await createOfflineExport({ sql, temporal: client, config, taskQueue }, { id: ALICE }, body);
  const exportId = created.export.id;
  log(`export ${exportId} started (${body.entities.length} root groups), workflow ${created.workflowId}`);
  let status = 0;
  for (;;) {
    const [row] = await sql<{ status: number }[]>`select status from import_offline_exports where id = ${exportId}`;
    status = row?.status ?? 0;
    if (status === 2 || status === -1) break;
    await sleep(100);
  }
  const wallMs = Date.now() - started;
  const cpu = cpuUsage(
    cpuBefore,
    cpuSnapshot(),
    workers.map((w) => w.pid),
  );
  const peaks = stopSampling.map((stop) => stop());
  const xactAfter = await transactions(sql);
  // The workflow still sends its email and purges the credentials after the (shortened) delay: wait for the end.
  await client.workflow
    .getHandle(offlineExportWorkflowId(exportId))
    .result()
    .catch(() => undefined);
  const workerOutput: string[] = [];
  const hwms = workers.map((w) => w.peakSinceStart());
  const atReady = workers.map((w) => w.rssAtReady());
  for (const w of workers) workerOutput.push(await w.stop());
  log(
    `export ${exportId} ${status === 2 ? 'finished' : 'FAILED'} in ${(wallMs / 1000).toFixed(1)} s; reading histories`,
  );

  const [totals] = await sql<{ records: number; bytes: number; objects: number; relations: number; failed: number }[]>`
    select coalesce(sum(e.total_objects_count), 0)::float8 as records, coalesce(sum(e.bytes), 0)::float8 as bytes,
           (count(*) filter (where not e.batched) + coalesce(sum(e.batches_count) filter (where e.batched), 0))::float8 as objects,
           count(*)::int as relations, count(*) filter (where e.status = -1)::int as failed
    from bulk_import_exports e where e.offline_export_id = ${exportId}`;
  const [issueTotals] = await sql<{ records: number; bytes: number }[]>`
    select coalesce(sum(total_objects_count), 0)::float8 as records, coalesce(sum(bytes), 0)::float8 as bytes
    from bulk_import_exports where offline_export_id = ${exportId} and relation = 'issues'`;
  const [cfg] = await sql<
    { prefix: string }[]
  >`select export_prefix as prefix from import_offline_configurations where offline_export_id = ${exportId}`;
  const history = await historyStats(client, exportId, opts.histories);
  return {
    prefix: cfg!.prefix,
    history,
    workerOutput,
    figures: {
      exportId,
      status: status === 2 ? 'finished' : 'failed',
      wallMs,
      records: totals!.records,
      bytes: totals!.bytes,
      objects: totals!.objects + 1, // + metadata.json.gz
      relations: totals!.relations,
      failedRelations: totals!.failed,
      issuesRecords: issueTotals!.records,
      issuesBytes: issueTotals!.bytes,
      transactions: xactAfter - xactBefore,
      workerPeakRss: peaks,
      workerHwm: hwms,
      workerRssAtReady: atReady,
      workerPids: workers.map((w) => w.pid),
      cpuSeconds: cpu,
      profileDir: opts.profile ? profileDir : undefined,
    },
  };
}

/**
 * The Temporal namespace of a benchmark database. Export ids name workflows, and a reseeded database numbers its
 * exports from 1 again: a reseeded database gets a namespace of its own (earlier ones deleted), which a reused
 * database keeps, since its ids only grow. A namespace made for every run cost the workflow 5-7 s at medium
 * (BENCHMARKS.md, session 4); a deployment runs in one long-lived namespace.
 */
async function benchNamespace(
  base: Config,
  connection: Connection,
  seeded: SeededDatabase,
  log: (line: string) => void,
): Promise<string> {
  if (seeded.reused) {
    const page = await connection.workflowService.listNamespaces({ pageSize: 500 });
    const kept = (page.namespaces ?? [])
      // Registered, not being deleted (NAMESPACE_STATE_REGISTERED is 1).
      .filter((ns) => Number(ns.namespaceInfo?.state) === 1)
      .map((ns) => ns.namespaceInfo?.name ?? '')
      .filter((name) => isRunNamespaceOf(seeded.name, name))
      .sort();
    const latest = kept[kept.length - 1];
    if (latest) {
      log(`temporal: namespace ${latest} (kept with the database)`);
      return latest;
    }
  }
  return createRunNamespace(base, seeded.name, log);
}

async function benchSize(size: BenchSize, opts: Options, outDir: string): Promise<SizeReport> {
  const log = (line: string) => process.stdout.write(`[${size.name}] ${line}\n`);
  loadEnvFile();
  const base = loadConfig();
  const seeded = await ensureSeeded(base, size, log);
  const streaming = size.largeRepositories !== undefined;
  const overrides = Object.fromEntries(
    opts.env.map((kv) => {
      const at = kv.indexOf('=');
      if (at < 1) throw new InvalidArgumentError(`--env takes KEY=VALUE (got ${kv})`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
  const namespace = await withTemporal(base, (conn) => benchNamespace(base, conn, seeded, log));
  const workerEnv: Record<string, string> = {
    DATABASE_URL: seeded.url,
    TEMPORAL_NAMESPACE: namespace,
    EXPORT_CREDENTIALS_PURGE_DELAY_MS: '1000',
    ...overrides,
  };
  const config = loadConfig({ ...process.env, ...workerEnv });
  const sql = createSql(seeded.url, { max: 4, applicationName: 'bench-export' });
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const s3 = createStackS3Client(config);
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const cleanup: string[] = [];
  try {
    const [counts] = await sql<{ projects: number; groups: number; issues: number }[]>`
      select (select count(*)::int from projects) as projects, (select count(*)::int from namespaces) as groups,
             (select count(*)::int from issues) as issues`;

    // 1. The practical limit on the largest relation (also warms PostgreSQL's cache for what follows).
    let limit: LimitResult | undefined;
    let issuesPipeline: BaselineResult | undefined;
    // As many relations in flight as one worker runs at once (EXPORT_WORKER_CONCURRENT_RELATIONS), for the baseline
    // and the issues-only pipeline alike, unless --baseline-lanes says otherwise.
    const lanes = opts.baselineLanes ?? config.EXPORT_WORKER_CONCURRENT_RELATIONS;
    if (opts.limit && !streaming) {
      log('practical limit: psql copy (issues as JSON) | gzip -6 ...');
      limit = await practicalLimit(seeded.url, await instanceIssuesSqlText(sql));
      log(`practical limit: ${(limit.ms / 1000).toFixed(1)} s`);
      const prefix = `bench-issues-only-${size.name}-${stamp}`;
      cleanup.push(prefix);
      issuesPipeline = await runBaselineProcess(
        {
          databaseUrl: seeded.url,
          prefix,
          batchSize: config.EXPORT_BATCH_SIZE,
          lanes: config.EXPORT_WORKER_CONCURRENT_RELATIONS,
          relations: ['issues'],
        },
        outDir,
      );
      log(`export pipeline, issues only: ${(issuesPipeline.ms / 1000).toFixed(1)} s`);
    }

    // 1b. The repositories' limit, git bundle | gzip -6 with as many at once as the worker runs relations, against
    // the export's own pipeline for the bundle relations alone (the plain script restricted to them: the same
    // archiver, writer and upload as the workflow's activities). In the streaming mode the workflow itself is
    // compared with the limit: its export is one large repository and a few small relations.
    let repoLimit: RepositoriesLimitResult | undefined;
    let repoLimitUpload: RepositoriesLimitResult | undefined;
    let repoPipeline: BaselineResult | undefined;
    if (opts.limit) {
      const gitDirs = await bundledRepositories(sql, seeded.storage);
      log(
        `repositories limit: git bundle create --all | gzip -6 of ${gitDirs.length} repositories, ${lanes} at once ...`,
      );
      repoLimit = await repositoriesLimit(gitDirs, lanes);
      log(`repositories limit: ${(repoLimit.ms / 1000).toFixed(1)} s; again, each uploaded to the bucket ...`);
      const limitPrefix = `bench-repositories-limit-${size.name}-${stamp}`;
      cleanup.push(limitPrefix);
      // The client the export's writer gets (devBucketExportBody, as the baseline uses): same agent and checksums.
      const limitS3 = createBucketClient(devBucketExportBody(config, []).s3_compatible_configuration, {
        allowLocalNetwork: config.ALLOW_LOCAL_NETWORK_ENDPOINTS,
      });
      repoLimitUpload = await repositoriesLimit(gitDirs, lanes, {
        s3: limitS3,
        bucket: config.S3_BUCKET,
        prefix: limitPrefix,
      }).finally(() => limitS3.destroy());
      log(`repositories limit with the upload: ${(repoLimitUpload.ms / 1000).toFixed(1)} s`);
      if (!streaming) {
        const prefix = `bench-repositories-only-${size.name}-${stamp}`;
        cleanup.push(prefix);
        repoPipeline = await runBaselineProcess(
          {
            databaseUrl: seeded.url,
            prefix,
            batchSize: config.EXPORT_BATCH_SIZE,
            lanes,
            relations: BUNDLE_RELATIONS,
          },
          outDir,
        );
        log(`export pipeline, repositories only: ${(repoPipeline.ms / 1000).toFixed(1)} s`);
      }
    }

    // 2. The baseline: the same objects from a plain script.
    let baseline: BaselineResult | undefined;
    let baselinePrefix: string | undefined;
    if (opts.baseline) {
      baselinePrefix = `bench-baseline-${size.name}-${stamp}`;
      cleanup.push(baselinePrefix);
      log(`baseline (plain script, ${lanes} relations in flight) ...`);
      const cpuBefore = cpuSnapshot();
      baseline = await runBaselineProcess(
        { databaseUrl: seeded.url, prefix: baselinePrefix, batchSize: config.EXPORT_BATCH_SIZE, lanes },
        outDir,
      );
      // The script's own process is in "machine busy"; compare with the workflow's line.
      baseline.cpuSeconds = cpuUsage(cpuBefore, cpuSnapshot(), []);
      log(`baseline: ${(baseline.ms / 1000).toFixed(1)} s`);
    }

    // 3. The full workflow.
    log(`workflow with ${opts.workers} worker process(es) ...`);
    const wf = await runWorkflow(config, sql, client, size, opts, workerEnv, outDir, log);
    cleanup.push(wf.prefix);

    // 3b. The object floor: the objects the workflow just wrote, PUT again with their sizes, as many at once as the
    // export runs relations (every worker's slots), through the client the export's writer gets.
    let floor: ObjectFloorResult | undefined;
    if (opts.limit) {
      const sizes = (await listObjects(s3, config.S3_BUCKET, wf.prefix)).map((o) => o.size);
      const concurrency = config.EXPORT_WORKER_CONCURRENT_RELATIONS * opts.workers;
      log(`object floor: ${sizes.length} PUTs of the export's object sizes, ${concurrency} at once ...`);
      const floorPrefix = `bench-object-floor-${size.name}-${stamp}`;
      cleanup.push(floorPrefix);
      const floorS3 = createBucketClient(devBucketExportBody(config, []).s3_compatible_configuration, {
        allowLocalNetwork: config.ALLOW_LOCAL_NETWORK_ENDPOINTS,
      });
      floor = await objectFloor(floorS3, config.S3_BUCKET, floorPrefix, sizes, concurrency).finally(() =>
        floorS3.destroy(),
      );
      log(`object floor: ${(floor.ms / 1000).toFixed(1)} s`);
    }

    // 4. The objects: identical to the baseline's (and to an earlier run's, by path relative to the prefix).
    let verification: SizeReport['verification'];
    if (opts.verify) {
      log('verifying objects (sha256 of every object) ...');
      const mine = await objectDigests(s3, config.S3_BUCKET, wf.prefix);
      const manifestFile = join(outDir, `manifest-${size.name}-${opts.workers}w.json`);
      writeFileSync(manifestFile, JSON.stringify(Object.fromEntries([...mine].sort())));
      const isMetadata = (k: string) => k === 'metadata.json.gz';
      verification = { objects: mine.size, manifestFile };
      if (baselinePrefix) {
        const theirs = await objectDigests(s3, config.S3_BUCKET, baselinePrefix);
        verification.vsBaseline = compareDigests(mine, theirs, isMetadata);
      }
      const otherWorkers = opts.workers === 1 ? 2 : 1;
      const otherFile = join(outDir, `manifest-${size.name}-${otherWorkers}w.json`);
      if (existsSync(otherFile)) {
        const other = new Map(Object.entries(JSON.parse(readFileSync(otherFile, 'utf8')) as Record<string, string>));
        verification.vsOtherWorkerCount = { workers: otherWorkers, ...compareDigests(mine, other, isMetadata) };
      }
    }

    return {
      size,
      seeded,
      counts: counts!,
      config: {
        batchSize: config.EXPORT_BATCH_SIZE,
        portablesPerChunk: config.EXPORT_PORTABLES_PER_CHUNK,
        maxConcurrentChunks: config.EXPORT_MAX_CONCURRENT_CHUNKS,
        maxConcurrentRelations: config.EXPORT_MAX_CONCURRENT_RELATIONS,
        chunksPerRun: config.EXPORT_CHUNKS_PER_RUN,
        overrides,
      },
      workers: opts.workers,
      workflow: wf.figures,
      history: wf.history,
      baseline,
      limit,
      objectFloor: floor,
      issuesPipeline,
      repositoriesLimit: repoLimit,
      repositoriesLimitUpload: repoLimitUpload,
      repositoriesPipeline: repoPipeline,
      streaming,
      verification,
    };
  } finally {
    if (!opts.keep) {
      for (const prefix of cleanup) await deletePrefix(s3, config.S3_BUCKET, prefix).catch(() => 0);
    }
    s3.destroy();
    await connection.close();
    await sql.end({ timeout: 5 });
  }
}

const program = new Command('bench:export')
  .description('Benchmark the offline export: full workflow vs a plain-script baseline vs psql|gzip, in one run')
  .option('--size <names>', 'small, medium, large, or a comma list (default small)', (v) => v.split(','), ['small'])
  .option('--projects <n>', 'a custom size: projects', int('--projects'))
  .option('--issues <n>', 'a custom size: issues', int('--issues'))
  .option('--workers <n>', 'worker processes on the bench task queue', int('--workers'), 1)
  .option('--profile', 'run the workers with node --cpu-prof (profiles in the output directory)', false)
  .option('--keep', 'keep the objects in the bucket', false)
  .option('--no-baseline', 'skip the plain-script baseline')
  .option('--no-limit', 'skip the practical limits (psql | gzip, git bundle | gzip, the object floor)')
  .option('--no-verify', 'skip the sha256 comparison of the objects')
  .option(
    '--baseline-lanes <n>',
    'relations the baseline runs at once (default: as many as the worker can)',
    int('--baseline-lanes'),
  )
  .option('--node-options <flags>', 'extra node flags for the worker processes, e.g. "--max-old-space-size=256"')
  .option('--histories <n>', 'read at most this many histories for per-worker counts', int('--histories'), 400)
  .option('--env <KEY=VALUE...>', 'worker settings, e.g. --env EXPORT_BATCH_SIZE=5000', [])
  .option('--out <dir>', 'where results, manifests and profiles go', '/tmp/bench-export')
  .option(
    '--large-repository-mb <n>',
    'export one project with an N MiB repository instead (worker RSS while it streams; no baseline, no verify)',
    int('--large-repository-mb'),
  )
  .action(async (opts: Options) => {
    const outDir = resolve(opts.out);
    mkdirSync(outDir, { recursive: true });
    if (opts.largeRepositoryMb !== undefined) {
      // Downloading and hashing the repository twice, and a second copy in the bucket, measure nothing here.
      opts.baseline = false;
      opts.verify = false;
    }
    const sizes: BenchSize[] =
      opts.largeRepositoryMb !== undefined
        ? [largeRepositorySize(opts.largeRepositoryMb)]
        : opts.projects !== undefined || opts.issues !== undefined
          ? [
              {
                name: `p${opts.projects ?? 100}-i${opts.issues ?? 20_000}`,
                projects: opts.projects ?? 100,
                issues: opts.issues ?? 20_000,
              },
            ]
          : (opts.size.includes('all') ? Object.keys(SIZES) : opts.size).map((name) => {
              const s = SIZES[name];
              if (!s) throw new InvalidArgumentError(`unknown size ${name} (small, medium, large)`);
              return s;
            });
    process.stdout.write(
      `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}\n`,
    );
    for (const size of sizes) {
      const report = await benchSize(size, opts, outDir);
      printReport(report);
      const file = join(outDir, `result-${size.name}-${opts.workers}w-${Date.now()}.json`);
      writeFileSync(file, JSON.stringify(report, null, 2));
      process.stdout.write(`results: ${file}\n\n`);
    }
  });

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`bench:export: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
