import type { BaselineResult } from './baseline';
import type { Comparison } from './bucket';
import type { HistoryStats } from './histories';
import type { LimitResult } from './limit';
import type { ObjectFloorResult } from './object-floor';
import type { RepositoriesLimitResult } from './repositories-limit';
import type { BenchSize, SeededDatabase } from './seed';

// The table a benchmark run prints: figures, then ratios against the targets (printed, never asserted).

export interface WorkflowFigures {
  exportId: number;
  status: 'finished' | 'failed';
  wallMs: number;
  records: number;
  bytes: number;
  objects: number;
  relations: number;
  failedRelations: number;
  issuesRecords: number;
  issuesBytes: number;
  /** Database transactions (autocommit statements count as one) during the export: round trips, roughly. */
  transactions: number;
  /** Per worker process: the largest resident set sampled during the export. */
  workerPeakRss: number[];
  /** Per worker process: VmHWM, the peak since the process started (includes bundling the workflows). */
  workerHwm: number[];
  /** Per worker process: the resident set when it started polling (workflows bundled, nothing exported yet). */
  workerRssAtReady: number[];
  workerPids: number[];
  /** CPU seconds per process role during the export (Temporal server, PostgreSQL, MinIO, worker, whole machine). */
  cpuSeconds: Record<string, number>;
  profileDir?: string;
}

