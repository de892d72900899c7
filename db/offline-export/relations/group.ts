import { inRange, labelJson, milestoneAttributesJson } from './shared';
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

/** boards -> lists -> label; list_type as List's enum names. */
const boards: RelationSource = {
  portable: 'group',
  relation: 'boards',
  batched: true,
  ids: (sql, groupId) => sql`select id from boards where group_id = ${groupId}`,
  lines: (sql, groupId, range) => sql`
    select json_build_object(
      'name', b.name, 'hide_backlog_list', b.hide_backlog_list, 'hide_closed_list', b.hide_closed_list,
      'created_at', b.created_at, 'updated_at', b.updated_at,
      'lists', coalesce((
        select json_agg(json_build_object(
          'list_type', case li.list_type when 0 then 'backlog' when 1 then 'label' when 2 then 'closed' else li.list_type::text end,
          'position', li.position, 'created_at', li.created_at, 'updated_at', li.updated_at,
          'label', (select ${labelJson(sql, 'l')} from labels l where l.id = li.label_id)) order by li.id)
        from lists li where li.board_id = b.id), '[]'::json))::text as line, b.id
    from boards b where b.group_id = ${groupId} ${inRange(sql, 'b.id', range)} order by b.id`,
};

export const GROUP_RELATIONS: RelationSource[] = [self, labels, milestones, badges, boards];
