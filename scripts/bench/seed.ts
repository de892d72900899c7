import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { storagePaths, type Config, type StoragePaths } from '../../contracts/config';
import { migrate } from '../../db/migrate';
import { seedInstance } from '../../db/seed/generate';
import { createSql, withDatabase, type Sql } from '../../db/sql';

// A dedicated, seeded database per benchmark size, with its repositories, uploads and LFS files on disk under the
// database's own storage root (storagePaths, as the worker computes it from the same DATABASE_URL). Seeding is
// deterministic, so a database that already holds the requested numbers is reused as it is (a large instance takes
// minutes to seed), but only when its storage was seeded for the same size too: a marker file, written after the
// files, records what they were seeded for; without it (a database from before the file relations, or a seed that
// was interrupted) the instance is seeded again.

export interface BenchSize {
  name: string;
  projects: number;
  issues: number;
  /** The first this-many projects get a large repository of largeRepositoryMb MiB (the streaming benchmark). */
  largeRepositories?: number;
  largeRepositoryMb?: number;
}

export const SIZES: Record<string, BenchSize> = {
  small: { name: 'small', projects: 100, issues: 20_000 },
  medium: { name: 'medium', projects: 1_000, issues: 200_000 },
  large: { name: 'large', projects: 10_000, issues: 1_000_000 },
};

/** One project (next to the GDK one the seed adds) whose repository holds `mb` MiB of incompressible data. */
export const largeRepositorySize = (mb: number): BenchSize => ({
  name: `repo${mb}mb`,
  projects: 1,
  issues: 100,
  largeRepositories: 1,
  largeRepositoryMb: mb,
});

export interface SeededDatabase {
  url: string;
  name: string;
  reused: boolean;
  seedMs: number;
  storage: StoragePaths;
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

/** What the files were seeded for; compared as JSON text. */
const markerOf = (size: BenchSize) =>
  JSON.stringify({
    projects: size.projects,
    issues: size.issues,
    largeRepositories: size.largeRepositories ?? 0,
    largeRepositoryMb: size.largeRepositoryMb ?? 0,
  });
const markerPath = (storage: StoragePaths) => join(dirname(storage.repositories), 'bench-seed.json');

function storageSeededFor(storage: StoragePaths, size: BenchSize): boolean {
  const file = markerPath(storage);
  return existsSync(file) && existsSync(storage.repositories) && readFileSync(file, 'utf8') === markerOf(size);
}

export async function ensureSeeded(
  config: Pick<Config, 'DATABASE_URL' | 'STACK_DATA_DIR' | 'STORAGE_PATH'>,
  size: BenchSize,
  log: (line: string) => void,
): Promise<SeededDatabase> {
  const name = `gitlab_temporal_bench_${size.name}`.replace(/[^a-z0-9_]/g, '_');
  const url = await ensureDatabase(config.DATABASE_URL, name);
  const storage = storagePaths({ ...config, DATABASE_URL: url });
  const sql = createSql(url, { max: 2, applicationName: 'bench-seed' });
  try {
    await migrate(sql);
    const found = await counts(sql);
    // The seed adds GDK's flightjs/Flight project next to the requested ones: compare at least the requested count.
    if (
      found &&
      found.issues === size.issues &&
      found.projects >= size.projects &&
      found.projects <= size.projects + 1 &&
      storageSeededFor(storage, size)
    ) {
      log(
        `database ${name}: reused (${found.projects} projects, ${found.issues} issues, files in ${storage.repositories}/..)`,
      );
      return { url, name, reused: true, seedMs: 0, storage };
    }
    const large = size.largeRepositories
      ? `, ${size.largeRepositories} repository of ${size.largeRepositoryMb} MiB`
      : '';
    log(`database ${name}: seeding ${size.projects} projects, ${size.issues} issues with files${large} ...`);
    await rm(markerPath(storage), { force: true });
    const started = Date.now();
    await seedInstance(sql, {
      projects: size.projects,
      issues: size.issues,
      reset: true,
      files: { storage, largeRepositories: size.largeRepositories, largeRepositoryMb: size.largeRepositoryMb },
    });
    await sql`analyze`;
    await mkdir(dirname(markerPath(storage)), { recursive: true });
    await writeFile(markerPath(storage), markerOf(size));
    return { url, name, reused: false, seedMs: Date.now() - started, storage };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