export interface SizeReport {
  size: BenchSize;
  seeded: SeededDatabase;
  counts: { projects: number; groups: number; issues: number };
  config: {
    batchSize: number;
    portablesPerChunk: number;
    maxConcurrentChunks: number;
    maxConcurrentRelations: number;
    chunksPerRun: number;
    overrides: Record<string, string>;
  };
  workers: number;
  workflow: WorkflowFigures;
  history: HistoryStats;
  baseline?: BaselineResult;
  limit?: LimitResult;
  issuesPipeline?: BaselineResult;
  /** The workflow's own objects PUT again with their sizes, as many at once as the export runs relations. */
  objectFloor?: ObjectFloorResult;
  /** git bundle | gzip -6 of every bundled repository, as many at once as the worker runs relations. */
  repositoriesLimit?: RepositoriesLimitResult;
  /** The same, each gzipped bundle uploaded to the bucket (one PUT, multipart above 8 MiB). */
  repositoriesLimitUpload?: RepositoriesLimitResult;
  /** The plain script restricted to the repository, wiki and design relations (same lanes). */
  repositoriesPipeline?: BaselineResult;
  /** The --large-repository-mb mode: the workflow itself is compared with the repositories' limit. */
  streaming?: boolean;
  verification?: {
    objects: number;
    manifestFile: string;
    vsBaseline?: Comparison;
    vsOtherWorkerCount?: Comparison & { workers: number };
  };
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US');
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
const verdict = (ok: boolean) => (ok ? 'meets' : 'MISSES');

function comparisonLine(c: Comparison): string {
  const bad = c.different.length + c.onlyLeft.length + c.onlyRight.length;
  return bad === 0
    ? `identical (${c.same} objects, metadata.json.gz aside)`
    : `${c.same} identical, ${c.different.length} different, ${c.onlyLeft.length} only in the export, ${c.onlyRight.length} only in the other` +
        ` (e.g. ${[...c.different, ...c.onlyLeft, ...c.onlyRight].slice(0, 3).join(', ')})`;
}

export function printReport(r: SizeReport): void {
  const w = r.workflow;
  const rows: [string, string][] = [];
  rows.push([
    'instance',
    `${r.counts.groups} groups, ${r.counts.projects} projects, ${r.counts.issues.toLocaleString('en-US')} issues (db ${r.seeded.name}${r.seeded.reused ? ', reused' : `, seeded in ${s(r.seeded.seedMs)}`})`,
  ]);
  rows.push([
    'settings',
    `batch ${r.config.batchSize}, chunks of ${r.config.portablesPerChunk} portables, ${r.config.maxConcurrentChunks} at once, relations ${r.config.maxConcurrentRelations}, ${r.config.chunksPerRun} chunks per run, ${r.workers} worker(s)${Object.keys(r.config.overrides).length ? `, overrides ${JSON.stringify(r.config.overrides)}` : ''}`,
  ]);
  rows.push([
    'workflow: status',
    `${w.status} (export ${w.exportId}), ${w.relations} relation rows, ${w.failedRelations} failed`,
  ]);
  rows.push(['workflow: wall time', s(w.wallMs)]);
  rows.push(['workflow: records', `${w.records.toLocaleString('en-US')} (${rate(w.records, w.wallMs)}/s)`]);
  rows.push(['workflow: compressed', `${mb(w.bytes)} (${mb(w.bytes / (w.wallMs / 1000))}/s)`]);
  rows.push(['workflow: objects', `${w.objects.toLocaleString('en-US')} (${rate(w.objects, w.wallMs)}/s)`]);
  rows.push([
    'workflow: db transactions',
    `${w.transactions.toLocaleString('en-US')} (${(w.transactions / Math.max(1, w.relations)).toFixed(1)} per relation)`,
  ]);
  rows.push([
    'cpu seconds during the export',
    Object.entries(w.cpuSeconds)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', '),
  ]);
  rows.push(['worker peak RSS (export)', w.workerPeakRss.map(mb).join(', ')]);
  rows.push(['worker RSS when ready (prebuilt bundle)', w.workerRssAtReady.map(mb).join(', ')]);
  rows.push(['worker VmHWM (incl. start-up)', w.workerHwm.map(mb).join(', ')]);
  const h = r.history;
  rows.push([
    'histories',
    `${h.parentRuns} parent runs (largest ${h.largestParentRun} events), ${h.children} children (largest ${h.largestChild} events), ${h.totalEvents.toLocaleString('en-US')} events in all`,
  ]);
  const perType = Object.entries(h.activitiesByType)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  rows.push([`activities (${h.historiesRead} histories read)`, perType]);
  if (r.workers > 1 || Object.keys(h.perIdentity).length > 1) {
    for (const [identity, c] of Object.entries(h.perIdentity))
      rows.push([`  worker ${identity}`, `${c.activities} activity tasks, ${c.workflowTasks} workflow tasks`]);
  }
  if (r.baseline) {
    const b = r.baseline;
    rows.push([
      'baseline: wall time',
      `${s(b.ms)} (${rate(b.records, b.ms)} records/s, ${mb(b.bytes / (b.ms / 1000))}/s, ${b.objects} objects, peak RSS ${mb(b.peakRssBytes)})`,
    ]);
    if (b.cpuSeconds) {
      const own = b.processCpuSeconds === undefined ? '' : `script process ${b.processCpuSeconds.toFixed(1)}, `;
      rows.push([
        'cpu seconds during the baseline',
        own +
          Object.entries(b.cpuSeconds)
            .filter(([k]) => k !== 'postgresql' && k !== 'temporal server')
            .map(([k, v]) => `${k} ${v.toFixed(1)}`)
            .join(', '),
      ]);
    }
  }
  if (r.limit) {
    rows.push([
      'limit: psql copy | gzip -6 (issues)',
      `${s(r.limit.ms)} (${mb(r.limit.ndjsonBytes)} NDJSON -> ${mb(r.limit.gzipBytes)})`,
    ]);
  }
  if (r.objectFloor) {
    const f = r.objectFloor;
    rows.push([
      'limit: object floor (PUTs of the same sizes)',
      `${s(f.ms)} (${f.objects.toLocaleString('en-US')} objects, ${mb(f.bytes)}, ${f.multipart} multipart, ${f.concurrency} at once: ${rate(f.objects, f.ms)} objects/s)`,
    ]);
  }
  if (r.issuesPipeline) {
    const p = r.issuesPipeline;
    rows.push([
      'export pipeline, issues only',
      `${s(p.ms)} (${p.records.toLocaleString('en-US')} records, ${mb(p.bytes)}, ${p.objects} objects)`,
    ]);
  }
  if (r.repositoriesLimit) {
    const l = r.repositoriesLimit;
    rows.push([
      'limit: git bundle --all | gzip -6 (repos)',
      `${s(l.ms)} (${l.repositories} repositories -> ${mb(l.gzipBytes)} gzipped, largest ${mb(l.largestGzipBytes)})`,
    ]);
  }
  if (r.repositoriesLimitUpload) {
    rows.push(['limit: the same | PUT to the bucket', s(r.repositoriesLimitUpload.ms)]);
  }
  if (r.repositoriesPipeline) {
    const p = r.repositoriesPipeline;
    rows.push([
      'export pipeline, repositories only',
      `${s(p.ms)} (${p.records.toLocaleString('en-US')} bundles, ${mb(p.bytes)}, ${p.objects} objects, peak RSS ${mb(p.peakRssBytes)})`,
    ]);
  }
  if (r.verification) {
    if (r.verification.vsBaseline) rows.push(['objects vs baseline', comparisonLine(r.verification.vsBaseline)]);
    const o = r.verification.vsOtherWorkerCount;
    if (o) rows.push([`objects vs ${o.workers}-worker run`, comparisonLine(o)]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\n=== bench:export ${r.size.name} ===\n`);
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);

  process.stdout.write('\nratios (targets from issues 5 and 15; printed, not asserted)\n');
  const targets: [string, string, string][] = [];
  if (r.baseline) {
    const x = w.wallMs / r.baseline.ms;
    targets.push(['workflow / baseline', ratio(w.wallMs, r.baseline.ms), `<= 1.25x: ${verdict(x <= 1.25)}`]);
  }
  // The export's real limit: whichever of its two floors is higher here, the S3 server storing its objects or
  // PostgreSQL and gzip producing its largest relation (issue 15, item 5).
  const limits = [
    ...(r.objectFloor ? [{ name: 'object floor', ms: r.objectFloor.ms }] : []),
    ...(r.limit ? [{ name: 'psql copy | gzip', ms: r.limit.ms }] : []),
  ];
  if (limits.length > 0) {
    const larger = limits.reduce((a, b) => (b.ms > a.ms ? b : a));
    const x = w.wallMs / larger.ms;
    targets.push([
      `workflow / larger limit (${larger.name})`,
      ratio(w.wallMs, larger.ms),
      `<= 2x: ${verdict(x <= 2)}${limits.length < 2 ? ' (only one limit measured)' : ''}`,
    ]);
  }
  if (r.objectFloor) targets.push(['workflow / object floor', ratio(w.wallMs, r.objectFloor.ms), '(no target)']);
  if (r.limit) {
    const x = w.wallMs / r.limit.ms;
    targets.push(['workflow / practical limit (issues)', ratio(w.wallMs, r.limit.ms), `<= 2x: ${verdict(x <= 2)}`]);
    if (r.issuesPipeline) {
      const y = r.issuesPipeline.ms / r.limit.ms;
      targets.push([
        'export pipeline (issues) / limit',
        ratio(r.issuesPipeline.ms, r.limit.ms),
        `<= 2x: ${verdict(y <= 2)}`,
      ]);
    }
  }
  // Against the limit that uploads (the target: the export must upload too) and the one that drops its output.
  for (const [l, what] of [
    [r.repositoriesLimitUpload, 'git bundle | gzip | PUT'],
    [r.repositoriesLimit, 'git bundle | gzip (dropped)'],
  ] as const) {
    if (!l) continue;
    const target = l === r.repositoriesLimitUpload ? '<= 1.5x' : '(no target)';
    const check = (x: number) => (target === '<= 1.5x' ? `<= 1.5x: ${verdict(x <= 1.5)}` : target);
    if (r.repositoriesPipeline) {
      const p = r.repositoriesPipeline.ms;
      targets.push([`export pipeline (repositories) / ${what}`, ratio(p, l.ms), check(p / l.ms)]);
    }
    if (r.streaming) targets.push([`workflow / ${what}`, ratio(w.wallMs, l.ms), check(w.wallMs / l.ms)]);
  }
  const peak = Math.max(...w.workerPeakRss);
  targets.push(['worker peak RSS', mb(peak), `< 512 MiB: ${verdict(peak < 512 * 2 ** 20)}`]);
  const hwm = Math.max(...w.workerHwm);
  targets.push(['worker VmHWM (incl. start-up)', mb(hwm), `< 512 MiB: ${verdict(hwm < 512 * 2 ** 20)}`]);
  const tw = Math.max(...targets.map(([k]) => k.length));
  for (const [k, v, t] of targets) process.stdout.write(`${k.padEnd(tw)}  ${v.padStart(10)}  ${t}\n`);
}
