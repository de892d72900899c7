import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Sql } from '../../db/sql';

// Small helpers both benchmarks use.

/** Every autocommit statement is a transaction: the database's count of them is a round-trip counter for free. */
export async function transactions(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select (xact_commit + xact_rollback)::float8 as n from pg_stat_database where datname = current_database()`;
  return row?.n ?? 0;
}

/** Runs a TypeScript script in its own Node process (a baseline, measured apart from the bench's own work). */
export function runNodeScript(script: string, arg: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, arg], {
      cwd: join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolvePromise(out) : reject(new Error(`${script} exited ${code}: ${err.slice(-2000)}`)),
    );
  });
}
