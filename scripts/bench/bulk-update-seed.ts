import { migrate } from '../../db/migrate';
import { addProjectsToRoot } from '../../db/seed/extra-projects';
import { seedInstance } from '../../db/seed/generate';
import { createSql, type Sql } from '../../db/sql';
import { ensureDatabase } from './seed';
import { attributeIdByName } from '../../db/seed/lookups';

// A dedicated database per bulk-update size whose first root group holds exactly `projects` projects. The seed
// puts about 50 projects in each root group, and security attributes only apply within their root, so the missing
// projects are created in the first root's groups (db/seed/extra-projects.ts, as the tests of large operations
// do). Reused when it already matches.

export interface BulkBenchDatabase {
  url: string;
  name: string;
  reused: boolean;
  seedMs: number;
  rootId: number;
  rootPath: string;
  /** Projects under the root group (the operation's items). */
  projects: number;
}

async function firstRoot(sql: Sql): Promise<{ id: number; path: string; projects: number } | undefined> {
  try {
    const [row] = await sql<{ id: number; path: string; projects: number }[]>`
      select n.id, r.path,
             (select count(*)::int from projects p join namespaces pn on pn.id = p.namespace_id
              where pn.traversal_ids[1] = n.id) as projects
      from namespaces n join routes r on r.source_type = 'Namespace' and r.source_id = n.id
      where n.parent_id is null order by n.id limit 1`;
    return row;
  } catch {
    return undefined; // not migrated or not seeded yet
  }
}

export async function ensureBulkSeeded(
  baseUrl: string,
  projects: number,
  log: (line: string) => void,
): Promise<BulkBenchDatabase> {
  const name = `gitlab_temporal_bench_bulk_${projects}`;
  const url = await ensureDatabase(baseUrl, name);
  const sql = createSql(url, { max: 2, applicationName: 'bench-seed' });
  try {
    await migrate(sql);
    const found = await firstRoot(sql);
    if (found && found.projects === projects) {
      log(`database ${name}: reused (${found.projects} projects under ${found.path})`);
      return { url, name, reused: true, seedMs: 0, rootId: found.id, rootPath: found.path, projects };
    }
    log(`database ${name}: seeding, then ${projects} projects under the first root group ...`);
    const started = Date.now();
    await seedInstance(sql, { projects: 150, issues: 0, reset: true });
    const root = (await firstRoot(sql))!;
    const extra = projects - root.projects;
    if (extra < 0) throw new Error(`the first root group already holds ${root.projects} projects (> ${projects})`);
    await addProjectsToRoot(sql, { rootId: root.id, count: extra, slug: 'bench-project', label: 'Bench project' });
    return { url, name, reused: false, seedMs: Date.now() - started, rootId: root.id, rootPath: root.path, projects };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The attribute the benchmark ADDs: 'Air-gapped', in the single-selection category of the pre-set 'Internal'. */
export function benchAttribute(sql: Sql, rootPath: string): Promise<number> {
  return attributeIdByName(sql, rootPath, 'Air-gapped');
}

/**
 * The same starting state before every measured run: no link to the benchmark's attribute, and no earlier
 * operation's rows (the database is the benchmark's own).
 */
export async function resetBulkState(sql: Sql, attributeId: number): Promise<void> {
  await sql`delete from project_to_security_attributes where security_attribute_id = ${attributeId}`;
  await sql`delete from background_operation_projects`;
  await sql`delete from background_operations`;
  await sql`vacuum analyze project_to_security_attributes`;
  await sql`vacuum analyze background_operation_projects`;
  await sql`vacuum analyze background_operations`;
}
