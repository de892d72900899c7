import type { Db } from '../sql';

/** generate.ts's step helper: runs one seed step and counts its rows. */
export type SeedStep = (name: string, run: () => Promise<{ count: number }>) => Promise<void>;

/** The tables of migration 0005, children first: generate.ts truncates them with the other source tables. */
export const MORE_RELATION_TABLES = [
  'project_custom_attributes',
  'project_error_tracking_settings',
  'service_desk_settings',
  'project_auto_devops',
  'container_expiration_policies',
  'project_ci_cd_settings',
  'ci_builds',
  'ci_stages',
  'ci_pipeline_metadata',
  'ci_pipelines',
  'ci_pipeline_schedules',
  'external_pull_requests',
  'protected_tag_create_access_levels',
  'protected_tags',
  'snippets',
  'namespace_settings',
] as const;

/** Seed rows per project of the relations below, for tests that check counts. */
export const MORE_RELATIONS_SHAPE = {
  pipelinesPerProject: 3,
  stagesPerPipeline: 2,
  jobsPerStage: 2,
} as const;

const sum = (...results: { count: number }[]) => ({ count: results.reduce((n, r) => n + r.count, 0) });

/**
 * The source rows of the relations in migration 0005, set-based like the rest of the seed (insert ... select over
 * the projects and groups already seeded), so the large seed's 10,000 projects add seconds. Deterministic: every
 * value is derived from ids. `users` is the number of seeded users (ids 1..users).
 */
