import { inRange } from './shared';
import type { Db } from '../../sql';
import type { PortableKey, RelationSource } from './types';

// Members of a group (`members`) and of a project (`project_members`), each with its user (members -> user), and
// the users every exported record refers to (`user_contributions`). A member's attributes are project_members'
// allow-list in import_export.yml; the group file names no list for members, so the same one serves groups rather
// than every column of the table. A user is its id, public_email and username only: never its email.

/** One member (alias `m`) with its user. Access requests (requested_at set) are not members. */
const memberJson = (sql: Db) => sql`
  json_build_object(
    'access_level', m.access_level, 'source_type', m.source_type, 'user_id', m.user_id,
    'notification_level', m.notification_level, 'created_at', m.created_at, 'updated_at', m.updated_at,
    'created_by_id', m.created_by_id, 'invite_email', m.invite_email, 'invite_accepted_at', m.invite_accepted_at,
    'requested_at', m.requested_at, 'expires_at', m.expires_at, 'ldap', m.ldap, 'override', m.override,
    'user', (select json_build_object('id', u.id, 'public_email', u.public_email, 'username', u.username)
             from users u where u.id = m.user_id))`;

const membersOf = (portable: 'group' | 'project', relation: string, sourceType: 'Namespace' | 'Project') =>
  ({
    portable,
    relation,
    batched: true,
    ids: (sql, id) => sql`
      select id from members where source_type = ${sourceType} and source_id = ${id} and requested_at is null`,
    lines: (sql, id, range) => sql`
      select ${memberJson(sql)}::text as line, m.id
      from members m
      where m.source_type = ${sourceType} and m.source_id = ${id} and m.requested_at is null
        ${inRange(sql, 'm.id', range)}
      order by m.id`,
  }) satisfies RelationSource;

export const groupMembers: RelationSource = membersOf('group', 'members', 'Namespace');
export const projectMembers: RelationSource = membersOf('project', 'project_members', 'Project');

/**
 * The ids of every user a group's exported records refer to: its members (user_id, created_by_id). Labels,
 * milestones, badges, boards and settings refer to no user.
 */
const groupUserIds = (sql: Db, groupId: PortableKey) => sql`
  select m.user_id from members m
  where m.source_type = 'Namespace' and m.source_id = ${groupId} and m.requested_at is null
  union select m.created_by_id from members m
  where m.source_type = 'Namespace' and m.source_id = ${groupId} and m.requested_at is null`;

/**
 * The ids of every user a project's exported records refer to, top-level and nested: authors of issues, merge
 * requests, releases, snippets and their notes; assignees and reviewers; members and who added them; pipeline and
 * job users; schedule owners; users allowed to create protected tags.
 */
const projectUserIds = (sql: Db, projectId: PortableKey) => sql`
  select i.author_id from issues i where i.project_id = ${projectId}
  union select a.user_id from issue_assignees a join issues i on i.id = a.issue_id where i.project_id = ${projectId}
  union select n.author_id from issues i join notes n on n.noteable_id = i.id and n.noteable_type = 'Issue'
    where i.project_id = ${projectId}
  union select mr.author_id from merge_requests mr where mr.target_project_id = ${projectId}
  union select a.user_id from merge_request_assignees a join merge_requests mr on mr.id = a.merge_request_id
    where mr.target_project_id = ${projectId}
  union select r.user_id from merge_request_reviewers r join merge_requests mr on mr.id = r.merge_request_id
    where mr.target_project_id = ${projectId}
  union select n.author_id from merge_requests mr join notes n on n.noteable_id = mr.id and n.noteable_type = 'MergeRequest'
    where mr.target_project_id = ${projectId}
  union select r.author_id from releases r where r.project_id = ${projectId}
  union select s.author_id from snippets s where s.project_id = ${projectId}
  union select n.author_id from snippets s join notes n on n.noteable_id = s.id and n.noteable_type = 'Snippet'
    where s.project_id = ${projectId}
  union select m.user_id from members m
    where m.source_type = 'Project' and m.source_id = ${projectId} and m.requested_at is null
  union select m.created_by_id from members m
    where m.source_type = 'Project' and m.source_id = ${projectId} and m.requested_at is null
  union select c.user_id from ci_pipelines c where c.project_id = ${projectId}
  union select j.user_id from ci_pipelines c join ci_stages st on st.pipeline_id = c.id join ci_builds j on j.stage_id = st.id
    where c.project_id = ${projectId}
  union select s.owner_id from ci_pipeline_schedules s where s.project_id = ${projectId}
  union select a.user_id from protected_tags t join protected_tag_create_access_levels a on a.protected_tag_id = t.id
    where t.project_id = ${projectId}`;

const userContributions = (portable: 'group' | 'project', userIds: typeof groupUserIds) =>
  ({
    portable,
    relation: 'user_contributions',
    // One file, like GitLab's (user_contributions is no association, so never batched).
    batched: false,
    lines: (sql, id) => sql`
      select json_build_object('id', u.id, 'public_email', u.public_email, 'username', u.username, 'name', u.name)::text
               as line
      from users u where u.id in (${userIds(sql, id)}) order by u.id`,
  }) satisfies RelationSource;

export const groupUserContributions: RelationSource = userContributions('group', groupUserIds);
export const projectUserContributions: RelationSource = userContributions('project', projectUserIds);
