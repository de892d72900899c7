import { inRange } from './shared';
import type { Db } from '../../sql';
import type { LineQuery, PortableKey, RelationSource } from './types';

// A project's settings GitLab exports as has_one relations (one line, or an empty file when the project has no
// row), plus its custom attributes and badges. Attributes as import_export.yml's allow-lists: secrets such as the
// error tracking token and names GitLab excludes (the service desk's outgoing name) stay behind.

const hasOne = (relation: string, lines: (sql: Db, projectId: PortableKey) => LineQuery): RelationSource => ({
  portable: 'project',
  relation,
  batched: false,
  lines,
});

const ciCdSettings = hasOne(
  'ci_cd_settings',
  (sql, projectId) => sql`
    select json_build_object(
      'group_runners_enabled', s.group_runners_enabled,
      'runner_token_expiration_interval', s.runner_token_expiration_interval,
      'default_git_depth', s.default_git_depth)::text as line
    from project_ci_cd_settings s where s.project_id = ${projectId}`,
);

const containerExpirationPolicy = hasOne(
  'container_expiration_policy',
  (sql, projectId) => sql`
    select json_build_object(
      'created_at', c.created_at, 'updated_at', c.updated_at, 'next_run_at', c.next_run_at,
      'name_regex', c.name_regex, 'cadence', c.cadence, 'older_than', c.older_than, 'keep_n', c.keep_n,
      'enabled', c.enabled, 'name_regex_keep', c.name_regex_keep)::text as line
    from container_expiration_policies c where c.project_id = ${projectId}`,
);

/** deploy_strategy as ProjectAutoDevops's enum names. */
const autoDevops = hasOne(
  'auto_devops',
  (sql, projectId) => sql`
    select json_build_object(
      'created_at', a.created_at,
      'deploy_strategy', case a.deploy_strategy when 0 then 'continuous' when 1 then 'manual'
                           when 2 then 'timed_incremental' else a.deploy_strategy::text end,
      'enabled', a.enabled, 'updated_at', a.updated_at)::text as line
    from project_auto_devops a where a.project_id = ${projectId}`,
);

const serviceDeskSetting = hasOne(
  'service_desk_setting',
  (sql, projectId) => sql`
    select json_build_object('issue_template_key', s.issue_template_key, 'project_key', s.project_key)::text as line
    from service_desk_settings s where s.project_id = ${projectId}`,
);

const errorTrackingSetting = hasOne(
  'error_tracking_setting',
  (sql, projectId) => sql`
    select json_build_object(
      'api_url', s.api_url, 'organization_name', s.organization_name, 'project_name', s.project_name)::text as line
    from project_error_tracking_settings s where s.project_id = ${projectId}`,
);

const customAttributes: RelationSource = {
  portable: 'project',
  relation: 'custom_attributes',
  batched: true,
  ids: (sql, projectId) => sql`select id from project_custom_attributes where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select json_build_object(
      'created_at', a.created_at, 'updated_at', a.updated_at, 'key', a.key, 'value', a.value)::text as line, a.id
    from project_custom_attributes a where a.project_id = ${projectId} ${inRange(sql, 'a.id', range)} order by a.id`,
};

/** The project's own badges (type ProjectBadge; the group's are the group's relation). */
const projectBadges: RelationSource = {
  portable: 'project',
  relation: 'project_badges',
  batched: true,
  ids: (sql, projectId) => sql`select id from badges where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select json_build_object(
      'created_at', b.created_at, 'image_url', b.image_url, 'link_url', b.link_url, 'name', b.name,
      'updated_at', b.updated_at, 'type', b.type)::text as line, b.id
    from badges b where b.project_id = ${projectId} ${inRange(sql, 'b.id', range)} order by b.id`,
};

export const PROJECT_SETTINGS_RELATIONS: RelationSource[] = [
  autoDevops,
  containerExpirationPolicy,
  customAttributes,
  projectBadges,
  ciCdSettings,
  errorTrackingSetting,
  serviceDeskSetting,
];
