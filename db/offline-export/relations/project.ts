import { ciPipelines, externalPullRequests, pipelineSchedules } from './ci';
import { projectMembers, projectUserContributions } from './members';
import { PROJECT_SETTINGS_RELATIONS } from './project-settings';
import {
  boardJson,
  inRange,
  labelJson,
  labelLinksJson,
  mergeRequestAttributes,
  milestoneAttributesJson,
  milestoneJson,
  notesJson,
} from './shared';
import type { Db } from '../../sql';
import type { LineQuery, RelationSource } from './types';

// Project relations (lib/gitlab/import_export/project/import_export.yml), allow-listed attributes and nested
// sub-relations. Records are ordered by id, not by GitLab's relative_position for issues: batches are id ranges
// fixed when the export starts, so a retried batch re-reads exactly its rows even if positions moved meanwhile;
// the importer orders by the relative_position each record carries.

const self: RelationSource = {
  portable: 'project',
  relation: 'self',
  batched: false,
  lines: (sql, projectId) => sql`
    select json_build_object(
      'name', p.name, 'path', p.path, 'description', p.description, 'visibility_level', p.visibility_level,
      'archived', p.archived, 'default_branch', p.default_branch, 'created_at', p.created_at)::text as line
    from projects p where p.id = ${projectId}`,
};

/** labels -> priorities */
const labels: RelationSource = {
  portable: 'project',
  relation: 'labels',
  batched: true,
  ids: (sql, projectId) => sql`select id from labels where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select (${labelJson(sql, 'l')}::jsonb || jsonb_build_object('priorities', coalesce((
      select jsonb_agg(jsonb_build_object('priority', lp.priority, 'created_at', lp.created_at, 'updated_at', lp.updated_at)
                       order by lp.id)
      from label_priorities lp where lp.label_id = l.id and lp.project_id = l.project_id), '[]'::jsonb)))::text as line, l.id
    from labels l where l.project_id = ${projectId} ${inRange(sql, 'l.id', range)} order by l.id`,
};

const milestones: RelationSource = {
  portable: 'project',
  relation: 'milestones',
  batched: true,
  ids: (sql, projectId) => sql`select id from milestones where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select ${milestoneAttributesJson(sql, 'm')}::text as line, m.id
    from milestones m where m.project_id = ${projectId} ${inRange(sql, 'm.id', range)} order by m.id`,
};

/** One issue (alias `i`) as GitLab exports it; shared by the relation and the benchmark's instance-wide query. */
const issueJson = (sql: Db) => sql`
    json_build_object(
      'iid', i.iid, 'title', i.title, 'author_id', i.author_id, 'description', i.description,
      'state', case i.state_id when 1 then 'opened' when 2 then 'closed' else i.state_id::text end,
      'confidential', i.confidential, 'due_date', i.due_date, 'weight', i.weight,
      'relative_position', i.relative_position, 'time_estimate', i.time_estimate,
      'discussion_locked', i.discussion_locked, 'closed_at', i.closed_at,
      'created_at', i.created_at, 'updated_at', i.updated_at,
      'milestone', ${milestoneJson(sql, 'i.milestone_id')},
      'notes', ${notesJson(sql, 'Issue', 'i.id')},
      'label_links', ${labelLinksJson(sql, 'Issue', 'i.id')},
      'issue_assignees', coalesce((
        select json_agg(json_build_object('user_id', ia.user_id) order by ia.user_id)
        from issue_assignees ia where ia.issue_id = i.id), '[]'::json))`;

/**
 * Every issue of the instance as the issues relation exports it, in id order: the benchmark's "practical limit"
 * (psql COPY of the same JSON through gzip) runs this text.
 */
export const instanceIssueLines = (sql: Db): LineQuery =>
  sql`select ${issueJson(sql)}::text as line from issues i order by i.id`;

/** issues -> notes (-> author), label_links (-> label), issue_assignees, milestone; state from state_id. */
const issues: RelationSource = {
  portable: 'project',
  relation: 'issues',
  batched: true,
  ids: (sql, projectId) => sql`select id from issues where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select ${issueJson(sql)}::text as line, i.id
    from issues i where i.project_id = ${projectId} ${inRange(sql, 'i.id', range)} order by i.id`,
};

/** merge_requests -> notes, merge_request_assignees, merge_request_reviewers, label_links, milestone. */
const mergeRequests: RelationSource = {
  portable: 'project',
  relation: 'merge_requests',
  batched: true,
  ids: (sql, projectId) => sql`select id from merge_requests where target_project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select json_build_object(
      ${mergeRequestAttributes(sql)},
      'metrics', json_build_object('merged_at', mr.merged_at),
      'milestone', ${milestoneJson(sql, 'mr.milestone_id')},
      'notes', ${notesJson(sql, 'MergeRequest', 'mr.id')},
      'label_links', ${labelLinksJson(sql, 'MergeRequest', 'mr.id')},
      'merge_request_assignees', coalesce((
        select json_agg(json_build_object('user_id', a.user_id, 'created_at', a.created_at) order by a.id)
        from merge_request_assignees a where a.merge_request_id = mr.id), '[]'::json),
      'merge_request_reviewers', coalesce((
        select json_agg(json_build_object(
          'user_id', r.user_id, 'created_at', r.created_at,
          'state', case r.state when 0 then 'unreviewed' when 1 then 'reviewed' when 2 then 'requested_changes'
                     when 3 then 'approved' else r.state::text end) order by r.id)
        from merge_request_reviewers r where r.merge_request_id = mr.id), '[]'::json))::text as line, mr.id
    from merge_requests mr
    where mr.target_project_id = ${projectId} ${inRange(sql, 'mr.id', range)} order by mr.id`,
};

