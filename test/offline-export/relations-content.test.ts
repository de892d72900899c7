import { gunzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  OFFLINE_EXPORT_WORKFLOW,
  offlineExportWorkflowId,
  type OfflineExportResult,
  type PortableType,
} from '../../contracts/offline-export';
import { RelationStatus } from '../../db/offline-export/statuses';
import { createStackS3Client } from '../../worker/deps';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { getObject, insertExport, listKeys, parseGzipLines } from './fixture';

// The relations added after the first thirteen, exported from the shared seed and read back from the bucket:
// attributes only from import_export.yml's allow-lists (written out again here from GitLab's file, not taken from
// the relation sources), nesting as GitLab's tree, no secret of the source in any object, members with their users,
// and user_contributions holding exactly the users the exported records refer to.

type Json = Record<string, unknown>;

const ALICE = { id: 2 };
const GRACE = 8;
const FLIGHTJS = 19;
// org-2/frontend/web (2 groups, 6 projects with even ids: secret snippets, external pull requests, settings) and
// flightjs (a root group, whose members are the seed's well-known users, with one project).
const PATHS = ['org-2/frontend/web', 'flightjs'];

// The relations this file checks: the ones added after the first thirteen (3 of a group, 15 of a project).
const NEW_RELATIONS = [
  'members',
  'namespace_settings',
  'user_contributions',
  'snippets',
  'project_members',
  'external_pull_requests',
  'ci_pipelines',
  'auto_devops',
  'pipeline_schedules',
  'container_expiration_policy',
  'protected_tags',
  'custom_attributes',
  'project_badges',
  'ci_cd_settings',
  'error_tracking_setting',
  'boards',
  'service_desk_setting',
];

// GitLab's allow-lists (lib/gitlab/import_export/{group,project}/import_export.yml, included_attributes, methods and
// the tree's sub-relations). The export leaves out project_id and group_id, which the importer sets itself.
const MEMBER = [
  'access_level',
  'source_type',
  'user_id',
  'notification_level',
  'created_at',
  'updated_at',
  'created_by_id',
  'invite_email',
  'invite_accepted_at',
  'requested_at',
  'expires_at',
  'ldap',
  'override',
  'user',
];
const STATUS = [
  'status',
  'finished_at',
  'created_at',
  'updated_at',
  'started_at',
  'coverage',
  'commit_id',
  'name',
  'options',
  'allow_failure',
  'stage_idx',
  'tag',
  'ref',
  'user_id',
  'type',
  'target_url',
  'description',
  'erased_at',
  'artifacts_expire_at',
  'environment',
  'yaml_variables',
  'queued_at',
  'lock_version',
  'coverage_regex',
  'retried',
  'protected',
  'failure_reason',
  'scheduled_at',
  'scheduling_type',
];
const EXTERNAL_PULL_REQUEST = [
  'created_at',
  'updated_at',
  'pull_request_iid',
  'status',
  'source_branch',
  'target_branch',
  'source_repository',
  'target_repository',
  'source_sha',
  'target_sha',
];
const ALLOWED: Record<string, string[]> = {
  members: MEMBER,
  project_members: MEMBER,
  user: ['id', 'public_email', 'username'],
  user_contributions: ['id', 'public_email', 'username', 'name'],
  namespace_settings: ['prevent_sharing_groups_outside_hierarchy'],
  snippets: [
    'title',
    'content',
    'author_id',
    'created_at',
    'updated_at',
    'file_name',
    'visibility_level',
    'description',
    'notes',
    'award_emoji',
  ],
  protected_tags: ['name', 'created_at', 'updated_at', 'create_access_levels'],
  create_access_levels: ['access_level', 'created_at', 'updated_at', 'user_id', 'group_id'],
  ci_pipelines: [
    'ref',
    'sha',
    'before_sha',
    'created_at',
    'updated_at',
    'tag',
    'yaml_errors',
    'committed_at',
    'status',
    'started_at',
    'finished_at',
    'duration',
    'user_id',
    'lock_version',
    'source',
    'protected',
    'config_source',
    'failure_reason',
    'iid',
    'source_sha',
    'target_sha',
    'stages',
    'external_pull_request',
    'merge_request',
    'pipeline_metadata',
  ],
  stages: [
    'name',
    'status',
    'position',
    'lock_version',
    'created_at',
    'updated_at',
    'builds',
    'generic_commit_statuses',
    'bridges',
  ],
  builds: STATUS,
  bridges: STATUS,
  generic_commit_statuses: STATUS,
  pipeline_metadata: ['name'],
  external_pull_request: EXTERNAL_PULL_REQUEST,
  external_pull_requests: EXTERNAL_PULL_REQUEST,
  pipeline_schedules: [
    'active',
    'created_at',
    'cron',
    'cron_timezone',
    'description',
    'next_run_at',
    'ref',
    'updated_at',
    'owner_id',
  ],
  auto_devops: ['created_at', 'deploy_strategy', 'enabled', 'updated_at'],
  container_expiration_policy: [
    'created_at',
    'updated_at',
    'next_run_at',
    'name_regex',
    'cadence',
    'older_than',
    'keep_n',
    'enabled',
    'name_regex_keep',
  ],
  custom_attributes: ['created_at', 'updated_at', 'key', 'value'],
  project_badges: ['created_at', 'image_url', 'link_url', 'name', 'updated_at', 'type'],
  ci_cd_settings: ['group_runners_enabled', 'runner_token_expiration_interval', 'default_git_depth'],
  error_tracking_setting: ['api_url', 'organization_name', 'project_name'],
  service_desk_setting: ['issue_template_key', 'project_key'],
};

