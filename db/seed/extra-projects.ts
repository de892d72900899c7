import type { Sql } from '../sql';

export interface ExtraProjects {
  /** The root group (namespace id) that gets the projects, spread round-robin over its groups. */
  rootId: number;
  count: number;
  /** Paths are `<slug>-<i>` (i from 1) under their group, names `<label> <i>`. */
  slug: string;
  label: string;
}

/**
 * More projects in one root group than the seed puts there (about 50 a root; security attributes only apply within
 * their root), for the tests and benchmarks of large bulk updates: created in the root's groups (the root and its
 * subgroups, by id), with their routes, and the seed's pre-set 'Internal' attribute on every tenth (by id), like
 * the seed's every fourth. One call per slug and database.
 */
export async function addProjectsToRoot(sql: Sql, extra: ExtraProjects): Promise<void> {
  const pattern = `${extra.slug}-%`;
  await sql.begin(async (tx) => {
    await tx`
      insert into projects (name, path, namespace_id, visibility_level)
      select ${extra.label}::text || ' ' || i, ${extra.slug}::text || '-' || i, g.ids[1 + (i % cardinality(g.ids))], 0
      from generate_series(1, ${extra.count}) i
      cross join (select array_agg(id order by id) as ids from namespaces where traversal_ids[1] = ${extra.rootId}) g`;
    await tx`
      insert into routes (source_id, source_type, path, name)
      select p.id, 'Project', r.path || '/' || p.path, r.name || ' / ' || p.name
      from projects p join routes r on r.source_type = 'Namespace' and r.source_id = p.namespace_id
      where p.path like ${pattern}`;
    await tx`
      insert into project_to_security_attributes (project_id, security_attribute_id, traversal_ids)
      select p.id, a.id, n.traversal_ids
      from projects p join namespaces n on n.id = p.namespace_id
      join security_attributes a on a.namespace_id = ${extra.rootId} and a.name = 'Internal'
      where p.path like ${pattern} and p.id % 10 = 0`;
  });
  await sql`analyze`;
}
