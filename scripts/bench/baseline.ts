import { writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { createBucketClient } from '../../db/bucket-client';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import { batchKey, relationKey } from '../../activities/offline-export/object-keys';
import { archiverFor, type Archiver } from '../../activities/offline-export/archive/index';
import { GzipObjectWriter } from '../../activities/offline-export/object-writer';
import { CURSOR_ROWS } from '../../activities/offline-export/relation-export';
import { relationSource } from '../../db/offline-export/relations/index';
import { createSql, type Sql } from '../../db/sql';
import { loadConfig, storagePaths } from '../../contracts/config';
import { loadEnvFile } from '../../contracts/env-file';
import { PORTABLE_RELATIONS, type PortableType } from '../../contracts/offline-export';

// The baseline: the export's work as a plain Node script, without Temporal and without any bookkeeping. The same
// relation SQL (db/offline-export/relations), the same cursor pages written as the same pieces, the same gzip level
// and object writer (single PUT or multipart), the same keys and batch boundaries (every EXPORT_BATCH_SIZE records in
// id order), the same number of relations in flight. File relations (format 'tar') go through the same archiver
// and writer as relation-export.ts drives them: one archiver per object fed each page's lines, its end() giving the
// head a deferred-head writer puts in front; the files are read from the storage the worker reads (storagePaths of
// the same DATABASE_URL). Run as its own process so its memory is its own:
//   node --import tsx scripts/bench/baseline.ts '<json options>'
// It prints one JSON line of figures and writes a manifest (key -> bytes, sha256, records) for the comparison.

export interface BaselineOptions {
  databaseUrl: string;
  prefix: string;
  batchSize: number;
  /** Relations in flight at once (the workflow's portables window x relations per portable). */
  lanes: number;
  /** Only these relations (the practical-limit comparisons run issues alone, and the repositories alone). */
  relations?: string[];
  manifestPath?: string;
  cursorRows?: number;
}

export interface BaselineResult {
  ms: number;
  records: number;
  bytes: number;
  objects: number;
  queries: number;
  peakRssBytes: number;
  /** CPU of the script's own process during the export (the workflow's counterpart is the worker's). */
  processCpuSeconds?: number;
  /** Filled in by the bench around the script's process. */
  cpuSeconds?: Record<string, number>;
}

interface Task {
  type: PortableType;
  id: number;
  relation: string;
}

async function portables(sql: Sql): Promise<{ type: PortableType; id: number }[]> {
  // Every group and every project of the instance: what an export of all root groups covers.
  const groups = await sql<{ id: number }[]>`select id from namespaces order by id`;
  const projects = await sql<{ id: number }[]>`select id from projects order by id`;
  return [
    ...groups.map((g) => ({ type: 'group' as const, id: g.id })),
    ...projects.map((p) => ({ type: 'project' as const, id: p.id })),
  ];
}

export async function runBaseline(options: BaselineOptions): Promise<BaselineResult> {
  loadEnvFile();
  const config = loadConfig({ ...process.env, DATABASE_URL: options.databaseUrl });
  const cpuAtStart = process.cpuUsage();
  const sql = createSql(options.databaseUrl, { max: options.lanes + 1, applicationName: 'bench-baseline' });
  // The dev bucket through the client user buckets get, as the worker's export does.
  const client = createBucketClient(devBucketExportBody(config, []).s3_compatible_configuration, {
    allowLocalNetwork: config.ALLOW_LOCAL_NETWORK_ENDPOINTS,
  });
  const bucket = { client, bucket: config.S3_BUCKET, exportPrefix: options.prefix };
  const cursorRows = options.cursorRows ?? CURSOR_ROWS;
  const storage = storagePaths(config);
  const manifest: Record<string, { bytes: number; sha256: string; records: number }> = {};
  let records = 0;
  let bytes = 0;
  let queries = 1;
  const started = Date.now();
  let peakRss = process.memoryUsage.rss();
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);

  const tasks: Task[] = [];
  for (const p of await portables(sql)) {
    for (const relation of PORTABLE_RELATIONS[p.type]) {
      if (!options.relations || options.relations.includes(relation)) tasks.push({ ...p, relation });
    }
  }

  async function exportTask(task: Task): Promise<void> {
    const source = relationSource(task.type, task.relation);
    if (!source) return;
    queries++;
    const archive = source.format === 'tar' ? archiverFor(task.relation) : undefined;
    if (source.format === 'tar' && !archive) throw new Error(`no archiver for the file relation ${task.relation}`);
    const signal = new AbortController().signal;
    let writer: GzipObjectWriter | undefined;
    let archiver: Archiver | undefined;
    let inObject = 0;
    let entries = 0;
    let batch = 0;
    const close = async () => {
      if (!writer) return;
      const head = await archiver?.end();
      const written = await writer.finish(head);
      // A file relation's records are the files that became entries, as in the export's rows.
      if (archiver) inObject = entries;
      manifest[written.key.slice(options.prefix.length + 1)] = {
        bytes: written.bytes,
        sha256: written.sha256 ?? '',
        records: inObject,
      };
      bytes += written.bytes;
      records += inObject;
      writer = undefined;
      archiver = undefined;
      inObject = 0;
      entries = 0;
    };
    const open = () => {
      const key = source.batched
        ? batchKey(options.prefix, task.type, task.id, task.relation, ++batch, source.format)
        : relationKey(options.prefix, task.type, task.id, task.relation, source.format);
      writer = new GzipObjectWriter(bucket, key, { signal, deferHead: archive?.deferHead });
      archiver = archive?.create({
        sink: writer,
        storage,
        signal,
        portableType: task.type,
        portableId: task.id,
        relation: task.relation,
      });
    };
    // An unbatched relation is one object even when empty (an empty project_feature file), as in the export.
    if (!source.batched) open();
    for await (const rows of source.lines(sql, task.id).cursor(cursorRows)) {
      let at = 0;
      while (at < rows.length) {
        if (source.batched && inObject === options.batchSize) await close();
        if (!writer) open();
        const take = source.batched ? Math.min(rows.length - at, options.batchSize - inObject) : rows.length - at;
        const lines = rows.slice(at, at + take).map((r) => r.line);
        if (archiver) entries += await archiver.add(lines);
        else await writer!.writeLines(lines);
        inObject += take;
        at += take;
      }
    }
    await close();
  }

  let next = 0;
  const lane = async () => {
    while (next < tasks.length) await exportTask(tasks[next++]!);
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.lanes) }, lane));
  } finally {
    clearInterval(rssTimer);
    client.destroy();
    await sql.end({ timeout: 5 });
  }
  const ms = Date.now() - started;
  if (options.manifestPath) writeFileSync(options.manifestPath, JSON.stringify(manifest));
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    ms,
    records,
    bytes,
    objects: Object.keys(manifest).length,
    queries,
    peakRssBytes: peakRss,
    processCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

if (require.main === module) {
  const arg = process.argv[2] ?? '';
  const options = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as BaselineOptions;
  runBaseline(options)
    .then((result) => process.stdout.write(`${JSON.stringify(result)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`baseline: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    });
}