/** releases -> links (link_type as Releases::Link's enum names). */
const releases: RelationSource = {
  portable: 'project',
  relation: 'releases',
  batched: true,
  ids: (sql, projectId) => sql`select id from releases where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select json_build_object(
      'tag', r.tag, 'name', r.name, 'description', r.description, 'author_id', r.author_id,
      'released_at', r.released_at, 'created_at', r.created_at, 'updated_at', r.updated_at,
      'links', coalesce((
        select json_agg(json_build_object(
          'url', k.url, 'name', k.name, 'filepath', k.filepath,
          'link_type', case k.link_type when 0 then 'other' when 1 then 'runbook' when 2 then 'image'
                         when 3 then 'package' else k.link_type::text end,
          'created_at', k.created_at, 'updated_at', k.updated_at) order by k.id)
        from release_links k where k.release_id = r.id), '[]'::json))::text as line, r.id
    from releases r where r.project_id = ${projectId} ${inRange(sql, 'r.id', range)} order by r.id`,
};

/** protected_branches -> merge_access_levels, push_access_levels. */
const protectedBranches: RelationSource = {
  portable: 'project',
  relation: 'protected_branches',
  batched: true,
  ids: (sql, projectId) => sql`select id from protected_branches where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select json_build_object(
      'name', pb.name, 'allow_force_push', pb.allow_force_push,
      'code_owner_approval_required', pb.code_owner_approval_required,
      'created_at', pb.created_at, 'updated_at', pb.updated_at,
      'merge_access_levels', coalesce((
        select json_agg(json_build_object('access_level', a.access_level, 'created_at', a.created_at,
                                          'updated_at', a.updated_at) order by a.id)
        from protected_branch_merge_access_levels a where a.protected_branch_id = pb.id), '[]'::json),
      'push_access_levels', coalesce((
        select json_agg(json_build_object('access_level', a.access_level, 'created_at', a.created_at,
                                          'updated_at', a.updated_at) order by a.id)
        from protected_branch_push_access_levels a where a.protected_branch_id = pb.id), '[]'::json))::text as line, pb.id
    from protected_branches pb where pb.project_id = ${projectId} ${inRange(sql, 'pb.id', range)} order by pb.id`,
};

/** has_one: a single NDJSON line (or an empty file when the project has no feature row). */
const projectFeature: RelationSource = {
  portable: 'project',
  relation: 'project_feature',
  batched: false,
  lines: (sql, projectId) => sql`
    select json_build_object(
      'issues_access_level', f.issues_access_level, 'merge_requests_access_level', f.merge_requests_access_level,
      'wiki_access_level', f.wiki_access_level, 'builds_access_level', f.builds_access_level,
      'repository_access_level', f.repository_access_level, 'snippets_access_level', f.snippets_access_level,
      'pages_access_level', f.pages_access_level, 'created_at', f.created_at, 'updated_at', f.updated_at)::text as line
    from project_features f where f.project_id = ${projectId}`,
};

/** protected_tags -> create_access_levels. */
const protectedTags: RelationSource = {
  portable: 'project',
  relation: 'protected_tags',
  batched: true,
  ids: (sql, projectId) => sql`select id from protected_tags where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select json_build_object(
      'name', t.name, 'created_at', t.created_at, 'updated_at', t.updated_at,
      'create_access_levels', coalesce((
        select json_agg(json_build_object('access_level', a.access_level, 'created_at', a.created_at,
                                          'updated_at', a.updated_at, 'user_id', a.user_id, 'group_id', a.group_id)
                        order by a.id)
        from protected_tag_create_access_levels a where a.protected_tag_id = t.id), '[]'::json))::text as line, t.id
    from protected_tags t where t.project_id = ${projectId} ${inRange(sql, 't.id', range)} order by t.id`,
};

/** snippets -> notes (-> author); the snippet's content but not its repository, never its secret token. */
const snippets: RelationSource = {
  portable: 'project',
  relation: 'snippets',
  batched: true,
  ids: (sql, projectId) => sql`select id from snippets where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select json_build_object(
      'title', s.title, 'content', s.content, 'author_id', s.author_id, 'created_at', s.created_at,
      'updated_at', s.updated_at, 'file_name', s.file_name, 'visibility_level', s.visibility_level,
      'description', s.description,
      'notes', ${notesJson(sql, 'Snippet', 's.id')})::text as line, s.id
    from snippets s where s.project_id = ${projectId} ${inRange(sql, 's.id', range)} order by s.id`,
};

/** boards -> lists -> label -> priorities. */
const boards: RelationSource = {
  portable: 'project',
  relation: 'boards',
  batched: true,
  ids: (sql, projectId) => sql`select id from boards where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select ${boardJson(sql, true)}::text as line, b.id
    from boards b where b.project_id = ${projectId} ${inRange(sql, 'b.id', range)} order by b.id`,
};

export const PROJECT_RELATIONS: RelationSource[] = [
  self,
  labels,
  milestones,
  issues,
  mergeRequests,
  releases,
  protectedBranches,
  projectFeature,
  snippets,
  projectMembers,
  externalPullRequests,
  ciPipelines,
  pipelineSchedules,
  protectedTags,
  boards,
  projectUserContributions,
  ...PROJECT_SETTINGS_RELATIONS,
];
