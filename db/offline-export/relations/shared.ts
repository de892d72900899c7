import type postgres from 'postgres';
import type { Db } from '../../sql';
import type { IdRange } from './types';

// Nested sub-relations shared by several relations, as correlated sub-selects: PostgreSQL aggregates each record's
// children with json_agg so one row comes back per exported record.

/** `and <col> between first and last` for a batch, nothing for a whole relation. */
export const inRange = (sql: Db, column: string, range?: IdRange): postgres.PendingQuery<postgres.Row[]> =>
  range ? sql`and ${sql(column)} between ${range.first} and ${range.last}` : sql``;

/** A label as GitLab nests it under label_links and board lists. */
export const labelJson = (sql: Db, alias: string) => sql`
  json_build_object(
    'title', ${sql(alias)}.title, 'color', ${sql(alias)}.color, 'description', ${sql(alias)}.description,
    'type', ${sql(alias)}.type, 'created_at', ${sql(alias)}.created_at, 'updated_at', ${sql(alias)}.updated_at)`;

/** A milestone's allow-listed attributes, the same for group and project milestones. */
export const milestoneAttributesJson = (sql: Db, alias: string) => sql`
  json_build_object(
    'iid', ${sql(alias)}.iid, 'title', ${sql(alias)}.title, 'description', ${sql(alias)}.description,
    'state', ${sql(alias)}.state, 'start_date', ${sql(alias)}.start_date, 'due_date', ${sql(alias)}.due_date,
    'created_at', ${sql(alias)}.created_at, 'updated_at', ${sql(alias)}.updated_at)`;

/** Notes of an issue, merge request or snippet, with the author's name (notes -> author in import_export.yml). */
export const notesJson = (sql: Db, noteableType: 'Issue' | 'MergeRequest' | 'Snippet', idColumn: string) => sql`
  coalesce((
    select json_agg(json_build_object(
      'note', n.note, 'noteable_type', n.noteable_type, 'author_id', n.author_id, 'system', n.system,
      'internal', n.internal, 'discussion_id', n.discussion_id, 'created_at', n.created_at, 'updated_at', n.updated_at,
      'author', json_build_object('name', u.name)) order by n.id)
    from notes n left join users u on u.id = n.author_id
    where n.noteable_id = ${sql(idColumn)} and n.noteable_type = ${noteableType}), '[]'::json)`;

/** Label links of an issue or merge request, each with its label. */
export const labelLinksJson = (sql: Db, targetType: 'Issue' | 'MergeRequest', idColumn: string) => sql`
  coalesce((
    select json_agg(json_build_object(
      'target_type', ll.target_type, 'created_at', ll.created_at, 'updated_at', ll.updated_at,
      'label', ${labelJson(sql, 'l')}) order by ll.id)
    from label_links ll join labels l on l.id = ll.label_id
    where ll.target_id = ${sql(idColumn)} and ll.target_type = ${targetType}), '[]'::json)`;

/** The milestone an issue or merge request belongs to, nested as an object (GitLab exports it, not the id). */
export const milestoneJson = (sql: Db, idColumn: string) => sql`
  (select json_build_object(
     'iid', m.iid, 'title', m.title, 'description', m.description, 'state', m.state, 'start_date', m.start_date,
     'due_date', m.due_date, 'created_at', m.created_at, 'updated_at', m.updated_at)
   from milestones m where m.id = ${sql(idColumn)})`;

/** A label with its priorities (label -> priorities in the project tree). */
export const labelWithPrioritiesJson = (sql: Db, alias: string) => sql`
  (${labelJson(sql, alias)}::jsonb || jsonb_build_object('priorities', coalesce((
    select jsonb_agg(jsonb_build_object('priority', lp.priority, 'created_at', lp.created_at, 'updated_at', lp.updated_at)
                     order by lp.id)
    from label_priorities lp where lp.label_id = ${sql(alias)}.id), '[]'::jsonb)))`;

/**
 * A board (alias `b`) with its lists, each with its label: boards -> lists -> label in both trees; the project tree
 * nests the label's priorities too. list_type as List's enum names.
 */
export const boardJson = (sql: Db, labelPriorities: boolean) => sql`
  json_build_object(
    'name', b.name, 'hide_backlog_list', b.hide_backlog_list, 'hide_closed_list', b.hide_closed_list,
    'created_at', b.created_at, 'updated_at', b.updated_at,
    'lists', coalesce((
      select json_agg(json_build_object(
        'list_type', case li.list_type when 0 then 'backlog' when 1 then 'label' when 2 then 'closed' else li.list_type::text end,
        'position', li.position, 'created_at', li.created_at, 'updated_at', li.updated_at,
        'label', (select ${labelPriorities ? labelWithPrioritiesJson(sql, 'l') : labelJson(sql, 'l')}
                  from labels l where l.id = li.label_id)) order by li.id)
      from lists li where li.board_id = b.id), '[]'::json))`;

/**
 * A merge request's own allow-listed attributes (alias `mr`) as json_build_object arguments: the merge_requests
 * relation adds its sub-relations after them, a merge request pipeline nests them alone.
 */
export const mergeRequestAttributes = (sql: Db) => sql`
  'iid', mr.iid, 'title', mr.title, 'author_id', mr.author_id, 'description', mr.description,
  'state', case mr.state_id when 1 then 'opened' when 2 then 'closed' when 3 then 'merged' when 4 then 'locked'
             else mr.state_id::text end,
  'source_branch', mr.source_branch, 'target_branch', mr.target_branch, 'merge_status', mr.merge_status,
  'draft', mr.draft, 'squash', mr.squash, 'created_at', mr.created_at, 'updated_at', mr.updated_at`;
