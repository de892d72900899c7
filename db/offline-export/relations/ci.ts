import { inRange, mergeRequestAttributes } from './shared';
import type { Db } from '../../sql';
import type { RelationSource } from './types';

// CI relations of a project: ci_pipelines -> stages -> builds, generic_commit_statuses, bridges (the jobs' metadata
// only: no artifacts, no traces, no tokens, no runner), external_pull_request, merge_request, pipeline_metadata;
// pipeline_schedules; external_pull_requests. Enum columns are written as their Rails enum names, as GitLab's
// serializer does.

/** An external pull request (alias `e`). status as ExternalPullRequest's enum (open 1, closed 2). */
const externalPullRequestJson = (sql: Db) => sql`
  json_build_object(
    'created_at', e.created_at, 'updated_at', e.updated_at, 'pull_request_iid', e.pull_request_iid,
    'status', case e.status when 1 then 'open' when 2 then 'closed' else e.status::text end,
    'source_branch', e.source_branch, 'target_branch', e.target_branch, 'source_repository', e.source_repository,
    'target_repository', e.target_repository, 'source_sha', e.source_sha, 'target_sha', e.target_sha)`;

/** Jobs of one type of a stage (alias `st`), with the statuses allow-list of import_export.yml. */
const jobsJson = (sql: Db, type: 'Ci::Build' | 'GenericCommitStatus' | 'Ci::Bridge') => sql`
  coalesce((
    select json_agg(json_build_object(
      'status', j.status, 'finished_at', j.finished_at, 'created_at', j.created_at, 'updated_at', j.updated_at,
      'started_at', j.started_at, 'coverage', j.coverage, 'name', j.name, 'options', j.options,
      'allow_failure', j.allow_failure, 'stage_idx', j.stage_idx, 'tag', j.tag, 'ref', j.ref, 'user_id', j.user_id,
      'type', j.type, 'target_url', j.target_url, 'description', j.description, 'erased_at', j.erased_at,
      'artifacts_expire_at', j.artifacts_expire_at, 'environment', j.environment, 'yaml_variables', j.yaml_variables,
      'queued_at', j.queued_at, 'lock_version', j.lock_version, 'coverage_regex', j.coverage_regex,
      'retried', j.retried, 'protected', j.protected,
      'failure_reason', case j.failure_reason when 0 then 'unknown_failure' when 1 then 'script_failure'
                          when 2 then 'api_failure' when 3 then 'stuck_or_timeout_failure'
                          when 4 then 'runner_system_failure' else j.failure_reason::text end,
      'scheduled_at', j.scheduled_at,
      'scheduling_type', case j.scheduling_type when 0 then 'stage' when 1 then 'dag' else j.scheduling_type::text end)
      order by j.id)
    from ci_builds j where j.stage_id = st.id and j.type = ${type}), '[]'::json)`;

/** One pipeline (alias `c`) with its nested records. */
const pipelineJson = (sql: Db) => sql`
  json_build_object(
    'ref', c.ref, 'sha', c.sha, 'before_sha', c.before_sha, 'created_at', c.created_at, 'updated_at', c.updated_at,
    'tag', c.tag, 'yaml_errors', c.yaml_errors, 'committed_at', c.committed_at, 'status', c.status,
    'started_at', c.started_at, 'finished_at', c.finished_at, 'duration', c.duration, 'user_id', c.user_id,
    'lock_version', c.lock_version,
    'source', case c.source when 1 then 'push' when 2 then 'web' when 3 then 'trigger' when 4 then 'schedule'
                when 5 then 'api' when 6 then 'external' when 7 then 'pipeline' when 8 then 'chat' when 9 then 'webide'
                when 10 then 'merge_request_event' when 11 then 'external_pull_request_event'
                when 12 then 'parent_pipeline' else c.source::text end,
    'protected', c.protected,
    'config_source', case c.config_source when 1 then 'repository_source' when 2 then 'auto_devops_source'
                       when 3 then 'webide_source' when 4 then 'remote_source' when 5 then 'external_project_source'
                       when 6 then 'bridge_source' when 7 then 'parameter_source' else c.config_source::text end,
    'failure_reason', case c.failure_reason when 0 then 'unknown_failure' when 1 then 'config_error'
                        when 2 then 'external_validation_failure' else c.failure_reason::text end,
    'iid', c.iid, 'source_sha', c.source_sha, 'target_sha', c.target_sha,
    'stages', coalesce((
      select json_agg(json_build_object(
        'name', st.name,
        'status', case st.status when 0 then 'created' when 1 then 'pending' when 2 then 'running' when 3 then 'success'
                    when 4 then 'failed' when 5 then 'canceled' when 6 then 'skipped' when 7 then 'manual'
                    when 8 then 'scheduled' else st.status::text end,
        'position', st.position, 'lock_version', st.lock_version, 'created_at', st.created_at,
        'updated_at', st.updated_at,
        'builds', ${jobsJson(sql, 'Ci::Build')},
        'generic_commit_statuses', ${jobsJson(sql, 'GenericCommitStatus')},
        'bridges', ${jobsJson(sql, 'Ci::Bridge')}) order by st.position, st.id)
      from ci_stages st where st.pipeline_id = c.id), '[]'::json),
    'external_pull_request', (select ${externalPullRequestJson(sql)} from external_pull_requests e
                              where e.id = c.external_pull_request_id),
    'merge_request', (select json_build_object(${mergeRequestAttributes(sql)}) from merge_requests mr
                      where mr.id = c.merge_request_id),
    'pipeline_metadata', (select json_build_object('name', pm.name) from ci_pipeline_metadata pm
                          where pm.pipeline_id = c.id))`;

export const ciPipelines: RelationSource = {
  portable: 'project',
  relation: 'ci_pipelines',
  batched: true,
  ids: (sql, projectId) => sql`select id from ci_pipelines where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select ${pipelineJson(sql)}::text as line, c.id
    from ci_pipelines c where c.project_id = ${projectId} ${inRange(sql, 'c.id', range)} order by c.id`,
};

export const pipelineSchedules: RelationSource = {
  portable: 'project',
  relation: 'pipeline_schedules',
  batched: true,
  ids: (sql, projectId) => sql`select id from ci_pipeline_schedules where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select json_build_object(
      'active', s.active, 'created_at', s.created_at, 'cron', s.cron, 'cron_timezone', s.cron_timezone,
      'description', s.description, 'next_run_at', s.next_run_at, 'ref', s.ref, 'updated_at', s.updated_at,
      'owner_id', s.owner_id)::text as line, s.id
    from ci_pipeline_schedules s where s.project_id = ${projectId} ${inRange(sql, 's.id', range)} order by s.id`,
};

export const externalPullRequests: RelationSource = {
  portable: 'project',
  relation: 'external_pull_requests',
  batched: true,
  ids: (sql, projectId) => sql`select id from external_pull_requests where project_id = ${projectId}`,
  lines: (sql, projectId, range) => sql`
    select ${externalPullRequestJson(sql)}::text as line, e.id
    from external_pull_requests e where e.project_id = ${projectId} ${inRange(sql, 'e.id', range)} order by e.id`,
};
