import { migrate } from '../../../db/migrate';
import { seedInstance } from '../../../db/seed/generate';
import { addProjectsToRoot } from '../../../db/seed/extra-projects';
import { namespaceIdByPath } from '../../../db/seed/lookups';
import type { Sql } from '../../../db/sql';
import { createScratchDatabase } from '../../helpers/database';

// A scratch instance whose first root group (gitlab-org) holds more than a thousand projects: the seed puts 50
// projects in each root, and security attributes only apply within their root, so extra projects are added to
// gitlab-org's groups (db/seed/extra-projects.ts).

export const EXTRA_PROJECTS = 1100;

export async function createBigInstance(suffix: string): Promise<{ url: string; sql: Sql; drop: () => Promise<void> }> {
  const scratch = await createScratchDatabase(suffix);
  await migrate(scratch.sql);
  await seedInstance(scratch.sql, { projects: 150, issues: 0 });
  const rootId = await namespaceIdByPath(scratch.sql, 'gitlab-org');
  await addProjectsToRoot(scratch.sql, { rootId, count: EXTRA_PROJECTS, slug: 'bulk-project', label: 'Bulk project' });
  return scratch;
}