// Columns GitLab keeps out of every export (tokens, encrypted values, excluded names) and ids of the source rows.
const FORBIDDEN_KEYS = [
  'email',
  'secret',
  'encrypted_secret_token',
  'token_encrypted',
  'runner_id',
  'encrypted_token',
  'encrypted_token_iv',
  'outgoing_name',
  'default_branch_name',
  'forward_deployment_enabled',
  'project_id',
  'pipeline_id',
  'stage_id',
  'merge_request_id',
  'external_pull_request_id',
];

// Gitlab::ImportExport::Base::RelationFactory::USER_REFERENCES: the attributes that name a user.
const USER_REFERENCES = new Set([
  'author_id',
  'assignee_id',
  'updated_by_id',
  'merged_by_id',
  'latest_closed_by_id',
  'user_id',
  'created_by_id',
  'last_edited_by_id',
  'merge_user_id',
  'resolved_by_id',
  'closed_by_id',
  'owner_id',
]);

/** Every object in a parsed record, with the key it sits under (the record itself under its relation). */
function* objectsIn(value: unknown, key: string): Generator<[string, Json]> {
  if (Array.isArray(value)) {
    for (const v of value) yield* objectsIn(v, key);
  } else if (value !== null && typeof value === 'object') {
    yield [key, value as Json];
    for (const [k, v] of Object.entries(value as Json)) yield* objectsIn(v, k);
  }
}