export async function seedMoreRelations(tx: Db, step: SeedStep, users: number): Promise<void> {
  const others = users - 8; // users beyond the well-known eight (SEED_USERS)

  await step('member details and public emails', async () => {
    // Two users in three show a public email; email itself is never exported.
    const u = await tx`update users set public_email = username || '@public.example.test' where id % 3 <> 0`;
    const m = await tx`
      update members set created_by_id = 2, expires_at = case when id % 4 = 0 then date '2027-06-30' end
      where source_type = 'Project'`;
    // Every subgroup gets one direct member (root groups have the well-known users), so members of subgroups are
    // exported too.
    const s =
      others > 0
        ? await tx`
        insert into members (user_id, source_id, source_type, access_level, created_by_id)
        select 9 + (n.id % ${others}), n.id, 'Namespace', 30, 2 from namespaces n where n.parent_id is not null
        order by n.id`
        : { count: 0 };
    return sum(u, m, s);
  });

  await step(
    'namespace_settings',
    () => tx`
      insert into namespace_settings (namespace_id, prevent_sharing_groups_outside_hierarchy, default_branch_name)
      select id, id % 2 = 0, 'main' from namespaces`,
  );

  await step('snippets', async () => {
    // One snippet a project, two for even ids; the second is secret (a token GitLab never exports).
    const s = await tx`
      insert into snippets (title, content, description, file_name, author_id, project_id, visibility_level, secret,
                            encrypted_secret_token, created_at, updated_at)
      select 'Snippet ' || k || ' of project ' || p.id, 'echo "hello from ' || p.path || '"', 'How to run it',
             'run-' || k || '.sh', 1 + ((p.id * 5 + k) % ${users}), p.id, case when k = 1 then p.visibility_level else 0 end,
             k = 2, case when k = 2 then md5('snippet-token:' || p.id) end,
             timestamptz '2025-03-01' + p.id * interval '1 minute', timestamptz '2025-03-02' + p.id * interval '1 minute'
      from projects p cross join lateral generate_series(1, 2 - (p.id % 2)::int) k
      order by p.id, k`;
    const n = await tx`
      insert into notes (note, noteable_type, noteable_id, project_id, author_id, created_at, updated_at)
      select 'Works for me on ' || s.file_name, 'Snippet', s.id, s.project_id, 1 + ((s.id * 3) % ${users}),
             s.created_at + interval '1 hour', s.created_at + interval '1 hour'
      from snippets s order by s.id`;
    return sum(s, n);
  });

  await step('protected tags', async () => {
    const t = await tx`insert into protected_tags (project_id, name) select id, 'v*' from projects order by id`;
    const a = await tx`
      insert into protected_tag_create_access_levels (protected_tag_id, access_level)
      select id, 40 from protected_tags order by id`;
    // Every fifth project also lets alice create tags by name (a user reference).
    const u = await tx`
      insert into protected_tag_create_access_levels (protected_tag_id, access_level, user_id)
      select id, null, 2 from protected_tags where project_id % 5 = 0 order by id`;
    return sum(t, a, u);
  });

  await step('external pull requests and pipeline schedules', async () => {
    const e = await tx`
      insert into external_pull_requests (project_id, pull_request_iid, status, source_branch, target_branch,
                                          source_repository, target_repository, source_sha, target_sha)
      select p.id, 1, 1, 'feature/mirror', 'main', 'https://github.example.test/fork/' || p.path,
             'https://github.example.test/upstream/' || p.path, md5('ext-src:' || p.id) || '00000000',
             md5('ext-tgt:' || p.id) || '00000000'
      from projects p where p.id % 10 = 0 order by p.id`;
    const s = await tx`
      insert into ci_pipeline_schedules (project_id, description, ref, cron, cron_timezone, next_run_at, owner_id)
      select id, 'Nightly', 'main', '0 2 * * *', 'UTC', timestamptz '2026-01-01 02:00', 1 + (id % ${users})
      from projects where id % 5 = 0 order by id`;
    return sum(e, s);
  });

  await step('ci pipelines, stages and jobs', async () => {
    const { pipelinesPerProject, stagesPerPipeline, jobsPerStage } = MORE_RELATIONS_SHAPE;
    // Pipeline 1 is a push to main, 2 a web run (linked to the project's external pull request when it has one),
    // 3 a merge request pipeline when the project has a merge request, otherwise a push.
    const p = await tx`
      insert into ci_pipelines (iid, project_id, ref, sha, before_sha, tag, committed_at, status, started_at,
                                finished_at, duration, user_id, source, protected, config_source, merge_request_id,
                                external_pull_request_id, created_at, updated_at)
      select k, p.id, case when mr.id is not null and k = 3 then 'refs/merge-requests/' || mr.iid || '/head' else 'main' end,
             md5('sha:' || p.id || ':' || k) || '00000000', repeat('0', 40), false,
             timestamptz '2025-04-01' + (p.id * 3 + k) * interval '1 minute',
             (array['success', 'failed', 'running'])[k], timestamptz '2025-04-01' + (p.id * 3 + k) * interval '1 minute',
             case when k < 3 then timestamptz '2025-04-01' + (p.id * 3 + k) * interval '1 minute' + interval '5 minutes' end,
             case when k < 3 then 300 end, 1 + ((p.id + k) % ${users}),
             case when k = 2 then 2 when k = 3 and mr.id is not null then 10 else 1 end, k <> 3, 1,
             case when k = 3 then mr.id end, case when k = 2 then e.id end,
             timestamptz '2025-04-01' + (p.id * 3 + k) * interval '1 minute',
             timestamptz '2025-04-01' + (p.id * 3 + k) * interval '1 minute' + interval '6 minutes'
      from projects p
      cross join generate_series(1, ${pipelinesPerProject}) k
      left join merge_requests mr on mr.target_project_id = p.id and mr.iid = 1
      left join external_pull_requests e on e.project_id = p.id
      order by p.id, k`;
    const m = await tx`
      insert into ci_pipeline_metadata (pipeline_id, project_id, name)
      select id, project_id, 'Build ' || iid from ci_pipelines where iid = 1`;
    // Stage status follows the pipeline's: success 3, failed 4 (the test stage), running 2.
    const s = await tx`
      insert into ci_stages (pipeline_id, project_id, name, status, position, created_at, updated_at)
      select c.id, c.project_id, (array['build', 'test'])[k],
             case c.status when 'success' then 3 when 'failed' then case when k = 2 then 4 else 3 end else 2 end,
             k - 1, c.created_at, c.updated_at
      from ci_pipelines c cross join generate_series(1, ${stagesPerPipeline}) k
      order by c.id, k`;
    // The last job of a successful pipeline's test stage triggers a downstream pipeline (a bridge).
    const j = await tx`
      insert into ci_builds (stage_id, commit_id, project_id, type, name, status, stage_idx, ref, tag, user_id,
                             allow_failure, coverage, options, yaml_variables, retried, protected, scheduling_type,
                             queued_at, started_at, finished_at, token_encrypted, runner_id, created_at, updated_at)
      select st.id, c.id, c.project_id, case when c.status = 'success' and st.position = 1 and k = ${jobsPerStage}
                                          then 'Ci::Bridge' else 'Ci::Build' end,
             st.name || ':' || k,
             case st.status when 3 then 'success' when 4 then case when k = 1 then 'failed' else 'success' end
               else 'running' end,
             st.position, c.ref, false, c.user_id, k = 2, case when st.name = 'test' then 80.5 end,
             jsonb_build_object('script', jsonb_build_array('make ' || st.name)),
             jsonb_build_array(jsonb_build_object('key', 'STAGE', 'value', st.name, 'public', true)),
             false, c.protected, 0, c.started_at, c.started_at + interval '10 seconds', c.finished_at,
             md5('job-token:' || st.id || ':' || k), 1, c.created_at, c.updated_at
      from ci_stages st join ci_pipelines c on c.id = st.pipeline_id
      cross join generate_series(1, ${jobsPerStage}) k
      order by st.id, k`;
    return sum(p, m, s, j);
  });

  await step('project settings', async () => {
    const ci = await tx`
      insert into project_ci_cd_settings (project_id, group_runners_enabled, default_git_depth)
      select id, id % 7 <> 0, 20 from projects order by id`;
    const cep = await tx`
      insert into container_expiration_policies (project_id, next_run_at, name_regex, cadence, older_than, keep_n,
                                                 enabled, name_regex_keep)
      select id, case when id % 2 = 0 then timestamptz '2026-01-02' end, '.*', '1d', '90d', 10, id % 2 = 0, 'release-.*'
      from projects`;
    const ad = await tx`
      insert into project_auto_devops (project_id, enabled, deploy_strategy)
      select id, true, (id % 3)::smallint from projects where id % 3 = 0 order by id`;
    const sd = await tx`
      insert into service_desk_settings (project_id, issue_template_key, project_key, outgoing_name)
      select id, 'support', 'desk' || id, 'Support of ' || path from projects where id % 4 = 0`;
    const et = await tx`
      insert into project_error_tracking_settings (project_id, enabled, api_url, project_name, organization_name,
                                                   encrypted_token, encrypted_token_iv)
      select id, true, 'https://sentry.example.test/api/0/projects/org/' || path || '/', path, 'org',
             md5('sentry-token:' || id), md5('iv:' || id)
      from projects where id % 6 = 0`;
    const ca = await tx`
      insert into project_custom_attributes (project_id, key, value)
      select p.id, t.key, t.value || p.id from projects p cross join (values ('team', 'team-'), ('tier', 'tier-')) t(key, value)
      where p.id % 2 = 0
      order by p.id, t.key`;
    return sum(ci, cep, ad, sd, et, ca);
  });

  await step('project boards', async () => {
    const b = await tx`insert into boards (name, project_id) select 'Development', id from projects order by id`;
    const l = await tx`
      insert into lists (board_id, label_id, list_type, position)
      select b.id, null, t.list_type, null from boards b cross join (values (0), (2)) t(list_type)
      where b.project_id is not null
      order by b.id, t.list_type`;
    const ll = await tx`
      insert into lists (board_id, label_id, list_type, position)
      select b.id, l.id, 1, 0 from boards b join labels l on l.project_id = b.project_id and l.title = 'bug'
      order by b.id`;
    return sum(b, l, ll);
  });
}
