import type { Sql } from '../sql';
import { seedFiles, type FileSeedOptions, type FileSeedSummary } from './files';
import { buildHierarchy, type SeedShape } from './hierarchy';
import { MORE_RELATION_TABLES, seedMoreRelations } from './more-relations';

export interface SeedOptions {
  projects: number;
  issues: number;
  notesPerIssue?: number;
  /** Merge requests as a fraction of issues. */
  mergeRequestRatio?: number;
  /** Truncate the source tables first; without it, seeding a non-empty database is refused. */
  reset?: boolean;
  /** Repositories, uploads and LFS files on disk (with their rows); without it the instance has none. */
  files?: FileSeedOptions;
  onProgress?: (step: string, rows: number, ms: number) => void;
}

export interface SeedSummary {
  users: number;
  groups: number;
  rootGroups: number;
  projects: number;
  issues: number;
  notes: number;
  mergeRequests: number;
  totalRows: number;
  files?: FileSeedSummary;
  ms: number;
}

export class SeedRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedRefusedError';
  }
}

/** The well-known users every seeded instance has (ids are fixed), for demos, tests and benchmarks. */
export const SEED_USERS = {
  root: { id: 1, username: 'root' }, // instance administrator
  owner: { id: 2, username: 'alice' }, // Owner of every root group
  maintainer: { id: 3, username: 'bob' },
  developer: { id: 4, username: 'carol' },
  reporter: { id: 5, username: 'dave' },
  guest: { id: 6, username: 'erin' },
  blocked: { id: 7, username: 'frank' }, // blocked, although Owner of every root group
  outsider: { id: 8, username: 'grace' }, // member of nothing
} as const;

/** Personal access token of a seeded user; only the digest is stored. Dev and test data only. */
export function seedToken(username: string): string {
  return `glpat-seed-${username}`;
}

const SOURCE_TABLES = [
  ...MORE_RELATION_TABLES,
  'lfs_objects_projects',
  'lfs_objects',
  'uploads',
  'project_repositories',
  'project_to_security_attributes',
  'security_attributes',
  'security_categories',
  'project_features',
  'protected_branch_push_access_levels',
  'protected_branch_merge_access_levels',
  'protected_branches',
  'release_links',
  'releases',
  'merge_request_reviewers',
  'merge_request_assignees',
  'issue_assignees',
  'label_links',
  'notes',
  'merge_requests',
  'issues',
  'lists',
  'boards',
  'badges',
  'milestones',
  'label_priorities',
  'labels',
  'feature_flag_actors',
  'feature_flags',
  'members',
  'routes',
  'projects',
  'namespaces',
  'personal_access_tokens',
  'users',
];

// A fixed text the descriptions take slices of, so rows differ and compress like real prose, not like repeats.
const LOREM =
  'Steps to reproduce: open the project settings, change the default branch, then reload the page. ' +
  'Expected behaviour: the new branch is shown and pipelines run against it. Actual behaviour: the old branch ' +
  'is still shown until the cache expires, and merge requests keep targeting it. Logs show a timeout in the ' +
  'repository service after thirty seconds. This started after the upgrade to the latest release. Workaround: ' +
  'clear the cache manually from the admin area. Possibly related to the recent change in branch protection.';

/**
 * Fills an empty source instance with a synthetic, deterministic GitLab: the same options always give the same
 * rows and ids. Bulk work is done inside PostgreSQL (insert ... select over generate_series) so a million issues
 * take seconds, not hours.
 */
