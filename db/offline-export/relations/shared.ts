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

/** Notes of an issue or merge request, with the author's name (notes -> author in import_export.yml). */
export const notesJson = (sql: Db, noteableType: 'Issue' | 'MergeRequest', idColumn: string) => sql`
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
