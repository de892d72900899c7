import { inRange } from './relations/shared';
import type { RelationSource } from './relations/types';

// File relations (GitLab's FileTransfer configs: group `uploads`; project `uploads`, `lfs_objects`, `repository`,
// `design`, and `wiki` as GitLab plans it for offline transfer). Each line describes one file or repository as JSON;
// the export activity's archiver for the relation reads it from storage into <relation>.tar.gz. `uploads` and
// `lfs_objects` are has_many associations, so batched like any collection (uploads/batch_<n>.tar.gz); the bundles
// are one object each.

/** A project's hashed storage path, computed as GitLab's Storage::Hashed does (uploads live under it too). */
const HASHED_PATH = `'@hashed/' || substr(h, 1, 2) || '/' || substr(h, 3, 2) || '/' || h`;

const projectUploads: RelationSource = {
  portable: 'project',
  relation: 'uploads',
  format: 'tar',
  batched: true,
  ids: (sql, projectId) => sql`select id from uploads where model_type = 'Project' and model_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select json_build_object(
      'id', u.id, 'path', u.path, 'secret', u.secret, 'uploader', u.uploader, 'size', u.size,
      'base', case u.uploader when 'FileUploader' then ${sql.unsafe(HASHED_PATH)} else '' end)::text as line, u.id
    from uploads u
    cross join lateral (select encode(sha256(convert_to(u.model_id::text, 'UTF8')), 'hex') as h) hashed
    where u.model_type = 'Project' and u.model_id = ${projectId} ${inRange(sql, 'u.id', range)} order by u.id`,
};

const groupUploads: RelationSource = {
  portable: 'group',
  relation: 'uploads',
  format: 'tar',
  batched: true,
  ids: (sql, groupId) => sql`select id from uploads where model_type = 'Namespace' and model_id = ${groupId}`,
  lines: (sql, groupId, range) => sql`
    select json_build_object(
      'id', u.id, 'path', u.path, 'secret', u.secret, 'uploader', u.uploader, 'size', u.size,
      'base', case u.uploader when 'NamespaceFileUploader' then '-/system/namespace/' || u.model_id else '' end
    )::text as line, u.id
    from uploads u
    where u.model_type = 'Namespace' and u.model_id = ${groupId} ${inRange(sql, 'u.id', range)} order by u.id`,
};

/** Each object once, with every repository type the project links it for (GitLab's lfs_objects.json). */
const lfsObjects: RelationSource = {
  portable: 'project',
  relation: 'lfs_objects',
  format: 'tar',
  batched: true,
  ids: (sql, projectId) =>
    sql`select distinct lfs_object_id as id from lfs_objects_projects where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select json_build_object('oid', o.oid, 'size', o.size,
             'repository_types', array_agg(distinct lop.repository_type))::text as line, o.id
    from lfs_objects o join lfs_objects_projects lop on lop.lfs_object_id = o.id
    where lop.project_id = ${projectId} ${inRange(sql, 'o.id', range)}
    group by o.id order by o.id`,
};

/** A repository of the project by its disk path (no line when the project has no repository row). */
const bundle = (relation: 'repository' | 'wiki' | 'design', suffix: string): RelationSource => ({
  portable: 'project',
  relation,
  format: 'tar',
  batched: false,
  lines: (sql, projectId) => sql`
    select json_build_object('disk_path', pr.disk_path || ${suffix})::text as line
    from project_repositories pr where pr.project_id = ${projectId}`,
});

export const GROUP_FILE_RELATIONS: RelationSource[] = [groupUploads];
export const PROJECT_FILE_RELATIONS: RelationSource[] = [
  projectUploads,
  lfsObjects,
  bundle('repository', ''),
  bundle('wiki', '.wiki'),
  bundle('design', '.design'),
];