export async function seedInstance(sql: Sql, options: SeedOptions): Promise<SeedSummary> {
  if (!Number.isInteger(options.projects) || options.projects < 1)
    throw new SeedRefusedError('projects must be a whole number of at least 1');
  if (!Number.isInteger(options.issues) || options.issues < 0)
    throw new SeedRefusedError('issues must be a whole number of at least 0');
  const notesPerIssue = options.notesPerIssue ?? 2;
  const mrs = Math.round(options.issues * (options.mergeRequestRatio ?? 0.2));
  const shape: SeedShape = buildHierarchy(options.projects);
  const started = Date.now();
  let totalRows = 0;

  const step = async (name: string, run: () => Promise<{ count: number }>) => {
    const t = Date.now();
    const { count } = await run();
    totalRows += count;
    options.onProgress?.(name, count, Date.now() - t);
  };

  await sql.begin(async (tx) => {
    await tx`set local synchronous_commit = off`;
    if (options.reset) {
      await tx.unsafe(`truncate ${SOURCE_TABLES.join(', ')} restart identity cascade`);
    } else {
      const [row] = await tx<
        { n: number }[]
      >`select (select count(*) from users)::int + (select count(*) from namespaces)::int as n`;
      if ((row?.n ?? 0) > 0)
        throw new SeedRefusedError('the database already has users or groups; seed a fresh database or pass --reset');
    }

    await step(
      'users',
      () => tx`
      insert into users (id, username, name, email, state, admin, created_at)
      select i, u.username, initcap(u.username), u.username || '@example.test',
        case when i = ${SEED_USERS.blocked.id} then 'blocked' else 'active' end, i = ${SEED_USERS.root.id},
        timestamptz '2024-01-01' + i * interval '1 minute'
      from generate_series(1, ${shape.users}) i
      cross join lateral (select coalesce((${tx.json(Object.values(SEED_USERS).map((u) => u.username))}::jsonb) ->> (i - 1)::int,
                                          'user' || i) as username) u
      `,
    );
    await step(
      'personal_access_tokens',
      () => tx`
      insert into personal_access_tokens (user_id, name, token_digest, scopes)
      select id, 'seed', encode(sha256(convert_to('glpat-seed-' || username, 'UTF8')), 'hex'), '{api}' from users`,
    );

    await step(
      'namespaces',
      () => tx`
      insert into namespaces (id, name, path, parent_id, traversal_ids, visibility_level, description, created_at)
      select g.id, g.name, g.path, g.parent_id, g.traversal_ids::bigint[], g.visibility, 'Group ' || g.name,
             timestamptz '2024-02-01' + g.id * interval '1 minute'
      from jsonb_to_recordset(${tx.json(shape.groups as never)}::jsonb)
        as g(id bigint, name text, path text, parent_id bigint, traversal_ids text, visibility int)`,
    );
    await step(
      'projects',
      () => tx`
      insert into projects (id, name, path, namespace_id, description, visibility_level, created_at)
      select p.id, p.name, p.path, p.namespace_id, p.name || ' of the seeded instance',
             (p.id % 3) * 10, timestamptz '2024-03-01' + p.id * interval '1 minute'
      from jsonb_to_recordset(${tx.json(shape.projects)}::jsonb) as p(id bigint, namespace_id bigint, name text, path text)`,
    );
    await step('routes', async () => {
      const groups = await tx`
        insert into routes (source_id, source_type, path, name)
        select g.id, 'Namespace', g.full_path, g.full_name
        from jsonb_to_recordset(${tx.json(shape.groups as never)}::jsonb) as g(id bigint, full_path text, full_name text)`;
      const projects = await tx`
        insert into routes (source_id, source_type, path, name)
        select p.id, 'Project', r.path || '/' || p.path, r.name || ' / ' || p.name
        from projects p join routes r on r.source_type = 'Namespace' and r.source_id = p.namespace_id`;
      return { count: groups.count + projects.count };
    });

    await step('members', async () => {
      const fixed = [
        [SEED_USERS.owner.id, 50],
        [SEED_USERS.maintainer.id, 40],
        [SEED_USERS.developer.id, 30],
        [SEED_USERS.reporter.id, 20],
        [SEED_USERS.guest.id, 10],
        [SEED_USERS.blocked.id, 50],
      ];
      const roots = await tx`
        insert into members (user_id, source_id, source_type, access_level)
        select f.user_id, n.id, 'Namespace', f.level
        from namespaces n cross join jsonb_to_recordset(${tx.json(fixed.map(([u, l]) => ({ user_id: u, level: l })))}::jsonb)
          as f(user_id bigint, level int)
        where n.parent_id is null`;
      // Everyone else gets one project membership at a rotating level, so every level occurs.
      const others = shape.users - 8;
      const projects =
        others > 0
          ? await tx`
        insert into members (user_id, source_id, source_type, access_level)
        select 9 + (p.id % ${others}), p.id, 'Project', (array[10, 20, 30, 40, 50])[1 + p.id % 5]
        from projects p`
          : { count: 0 };
      return { count: roots.count + projects.count };
    });

    await step(
      'feature_flags',
      () => tx`
      insert into feature_flags (name, enabled) values
        ('offline_transfer_exports', true), ('security_bulk_operations_notifications', true)`,
    );

    await step('labels', async () => {
      const g = await tx`
        insert into labels (title, color, description, type, group_id)
        select t.title, t.color, 'Group label ' || t.title, 'GroupLabel', n.id
        from namespaces n cross join (values ('priority::high', '#d9534f'), ('priority::low', '#5cb85c'),
          ('team::backend', '#428bca')) t(title, color)
        where n.parent_id is null`;
      const p = await tx`
        insert into labels (title, color, description, type, project_id)
        select t.title, t.color, 'Project label ' || t.title, 'ProjectLabel', p.id
        from projects p cross join (values ('bug', '#ff0000'), ('feature', '#00aa00')) t(title, color)`;
      const pr = await tx`
        insert into label_priorities (project_id, label_id, priority)
        select project_id, id, 1 from labels where type = 'ProjectLabel' and title = 'bug'`;
      return { count: g.count + p.count + pr.count };
    });
    await step('milestones', async () => {
      const g = await tx`
        insert into milestones (iid, title, description, state, start_date, due_date, group_id)
        select 1, 'Group release 1', 'First group milestone', 'active', date '2025-01-01', date '2025-03-31', id from namespaces`;
      const p = await tx`
        insert into milestones (iid, title, description, state, start_date, due_date, project_id)
        select k, 'v' || k || '.0', 'Milestone ' || k, case when k = 1 then 'closed' else 'active' end,
               date '2025-01-01' + (k - 1) * 90, date '2025-03-31' + (k - 1) * 90, p.id
        from projects p cross join generate_series(1, 2) k`;
      return { count: g.count + p.count };
    });
    await step('badges', async () => {
      const g = await tx`
        insert into badges (name, link_url, image_url, type, group_id)
        select 'Pipeline', 'https://ci.example.test/%{project_path}', 'https://ci.example.test/%{project_path}/badge.svg', 'GroupBadge', id
        from namespaces`;
      const p = await tx`
        insert into badges (name, link_url, image_url, type, project_id)
        select 'Coverage', 'https://cov.example.test/' || id, 'https://cov.example.test/' || id || '/badge.svg', 'ProjectBadge', id
        from projects`;
      return { count: g.count + p.count };
    });
    await step('boards', async () => {
      const b = await tx`insert into boards (name, group_id) select 'Development', id from namespaces`;
      const l = await tx`
        insert into lists (board_id, label_id, list_type, position)
        select b.id, null, t.list_type, t.position from boards b cross join (values (0, null::int), (2, null::int)) t(list_type, position)`;
      const ll = await tx`
        insert into lists (board_id, label_id, list_type, position)
        select b.id, l.id, 1, 0 from boards b join labels l on l.group_id = b.group_id and l.title = 'priority::high'`;
      return { count: b.count + l.count + ll.count };
    });

    await step(
      'issues',
      () => tx`
      with per as (
        select p.id, row_number() over (order by p.id) as rn from projects p
      ), sized as (
        select id, (${options.issues}::bigint / ${options.projects}) + case when rn <= ${options.issues}::bigint % ${options.projects} then 1 else 0 end as n
        from per
      )
      insert into issues (iid, project_id, author_id, title, description, state_id, confidential, due_date, weight,
                          relative_position, milestone_id, time_estimate, closed_at, created_at, updated_at)
      select k, s.id, 1 + ((s.id * 7 + k) % ${shape.users}),
        'Issue ' || k || ': ' || (array['Fix','Improve','Investigate','Document','Refactor'])[1 + (k % 5)] || ' ' ||
          (array['login flow','pipeline cache','merge button','search index','API pagination'])[1 + ((s.id + k) % 5)],
        substr(${LOREM}::text, (1 + ((s.id * 31 + k * 17) % 180))::int, 270) || ' Ref ' || md5(s.id || ':' || k),
        case when k % 4 = 0 then 2 else 1 end, k % 10 = 0,
        case when k % 3 = 0 then date '2025-06-01' + (k % 200) end,
        case when k % 2 = 0 then k % 8 end,
        k * 512, null, (k % 5) * 3600,
        case when k % 4 = 0 then timestamptz '2025-05-01' + k * interval '1 minute' end,
        timestamptz '2025-01-01' + k * interval '1 minute', timestamptz '2025-02-01' + k * interval '1 minute'
      from sized s cross join lateral generate_series(1, s.n::int) k`,
    );
    await tx`
      update issues i set milestone_id = m.id
      from milestones m where m.project_id = i.project_id and m.iid = 1 + (i.iid % 2) and i.iid % 3 = 0`;

    await step(
      'merge_requests',
      () => tx`
      with per as (
        select p.id, row_number() over (order by p.id) as rn from projects p
      ), sized as (
        select id, (${mrs}::bigint / ${options.projects}) + case when rn <= ${mrs}::bigint % ${options.projects} then 1 else 0 end as n
        from per
      )
      insert into merge_requests (iid, target_project_id, source_project_id, author_id, title, description, state_id,
                                  source_branch, target_branch, merge_status, draft, merged_at, created_at, updated_at)
      select k, s.id, s.id, 1 + ((s.id * 11 + k) % ${shape.users}),
        (array['Add','Fix','Remove','Update'])[1 + (k % 4)] || ' feature ' || k,
        substr(${LOREM}::text, (1 + ((s.id * 13 + k * 7) % 180))::int, 200),
        case when k % 3 = 0 then 3 else 1 end, 'feature/' || k, 'main', 'can_be_merged', k % 7 = 0,
        case when k % 3 = 0 then timestamptz '2025-04-01' + k * interval '1 minute' end,
        timestamptz '2025-01-15' + k * interval '1 minute', timestamptz '2025-02-15' + k * interval '1 minute'
      from sized s cross join lateral generate_series(1, s.n::int) k`,
    );

    await step('notes', async () => {
      const i = await tx`
        insert into notes (note, noteable_type, noteable_id, project_id, author_id, system, created_at, updated_at)
        select case when k = 1 then 'changed the description' else 'Comment ' || k || ' on #' || i.iid || ': ' ||
                 substr(${LOREM}::text, (1 + ((i.id * 3 + k) % 300))::int, 120) end,
               'Issue', i.id, i.project_id, 1 + ((i.id + k) % ${shape.users}), k = 1,
               i.created_at + k * interval '1 hour', i.created_at + k * interval '1 hour'
        from issues i cross join generate_series(1, ${notesPerIssue}) k`;
      const m = await tx`
        insert into notes (note, noteable_type, noteable_id, project_id, author_id, system, created_at, updated_at)
        select 'Looks good to me, one question about ' || mr.source_branch, 'MergeRequest', mr.id, mr.target_project_id,
               1 + (mr.id % ${shape.users}), false, mr.created_at + interval '2 hours', mr.created_at + interval '2 hours'
        from merge_requests mr`;
      return { count: i.count + m.count };
    });
    await step('links and assignees', async () => {
      const ll = await tx`
        insert into label_links (label_id, target_type, target_id)
        select l.id, 'Issue', i.id from issues i
        join labels l on l.project_id = i.project_id and l.title = case when i.iid % 2 = 0 then 'bug' else 'feature' end`;
      const ia =
        await tx`insert into issue_assignees (issue_id, user_id) select id, 1 + (id % ${shape.users}) from issues`;
      const ma = await tx`
        insert into merge_request_assignees (merge_request_id, user_id) select id, 1 + (id % ${shape.users}) from merge_requests`;
      const mr = await tx`
        insert into merge_request_reviewers (merge_request_id, user_id, state)
        select id, 1 + ((id + 1) % ${shape.users}), (id % 4)::smallint from merge_requests`;
      return { count: ll.count + ia.count + ma.count + mr.count };
    });
    await step('releases', async () => {
      const r = await tx`
        insert into releases (tag, name, description, project_id, author_id, released_at)
        select 'v1.0.0', 'Release 1.0', 'First stable release of project ' || id, id, 1 + (id % ${shape.users}),
               timestamptz '2025-03-31' from projects`;
      const l = await tx`
        insert into release_links (release_id, url, name, filepath, link_type)
        select r.id, 'https://downloads.example.test/' || r.project_id || '/' || t.file, t.name, '/' || t.file, t.kind
        from releases r cross join (values ('app.tar.gz', 'Package', 3), ('runbook.md', 'Runbook', 1)) t(file, name, kind)`;
      return { count: r.count + l.count };
    });
    await step('protected branches and features', async () => {
      const pb = await tx`insert into protected_branches (project_id, name) select id, 'main' from projects`;
      const m =
        await tx`insert into protected_branch_merge_access_levels (protected_branch_id, access_level) select id, 40 from protected_branches`;
      const p =
        await tx`insert into protected_branch_push_access_levels (protected_branch_id, access_level) select id, 40 from protected_branches`;
      const f = await tx`
        insert into project_features (project_id, wiki_access_level, pages_access_level)
        select id, case when id % 4 = 0 then 0 else 20 end, 10 from projects`;
      return { count: pb.count + m.count + p.count + f.count };
    });
    await step('security categories', async () => {
      const c = await tx`
        insert into security_categories (namespace_id, name, description, editable_state, multiple_selection)
        select n.id, t.name, t.description, t.state, t.multi
        from namespaces n cross join (values
          ('Business Impact', 'How critical the project is', 0, false),
          ('Application', 'Applications the project belongs to', 20, true),
          ('Exposure', 'Where the project is reachable from', 20, false)) t(name, description, state, multi)
        where n.parent_id is null`;
      const a = await tx`
        insert into security_attributes (namespace_id, security_category_id, name, description, color, editable_state)
        select c.namespace_id, c.id, t.name, t.name || ' (' || c.name || ')', t.color, c.editable_state
        from security_categories c join (values
          ('Business Impact', 'Mission critical', '#d9534f'), ('Business Impact', 'Business critical', '#f0ad4e'),
          ('Business Impact', 'Business operational', '#5bc0de'), ('Business Impact', 'Non-essential', '#5cb85c'),
          ('Application', 'Payments', '#428bca'), ('Application', 'Identity', '#6f42c1'),
          ('Application', 'Search', '#20c997'), ('Application', 'Storefront', '#fd7e14'),
          ('Application', 'Reporting', '#6c757d'),
          ('Exposure', 'Internet facing', '#dc3545'), ('Exposure', 'Internal', '#17a2b8'),
          ('Exposure', 'Air-gapped', '#343a40')) t(category, name, color) on t.category = c.name`;
      // About one project in four (picked by a hash of its id, so every root group gets some) starts with one
      // attribute, so REMOVE and REPLACE have something to act on and ADD of a same-category attribute can fail.
      const l = await tx`
        insert into project_to_security_attributes (project_id, security_attribute_id, traversal_ids)
        select p.id, a.id, n.traversal_ids
        from projects p join namespaces n on n.id = p.namespace_id
        join security_attributes a on a.namespace_id = n.traversal_ids[1] and a.name = 'Internal'
        where get_byte(decode(md5(p.id::text), 'hex'), 0) % 4 = 0`;
      return { count: c.count + a.count + l.count };
    });

    await seedMoreRelations(tx, step, shape.users);

    // Explicit ids were inserted above; move the identity sequences past them.
    for (const table of ['users', 'namespaces', 'projects']) {
      await tx.unsafe(
        `select setval(pg_get_serial_sequence('${table}', 'id'), (select coalesce(max(id), 1) from ${table}))`,
      );
    }
  });
  let files: FileSeedSummary | undefined;
  if (options.files) {
    files = await seedFiles(sql, options.files);
    options.onProgress?.('repositories and files', files.repositories + files.wikis + files.designs, files.ms);
  }
  await sql`analyze`;

  const [counts] = await sql<{ issues: number; notes: number; mrs: number }[]>`
    select (select count(*) from issues)::int as issues, (select count(*) from notes)::int as notes,
           (select count(*) from merge_requests)::int as mrs`;
  return {
    users: shape.users,
    groups: shape.groups.length,
    rootGroups: shape.rootGroups,
    projects: shape.projects.length,
    issues: counts?.issues ?? 0,
    notes: counts?.notes ?? 0,
    mergeRequests: counts?.mrs ?? 0,
    totalRows,
    files,
    ms: Date.now() - started,
  };
}
