import { spawn } from 'node:child_process';
import { instanceIssueLines } from '../../db/offline-export/relations/project';
import type { Sql } from '../../db/sql';

// The practical limit of the machine on the largest relation (performance-notes.md): PostgreSQL builds the same
// JSON as the issues relation for every issue of the instance and psql streams it through `gzip -6` (two processes
// on two cores), nothing in Node.

/** The issues relation's SQL for the whole instance as plain text, its few parameters inlined as literals. */
export async function instanceIssuesSqlText(sql: Sql): Promise<string> {
  const query = instanceIssueLines(sql);
  await query.describe();
  const { string, parameters } = query as unknown as { string: string; parameters: unknown[] };
  return string.replace(/\$(\d+)/g, (_, n: string) => {
    const value = parameters[Number(n) - 1];
    if (typeof value === 'number') return String(value);
    return `'${String(value).replace(/'/g, "''")}'`;
  });
}

export interface LimitResult {
  ms: number;
  ndjsonBytes: number;
  gzipBytes: number;
}

/** Times `psql -c "copy (<query>) to stdout" | gzip -6 | wc -c`; also reports the NDJSON size. */
export async function practicalLimit(databaseUrl: string, queryText: string): Promise<LimitResult> {
  const copy = `copy (${queryText.replace(/\s+/g, ' ')}) to stdout`;
  const script =
    'set -o pipefail; psql "$BENCH_DB" -X -q -v ON_ERROR_STOP=1 -c "$BENCH_COPY" | tee >(wc -c >&2) | gzip -6 | wc -c';
  const started = Date.now();
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>(
    (resolve) => {
      const child = spawn('bash', ['-c', script], { env: { ...process.env, BENCH_DB: databaseUrl, BENCH_COPY: copy } });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (c) => resolve({ stdout: out, stderr: err, code: c }));
    },
  );
  const ms = Date.now() - started;
  if (code !== 0) throw new Error(`psql | gzip failed (${code}): ${stderr.slice(-1000)}`);
  return { ms, gzipBytes: Number(stdout.trim()), ndjsonBytes: Number(stderr.trim().split(/\s+/).pop()) };
}

/** The same pipeline without gzip's cost measured apart: psql COPY alone into /dev/null (where PostgreSQL's time goes). */
export async function copyOnly(databaseUrl: string, queryText: string): Promise<number> {
  const copy = `copy (${queryText.replace(/\s+/g, ' ')}) to stdout`;
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', ['-c', 'psql "$BENCH_DB" -X -q -v ON_ERROR_STOP=1 -c "$BENCH_COPY" > /dev/null'], {
      env: { ...process.env, BENCH_DB: databaseUrl, BENCH_COPY: copy },
      stdio: 'ignore',
    });
    child.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`psql copy failed (${c})`))));
  });
  return Date.now() - started;
}
