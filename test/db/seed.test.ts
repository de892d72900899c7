import { groupAccessLevels, projectAccessLevels } from '../../db/access';
import { migrate } from '../../db/migrate';
import { SEED_USERS, SeedRefusedError, seedInstance } from '../../db/seed/generate';
import { MORE_RELATIONS_SHAPE } from '../../db/seed/more-relations';
import { createScratchDatabase } from '../helpers/database';

describe('seed generator', () => {
  let db: Awaited<ReturnType<typeof createScratchDatabase>>;
  beforeAll(async () => {
    db = await createScratchDatabase('seed');
    await migrate(db.sql);
  });
  afterAll(async () => db.drop());

  const count = async (table: string) =>
    (await db.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`))[0]?.n;

  it('creates exactly the requested projects and issues', async () => {
    const summary = await seedInstance(db.sql, { projects: 120, issues: 5003, notesPerIssue: 2 });
    // Notes: two an issue, one a merge request, one a snippet.
    const snippets = (await count('snippets')) ?? 0;
    expect(summary).toMatchObject({ projects: 120, issues: 5003, notes: 5003 * 2 + summary.mergeRequests + snippets });
    expect(await count('projects')).toBe(120);
    expect(await count('issues')).toBe(5003);
    expect(await count('merge_requests')).toBe(Math.round(5003 * 0.2));
    expect(await count('routes')).toBe(120 + summary.groups);
    // iids are 1..n within each project, with no gaps.
    const [gaps] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from (select project_id, max(iid) as m, count(*) as c from issues group by project_id) x
      where m <> c`;
    expect(gaps?.n).toBe(0);
  });

  it('gives every project its pipelines, snippets, protected tag and settings, and every subgroup a member', async () => {
    const { pipelinesPerProject, stagesPerPipeline, jobsPerStage } = MORE_RELATIONS_SHAPE;
    const pipelines = 120 * pipelinesPerProject;
    expect({
      pipelines: await count('ci_pipelines'),
      stages: await count('ci_stages'),
      jobs: await count('ci_builds'),
      snippets: await count('snippets'),
      protectedTags: await count('protected_tags'),
      ciCdSettings: await count('project_ci_cd_settings'),
      expirationPolicies: await count('container_expiration_policies'),
      projectBoards: await count('boards where project_id is not null'),
    }).toEqual({
      pipelines,
      stages: pipelines * stagesPerPipeline,
      jobs: pipelines * stagesPerPipeline * jobsPerStage,
      snippets: 60 * 2 + 60, // two for even ids
      protectedTags: 120,
      ciCdSettings: 120,
      expirationPolicies: 120,
      projectBoards: 120,
    });
    // A pipeline for a merge request points at one of its own project.
    const [foreign] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from ci_pipelines c join merge_requests mr on mr.id = c.merge_request_id
      where mr.target_project_id <> c.project_id`;
    expect(foreign?.n).toBe(0);
    expect(await count('ci_pipelines where merge_request_id is not null')).toBeGreaterThan(0);
    const [bare] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from namespaces n
      where not exists (select 1 from members m where m.source_type = 'Namespace' and m.source_id = n.id)`;
    expect(bare?.n).toBe(0);
    expect(await count('namespace_settings')).toBe(await count('namespaces'));
  });

  it('builds a consistent hierarchy several levels deep', async () => {
    const [depth] = await db.sql<{ d: number }[]>`select max(cardinality(traversal_ids))::int as d from namespaces`;
    expect(depth?.d).toBeGreaterThanOrEqual(4);
    // traversal_ids is the parent's traversal_ids plus the group's own id.
    const [broken] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from namespaces c left join namespaces p on p.id = c.parent_id
      where c.traversal_ids <> coalesce(p.traversal_ids, '{}') || c.id`;
    expect(broken?.n).toBe(0);
    // Every route is the parent's route plus the path.
    const [badRoutes] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from projects p
      join routes r on r.source_type = 'Project' and r.source_id = p.id
      join routes nr on nr.source_type = 'Namespace' and nr.source_id = p.namespace_id
      where r.path <> nr.path || '/' || p.path`;
    expect(badRoutes?.n).toBe(0);
    // Projects sit at every level, not only in root groups.
    const levels = await db.sql<{ d: number }[]>`
      select distinct cardinality(n.traversal_ids)::int as d from projects p join namespaces n on n.id = p.namespace_id order by 1`;
    expect(levels.map((l) => l.d)).toEqual([1, 2, 3, 4]);
  });

  it('gives the well-known users their access levels', async () => {
    const [root] = await db.sql<
      { id: number }[]
    >`select id from namespaces where parent_id is null order by id limit 1`;
    const [deepProject] = await db.sql<{ id: number }[]>`
      select p.id from projects p join namespaces n on n.id = p.namespace_id
      where n.traversal_ids[1] = ${root!.id} and cardinality(n.traversal_ids) = 4 limit 1`;
    const expected: [keyof typeof SEED_USERS, number][] = [
      ['root', 50],
      ['owner', 50],
      ['maintainer', 40],
      ['developer', 30],
      ['reporter', 20],
      ['guest', 10],
      ['blocked', 0],
      ['outsider', 0],
    ];
    for (const [who, level] of expected) {
      const groups = await groupAccessLevels(db.sql, SEED_USERS[who].id, [root!.id]);
      const projects = await projectAccessLevels(db.sql, SEED_USERS[who].id, [deepProject!.id]);
      expect({ who, group: groups.get(root!.id), project: projects.get(deepProject!.id) }).toEqual({
        who,
        group: level,
        project: level,
      });
    }
    const levels = await db.sql<{ l: number }[]>`select distinct access_level::int as l from members order by 1`;
    expect(levels.map((l) => l.l)).toEqual([10, 20, 30, 40, 50]);
  });

  it("includes GDK's sample paths, so the seed document's request works as written", async () => {
    const routes = await db.sql<{ path: string; source_type: string }[]>`
      select path, source_type from routes where path in ('gitlab-org', 'flightjs/Flight') order by path`;
    expect(routes).toEqual([
      { path: 'flightjs/Flight', source_type: 'Project' },
      { path: 'gitlab-org', source_type: 'Namespace' },
    ]);
  });

  it('is deterministic: the same options give the same rows', async () => {
    const snapshot = async () =>
      db.sql<{ h: string }[]>`
        select md5(string_agg(id || title || coalesce(description, '') || project_id, ',' order by id)) as h from issues
        union all select md5(string_agg(id || name || status || commit_id || user_id, ',' order by id)) from ci_builds
        union all select md5(string_agg(id || title || author_id || coalesce(encrypted_secret_token, ''), ',' order by id))
        from snippets`;
    const first = await snapshot();
    await seedInstance(db.sql, { projects: 120, issues: 5003, notesPerIssue: 2, reset: true });
    expect(await snapshot()).toEqual(first);
  });

  it('refuses a database that already has data unless asked to reset', async () => {
    await expect(seedInstance(db.sql, { projects: 1, issues: 0 })).rejects.toBeInstanceOf(SeedRefusedError);
    expect(await count('projects')).toBe(120);
  });
});
