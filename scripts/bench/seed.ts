import { migrate } from '../../db/migrate';
import { seedInstance } from '../../db/seed/generate';
import { createSql, withDatabase, type Sql } from '../../db/sql';

// A dedicated, seeded database per benchmark size. Seeding is deterministic, so a database that already holds the
// requested numbers of projects and issues is reused as it is (a large instance takes minutes to seed).

export interface BenchSize {
  name: string;
  projects: number;
  issues: number;
}

export const SIZES: Record<string, BenchSize> = {
  small: { name: 'small', projects: 100, issues: 20_000 },
  medium: { name: 'medium', projects: 1_000, issues: 200_000 },
  large: { name: 'large', projects: 10_000, issues: 1_000_000 },
};

export interface SeededDatabase {
  url: string;
  name: string;
  reused: boolean;
  seedMs: number;
}

async function counts(sql: Sql): Promise<{ projects: number; issues: number } | undefined> {
  try {
    const [row] = await sql<{ projects: number; issues: number }[]>`
      select (select count(*)::int from projects) as projects, (select count(*)::int from issues) as issues`;
    return row;
  } catch {
    return undefined; // not migrated yet
  }
}

/** Creates the benchmark's own database when it does not exist yet; returns its URL. */
export async function ensureDatabase(baseUrl: string, name: string): Promise<string> {
  const admin = createSql(withDatabase(baseUrl, 'postgres'), { max: 1, applicationName: 'bench-admin' });
  try {
    const [exists] = await admin<{ n: number }[]>`select count(*)::int as n from pg_database where datname = ${name}`;
    if (!exists?.n) await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  return withDatabase(baseUrl, name);
}

export async function ensureSeeded(
  baseUrl: string,
  size: BenchSize,
  log: (line: string) => void,
): Promise<SeededDatabase> {
  const name = `gitlab_temporal_bench_${size.name}`.replace(/[^a-z0-9_]/g, '_');
  const url = await ensureDatabase(baseUrl, name);
  const sql = createSql(url, { max: 2, applicationName: 'bench-seed' });
  try {
    await migrate(sql);
    const found = await counts(sql);
    // The seed adds GDK's flightjs/Flight project next to the requested ones: compare at least the requested count.
    if (
      found &&
      found.issues === size.issues &&
      found.projects >= size.projects &&
      found.projects <= size.projects + 1
    ) {
      log(`database ${name}: reused (${found.projects} projects, ${found.issues} issues)`);
      return { url, name, reused: true, seedMs: 0 };
    }
    log(`database ${name}: seeding ${size.projects} projects, ${size.issues} issues ...`);
    const started = Date.now();
    await seedInstance(sql, { projects: size.projects, issues: size.issues, reset: true });
    await sql`analyze`;
    return { url, name, reused: false, seedMs: Date.now() - started };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