describe('relations beyond the first thirteen (members, user contributions, CI, snippets, settings)', () => {
  let tw: TestWorker;
  let s3: S3Client;
  /** portable ("group_15") -> relation -> records, every batch read. */
  const exported = new Map<string, Map<string, Json[]>>();
  /** Every object's decompressed text, for the search for secrets. */
  const texts: string[] = [];
  let exportId = 0;
  let soloUsers: { id: number; username: string }[] = [];

  const records = (type: PortableType, id: number, relation: string): Json[] =>
    exported.get(`${type}_${id}`)?.get(relation) ?? [];

  beforeAll(async () => {
    // Batches of two, so the relations with more records are cut into several objects; the workflow waits out
    // the credential purge before it completes.
    tw = await startTestWorker('relations-content', { EXPORT_BATCH_SIZE: 2, EXPORT_CREDENTIALS_PURGE_DELAY_MS: 1_000 });
    s3 = createStackS3Client(tw.config);
    const { sql, config } = { sql: tw.deps.sql, config: tw.config };
    // grace asks for access to flightjs: an access request is no member, and is not exported.
    await sql`
      insert into members (user_id, source_id, source_type, access_level, requested_at)
      values (${GRACE}, ${FLIGHTJS}, 'Namespace', 10, now())`;
    // Three users each referred to once, deep in one project's records (every seeded user appears in nearly every
    // project): the author of a snippet note, the user of one job, a user allowed to create protected tags.
    soloUsers = await sql<{ id: number; username: string }[]>`
      insert into users (username, name, email)
      select u, initcap(u), u || '@example.test' from unnest(array['solo-note', 'solo-job', 'solo-tag']) u
      returning id, username`;
    const solo = (name: string) => soloUsers.find((u) => u.username === name)!.id;
    await sql`
      insert into notes (note, noteable_type, noteable_id, project_id, author_id)
      select 'A note of its own', 'Snippet', min(id), 30, ${solo('solo-note')} from snippets where project_id = 30`;
    await sql`update ci_builds set user_id = ${solo('solo-job')} where id = (select max(id) from ci_builds where project_id = 30)`;
    await sql`
      insert into protected_tag_create_access_levels (protected_tag_id, access_level, user_id)
      select id, null, ${solo('solo-tag')} from protected_tags where project_id = 12`;
    const created = await insertExport(sql, config, ALICE.id, PATHS);
    exportId = created.exportId;
    const result = await tw.run(async () => {
      const handle = await tw.client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
        workflowId: offlineExportWorkflowId(exportId),
        taskQueue: tw.taskQueue,
        args: [{ exportId }],
      });
      return (await handle.result()) as OfflineExportResult;
    });
    expect(result).toMatchObject({ status: 'finished', hasFailures: false });
    for (const key of await listKeys(s3, config.S3_BUCKET, created.exportPrefix)) {
      const [, portable, file] = key.split('/');
      // metadata.json.gz sits above the portables; file relations (archives) are other tests' business.
      if (!portable || !file || !/\.(nd)?json\.gz$/.test(key)) continue;
      const relation = file.replace(/\..*$/, '');
      const body = await getObject(s3, config.S3_BUCKET, key);
      texts.push(gunzipSync(body).toString('utf8'));
      const byRelation = exported.get(portable) ?? new Map<string, Json[]>();
      exported.set(portable, byRelation);
      byRelation.set(relation, [...(byRelation.get(relation) ?? []), ...(parseGzipLines(body) as Json[])]);
    }
  }, 300_000);
  afterAll(async () => {
    if (tw) {
      await tw.deps.sql`delete from members where user_id = ${GRACE} and requested_at is not null`;
      await tw.deps
        .sql`delete from notes where author_id = any(${tw.deps.sql.array(soloUsers.map((u) => u.id))}::bigint[])`;
      await tw.deps.sql`delete from users where id = any(${tw.deps.sql.array(soloUsers.map((u) => u.id))}::bigint[])`;
    }
    s3?.destroy();
    await tw?.close();
  });

  const portables = async () =>
    tw.deps.sql<{ group_id: number | null; project_id: number | null }[]>`
      select group_id, project_id from bulk_import_exports where offline_export_id = ${exportId} and relation = 'self'
      order by group_id, project_id`;

  it('finishes every new relation of every portable, with the records the bucket holds', async () => {
    const rows = await tw.deps.sql<
      { group_id: number | null; project_id: number | null; relation: string; status: number; total: number }[]
    >`
      select group_id, project_id, relation, status, total_objects_count as total
      from bulk_import_exports where offline_export_id = ${exportId}`;
    expect(rows.filter((r) => r.relation === 'self')).toHaveLength(3 + 7);
    const counted = rows
      .filter((r) => NEW_RELATIONS.includes(r.relation))
      .map((r) => {
        const [type, id] =
          r.group_id !== null ? (['group', r.group_id] as const) : (['project', r.project_id!] as const);
        return { type, id, relation: r.relation, status: r.status, records: r.total };
      });
    expect(counted).toHaveLength(3 * 3 + 7 * 15 + 3); // and the groups' boards, which share a name
    expect(counted).toEqual(
      counted.map((c) => ({
        ...c,
        status: RelationStatus.FINISHED,
        records: records(c.type, c.id, c.relation).length,
      })),
    );
  });

  it('writes only allow-listed attributes, at every depth', () => {
    let checked = 0;
    const violations: unknown[] = [];
    for (const byRelation of exported.values()) {
      for (const [relation, recs] of byRelation) {
        for (const rec of recs) {
          for (const [key, obj] of objectsIn(rec, relation)) {
            const forbidden = FORBIDDEN_KEYS.filter((k) => k in obj);
            if (forbidden.length) violations.push({ key, forbidden });
            const allowed = ALLOWED[key];
            if (!allowed) continue;
            const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
            if (extra.length) violations.push({ key, extra });
            checked++;
          }
        }
      }
    }
    expect(violations).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  it('leaves every secret and email of the source out of every object', async () => {
    const secrets = await tw.deps.sql<{ v: string }[]>`
      select encrypted_secret_token as v from snippets where encrypted_secret_token is not null
      union all select token_encrypted from ci_builds where token_encrypted is not null
      union all select encrypted_token from project_error_tracking_settings
      union all select outgoing_name from service_desk_settings
      union all select email from users`;
    expect(secrets.length).toBeGreaterThan(50);
    const all = texts.join('\n');
    expect(secrets.map((s) => s.v).filter((v) => all.includes(v))).toEqual([]);
  });

  it('exports group members and project members with their users, and no access request', async () => {
    for (const p of await portables()) {
      const [type, id, relation, sourceType] = p.group_id
        ? (['group', p.group_id, 'members', 'Namespace'] as const)
        : (['project', p.project_id!, 'project_members', 'Project'] as const);
      const db = await tw.deps.sql<
        { user_id: number; access_level: number; public_email: string | null; username: string }[]
      >`
        select m.user_id, m.access_level, u.public_email, u.username from members m join users u on u.id = m.user_id
        where m.source_type = ${sourceType} and m.source_id = ${id} and m.requested_at is null
        order by m.id`;
      const got = records(type, id, relation).map((m) => ({
        user_id: m.user_id,
        access_level: m.access_level,
        public_email: (m.user as Json).public_email,
        username: (m.user as Json).username,
        userId: (m.user as Json).id,
      }));
      expect(got).toEqual(db.map((d) => ({ ...d, userId: d.user_id })));
      expect(got.length).toBeGreaterThan(0);
    }
    // The root group's members are the seed's well-known users at their levels (other test files of the run add
    // users of their own, with ids far above the seed's, to the shared instance: the loop above checks those).
    const seedUser = (id: unknown) => typeof id === 'number' && id <= 8;
    expect(
      records('group', FLIGHTJS, 'members')
        .filter((m) => seedUser(m.user_id))
        .map((m) => [m.user_id, m.access_level]),
    ).toEqual([
      [2, 50],
      [3, 40],
      [4, 30],
      [5, 20],
      [6, 10],
      [7, 50],
    ]);
  });

  it('writes user_contributions: exactly the users the exported records refer to, at any depth', async () => {
    for (const p of await portables()) {
      const [type, id] = p.group_id ? (['group', p.group_id] as const) : (['project', p.project_id!] as const);
      const referenced = new Set<number>();
      for (const [relation, recs] of exported.get(`${type}_${id}`)!) {
        if (relation === 'user_contributions') continue;
        for (const rec of recs)
          for (const [, obj] of objectsIn(rec, relation))
            for (const [k, v] of Object.entries(obj))
              if (USER_REFERENCES.has(k) && typeof v === 'number') referenced.add(v);
      }
      const contributions = records(type, id, 'user_contributions');
      expect([type, id, contributions.map((u) => u.id)]).toEqual([type, id, [...referenced].sort((a, b) => a - b)]);
      const users = await tw.deps.sql<{ id: number; public_email: string | null; username: string; name: string }[]>`
        select id, public_email, username, name from users where id = any(${tw.deps.sql.array([...referenced])}::bigint[]) order by id`;
      expect(contributions).toEqual(users);
    }
    // The users referred to once are in their project's contributions and nowhere else; grace, who only asked for
    // access to flightjs, is in none of flightjs's.
    const holding = (userId: number) =>
      [...exported.entries()]
        .filter(([, byRelation]) => (byRelation.get('user_contributions') ?? []).some((u) => u.id === userId))
        .map(([portable]) => portable);
    expect(soloUsers.map((u) => [u.username, holding(u.id)])).toEqual([
      ['solo-note', ['project_30']],
      ['solo-job', ['project_30']],
      ['solo-tag', ['project_12']],
    ]);
    expect(
      records('group', FLIGHTJS, 'user_contributions')
        .map((u) => u.id)
        .filter((id) => typeof id === 'number' && id <= 8),
    ).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('nests pipelines as GitLab: stages, their jobs by type, the merge request, external pull request, metadata', async () => {
    const projects = (await portables()).filter((p) => p.project_id).map((p) => p.project_id!);
    for (const projectId of projects) {
      const pipelines = records('project', projectId, 'ci_pipelines');
      const [db] = await tw.deps.sql<{ pipelines: number; stages: number; builds: number; bridges: number }[]>`
        select (select count(*) from ci_pipelines where project_id = ${projectId})::int as pipelines,
               (select count(*) from ci_stages where project_id = ${projectId})::int as stages,
               (select count(*) from ci_builds where project_id = ${projectId} and type = 'Ci::Build')::int as builds,
               (select count(*) from ci_builds where project_id = ${projectId} and type = 'Ci::Bridge')::int as bridges`;
      const stages = pipelines.flatMap((p) => p.stages as Json[]);
      expect({
        pipelines: pipelines.length,
        stages: stages.length,
        builds: stages.flatMap((s) => s.builds as Json[]).length,
        bridges: stages.flatMap((s) => s.bridges as Json[]).length,
      }).toEqual(db);
      expect(pipelines.map((p) => p.iid)).toEqual([1, 2, 3]);
      expect(stages.map((s) => s.name)).toEqual(['build', 'test', 'build', 'test', 'build', 'test']);
      expect((stages[0]!.builds as Json[]).map((b) => [b.name, b.type, b.status])).toEqual([
        ['build:1', 'Ci::Build', 'success'],
        ['build:2', 'Ci::Build', 'success'],
      ]);
      expect((stages[1]!.bridges as Json[]).map((b) => [b.name, b.type])).toEqual([['test:2', 'Ci::Bridge']]);
      expect(pipelines[0]).toMatchObject({ source: 'push', status: 'success', pipeline_metadata: { name: 'Build 1' } });
      // The third pipeline runs for the project's first merge request, which it nests.
      const [mr] = await tw.deps.sql<{ title: string }[]>`
        select title from merge_requests where target_project_id = ${projectId} and iid = 1`;
      expect(pipelines[2]).toMatchObject({
        source: 'merge_request_event',
        ref: 'refs/merge-requests/1/head',
        merge_request: { iid: 1, title: mr!.title },
      });
    }
    // Project 30 mirrors an external pull request: the relation and the web pipeline that nests it.
    expect(records('project', 30, 'external_pull_requests')).toEqual([
      expect.objectContaining({ pull_request_iid: 1, status: 'open', source_branch: 'feature/mirror' }),
    ]);
    expect(records('project', 30, 'ci_pipelines')[1]).toMatchObject({
      source: 'web',
      external_pull_request: { pull_request_iid: 1, status: 'open' },
    });
  });

  it('exports snippets with their notes, protected tags with their access levels, boards and the settings', () => {
    // Project 30: two snippets (the second secret), each with a note and its author's name.
    const snippets = records('project', 30, 'snippets');
    expect(snippets.map((s) => s.file_name)).toEqual(['run-1.sh', 'run-2.sh']);
    const note = (text?: string, author?: string): unknown =>
      expect.objectContaining({
        note: text ?? expect.any(String),
        noteable_type: 'Snippet',
        author: { name: author ?? expect.any(String) },
      });
    // The first also has the note this file added, by solo-note.
    expect(snippets.map((s) => s.notes)).toEqual([[note(), note('A note of its own', 'Solo-Note')], [note()]]);
    expect(records('project', 30, 'protected_tags')).toEqual([
      expect.objectContaining({
        name: 'v*',
        create_access_levels: [
          expect.objectContaining({ access_level: 40, user_id: null }),
          expect.objectContaining({ access_level: null, user_id: 2 }),
        ],
      }),
    ]);
    const [board] = records('project', 30, 'boards');
    expect((board!.lists as Json[]).map((l) => l.list_type)).toEqual(['backlog', 'closed', 'label']);
    expect((board!.lists as Json[])[2]!.label).toMatchObject({ title: 'bug', priorities: [{ priority: 1 }] });
    expect(records('group', 15, 'namespace_settings')).toEqual([{ prevent_sharing_groups_outside_hierarchy: false }]);
    expect(records('group', 18, 'namespace_settings')).toEqual([{ prevent_sharing_groups_outside_hierarchy: true }]);
    // has_one settings: one line when the project has the row, none when it has not (project 18 has no service
    // desk; project 60 has every setting).
    expect(records('project', 18, 'service_desk_setting')).toEqual([]);
    for (const relation of ['auto_devops', 'service_desk_setting', 'error_tracking_setting'])
      expect([relation, records('project', 60, relation).length]).toEqual([relation, 1]);
    expect(records('project', 60, 'auto_devops')).toEqual([expect.objectContaining({ deploy_strategy: 'continuous' })]);
    expect(records('project', 60, 'service_desk_setting')).toEqual([
      { issue_template_key: 'support', project_key: 'desk60' },
    ]);
    expect(records('project', 60, 'custom_attributes').map((a) => [a.key, a.value])).toEqual([
      ['team', 'team-60'],
      ['tier', 'tier-60'],
    ]);
    expect(records('project', 60, 'project_badges')).toEqual([
      expect.objectContaining({ name: 'Coverage', type: 'ProjectBadge' }),
    ]);
    expect(records('project', 60, 'ci_cd_settings')).toHaveLength(1);
    expect(records('project', 60, 'container_expiration_policy')).toHaveLength(1);
    expect(records('project', 60, 'pipeline_schedules')).toEqual([
      expect.objectContaining({ cron: '0 2 * * *', owner_id: 1 }),
    ]);
  });
});
