import { migrate } from '../../../db/migrate';
import { seedInstance } from '../../../db/seed/generate';
import type { Sql } from '../../../db/sql';
import { createScratchDatabase } from '../../helpers/database';

// A scratch instance whose first root group (gitlab-org) holds more than a thousand projects: the seed puts 50
// projects in each root, and security attributes only apply within their root, so the extra projects are added
// to gitlab-org's subgroups here (with routes, and 'Internal' on every tenth, like the seed's every fourth).

export const EXTRA_PROJECTS = 1100;

export async function createBigInstance(suffix: string): Promise<{ url: string; sql: Sql; drop: () => Promise<void> }> {
  const scratch = await createScratchDatabase(suffix);
  await migrate(scratch.sql);
  await seedInstance(scratch.sql, { projects: 150, issues: 0 });
  const { sql } = scratch;
  await sql.begin(async (tx) => {
    await tx`
      insert into projects (name, path, namespace_id, visibility_level)
      select 'Bulk project ' || i, 'bulk-project-' || i, n.id, 0
      from generate_series(1, ${EXTRA_PROJECTS}) i
      join namespaces n on n.traversal_ids[1] = 1 and n.id = 1 + (i % 9)`;
    await tx`
      insert into routes (source_id, source_type, path, name)
      select p.id, 'Project', r.path || '/' || p.path, r.name || ' / ' || p.name
      from projects p join routes r on r.source_type = 'Namespace' and r.source_id = p.namespace_id
      where p.path like 'bulk-project-%'`;
    await tx`
      insert into project_to_security_attributes (project_id, security_attribute_id, traversal_ids)
      select p.id, a.id, n.traversal_ids
      from projects p join namespaces n on n.id = p.namespace_id
      join security_attributes a on a.namespace_id = 1 and a.name = 'Internal'
      where p.path like 'bulk-project-%' and p.id % 10 = 0`;
  });
  await sql`analyze`;
  return scratch;
}
