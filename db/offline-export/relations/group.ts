import { boardJson, inRange, labelJson, milestoneAttributesJson } from './shared';
import { groupMembers, groupUserContributions } from './members';
import type { RelationSource } from './types';

// Group relations (lib/gitlab/import_export/group/import_export.yml, FOSS part). Attributes are allow-listed here;
// ids of the source instance are not exported except as references GitLab also keeps (author ids and the like).

const self: RelationSource = {
  portable: 'group',
  relation: 'self',
  batched: false,
  // GitLab excludes owner_id, timestamps, runner tokens and limits from the group; the rest of our columns stay.
  lines: (sql, groupId) => sql`
    select json_build_object(
      'name', g.name, 'path', g.path, 'description', g.description, 'visibility_level', g.visibility_level)::text as line
    from namespaces g where g.id = ${groupId}`,
};

const labels: RelationSource = {
  portable: 'group',
  relation: 'labels',
  batched: true,
  ids: (sql, groupId) => sql`select id from labels where group_id = ${groupId}`,
  lines: (sql, groupId, range) => sql`
    select ${labelJson(sql, 'l')}::text as line, l.id
    from labels l where l.group_id = ${groupId} ${inRange(sql, 'l.id', range)} order by l.id`,
};

const milestones: RelationSource = {
  portable: 'group',
  relation: 'milestones',
  batched: true,
  ids: (sql, groupId) => sql`select id from milestones where group_id = ${groupId}`,
  lines: (sql, groupId, range) => sql`
    select ${milestoneAttributesJson(sql, 'm')}::text as line, m.id
    from milestones m where m.group_id = ${groupId} ${inRange(sql, 'm.id', range)} order by m.id`,
};

const badges: RelationSource = {
  portable: 'group',
  relation: 'badges',
  batched: true,
  ids: (sql, groupId) => sql`select id from badges where group_id = ${groupId}`,
  lines: (sql, groupId, range) => sql`
    select json_build_object(
      'name', b.name, 'link_url', b.link_url, 'image_url', b.image_url, 'type', b.type,
      'created_at', b.created_at, 'updated_at', b.updated_at)::text as line, b.id
    from badges b where b.group_id = ${groupId} ${inRange(sql, 'b.id', range)} order by b.id`,
};

/** boards -> lists -> label. */
const boards: RelationSource = {
  portable: 'group',
  relation: 'boards',
  batched: true,
  ids: (sql, groupId) => sql`select id from boards where group_id = ${groupId}`,
  lines: (sql, groupId, range) => sql`
    select ${boardJson(sql, false)}::text as line, b.id
    from boards b where b.group_id = ${groupId} ${inRange(sql, 'b.id', range)} order by b.id`,
};

/** has_one: the one setting GitLab exports. */
const namespaceSettings: RelationSource = {
  portable: 'group',
  relation: 'namespace_settings',
  batched: false,
  lines: (sql, groupId) => sql`
    select json_build_object(
      'prevent_sharing_groups_outside_hierarchy', s.prevent_sharing_groups_outside_hierarchy)::text as line
    from namespace_settings s where s.namespace_id = ${groupId}`,
};

export const GROUP_RELATIONS: RelationSource[] = [
  self,
  labels,
  milestones,
  badges,
  boards,
  groupMembers,
  namespaceSettings,
  groupUserContributions,
];
