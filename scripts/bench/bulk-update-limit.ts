import type { Db } from '../../db/sql';
import { requireOperation } from '../../activities/bulk-update/require-operation';
import { runBulkScript } from './bulk-update-script';

// The set-based limit of the bulk update: the same change with no Temporal and no per-project code, each batch ONE
// SQL statement (lock the batch's outcome rows and projects, decide every project with GitLab's rules for an ADD,
// insert the links of those that pass, write every outcome row) and one Redis script for the batch's counts and
// failed items; collection, planning, email and cleanup are the activities' own functions. It only knows ADD, the
// benchmark's mode, and runs alone on its data: the statement reads in its own snapshot (the product reads after
// its locks are held, see db/bulk-update/batch-decision.ts). What the workflow is measured against.
// Usage: tsx scripts/bench/bulk-update-limit.ts @options.json  -> one JSON line on stdout (a BulkBaselineResult).

interface LimitRow {
  project_id: number;
  outcome: 'succeeded' | 'failed';
  error_message: string | null;
  error_details: string[];
  entity_name: string | null;
  entity_full_path: string | null;
}

/** One batch of an ADD, decided and applied in one statement. */
async function addBatch(
  db: Db,
  op: { id: string; userId: number; attributeIds: number[] },
  batchNumber: number,
): Promise<LimitRow[]> {
  return db<LimitRow[]>`
    with pending as (
      select bop.project_id from background_operation_projects bop
      where bop.operation_id = ${op.id} and bop.batch_number = ${batchNumber} and bop.outcome is null
      order by bop.project_id for update
    ), locked as (
      select p.id, p.name, n.traversal_ids from projects p join namespaces n on n.id = p.namespace_id
      where p.id in (select project_id from pending) order by p.id for no key update of p
    ), requested as (
      select distinct x.id from unnest(${op.attributeIds}::bigint[]) as x(id)
    ), available as (
      select a.id, a.namespace_id, c.id as category_id, c.multiple_selection
      from security_attributes a join security_categories c on c.id = a.security_category_id
      where a.id in (select id from requested) and a.deleted_at is null and c.deleted_at is null
    ), state as (
      select l.id, l.name, l.traversal_ids, r.path,
        case when u.id is null or u.state <> 'active' then 0 when u.admin then 50
             else greatest(
               coalesce((select max(m.access_level) from members m
                         where m.user_id = u.id and m.source_type = 'Project' and m.source_id = l.id), 0),
               coalesce((select max(m.access_level) from members m
                         where m.user_id = u.id and m.source_type = 'Namespace' and m.source_id = any(l.traversal_ids)), 0))
        end as level,
        coalesce((select array_agg(pa.security_attribute_id) from project_to_security_attributes pa
                  join security_attributes a on a.id = pa.security_attribute_id
                  join security_categories c on c.id = a.security_category_id
                  where pa.project_id = l.id and a.deleted_at is null and c.deleted_at is null), '{}') as current_ids,
        coalesce((select array_agg(distinct a.security_category_id) from project_to_security_attributes pa
                  join security_attributes a on a.id = pa.security_attribute_id
                  join security_categories c on c.id = a.security_category_id
                  where pa.project_id = l.id and a.deleted_at is null and c.deleted_at is null
                    and not c.multiple_selection), '{}') as used_categories
      from locked l
      left join routes r on r.source_type = 'Project' and r.source_id = l.id
      left join users u on u.id = ${op.userId}
    ), judged as (
      select s.*,
        (select count(*) from requested q where q.id <> all(s.current_ids) and q.id in (select id from available))
          as to_create,
        (select coalesce(array_agg('Security attribute not found: ' || q.id order by q.id), '{}') from requested q
         where q.id <> all(s.current_ids) and q.id not in (select id from available)) as not_found,
        -- Each new single-selection attribute whose category is used already or by an earlier one (id order here,
        -- the request's order in the product: the same for the benchmark's one attribute).
        (select coalesce(array_agg('Cannot add multiple attributes from the same category ' || v.category_id
                                   order by v.id), '{}')
         from available v
         where v.id <> all(s.current_ids) and not v.multiple_selection
           and (v.category_id = any(s.used_categories)
                or exists (select 1 from available e where e.id < v.id and e.id <> all(s.current_ids)
                           and not e.multiple_selection and e.category_id = v.category_id))) as conflicts,
        exists (select 1 from available v where v.id <> all(s.current_ids) and v.namespace_id <> s.traversal_ids[1])
          as foreign_group
      from state s
    ), decided as (
      select p.project_id, j.id is not null as found, j.name, nullif(j.path, '') as path, j.traversal_ids,
        case
          when j.id is null then 'Project not found: it was deleted after the operation started'
          when j.level < 40 then 'You are not authorized to perform this action'
          when cardinality(j.current_ids) + j.to_create > 20 then 'Too many attributes'
          when cardinality(j.not_found) + cardinality(j.conflicts) > 0 then 'Invalid attributes'
          when j.foreign_group then 'Failed to update security attributes'
        end as message,
        case
          when j.id is null or j.level < 40 then '{}'::text[]
          when cardinality(j.current_ids) + j.to_create > 20 then array['Cannot exceed 20 attributes per project']
          else j.not_found || j.conflicts
        end as details
      from pending p left join judged j on j.id = p.project_id
    ), linked as (
      insert into project_to_security_attributes (project_id, security_attribute_id, traversal_ids)
      select d.project_id, v.id, d.traversal_ids from decided d cross join available v
      where d.message is null
      order by d.project_id, v.id
      on conflict (project_id, security_attribute_id) do nothing
    )
    update background_operation_projects bop
    set outcome = case when d.message is null then 'succeeded' else 'failed' end,
        error_code = case when d.message is null then null else 'service_error' end,
        error_message = d.message,
        error_details = case when d.message is null then '{}' else d.details end,
        entity_name = case when d.found then d.name end, entity_full_path = case when d.found then d.path end,
        processed_at = now()
    from decided d
    where bop.operation_id = ${op.id} and bop.project_id = d.project_id
    returning bop.project_id, bop.outcome, bop.error_message, bop.error_details, bop.entity_name, bop.entity_full_path`;
}

if (require.main === module) {
  runBulkScript('bench-bulk-limit', async ({ deps, store, operationId, tracked }) => {
    const op = await requireOperation(deps.sql, operationId);
    if (op.mode !== 'ADD') throw new Error(`the set-based limit only knows ADD (got ${op.mode})`);
    return async (batchNumber) => {
      const rows = await addBatch(deps.sql, op, batchNumber);
      const ok = rows.filter((r) => r.outcome === 'succeeded');
      const bad = rows.filter((r) => r.outcome === 'failed');
      if (tracked) {
        await store.recordOutcomes(operationId, {
          successful: ok.map((r) => ({ type: 'Project' as const, id: Number(r.project_id) })),
          failed: bad.map((r) => ({
            entity_id: Number(r.project_id),
            entity_type: 'Project' as const,
            ...(r.entity_name !== null ? { entity_name: r.entity_name } : {}),
            ...(r.entity_full_path !== null ? { entity_full_path: r.entity_full_path } : {}),
            error_message: r.error_message ?? 'Unknown error',
            errors: r.error_details,
            error_code: 'service_error' as const,
          })),
        });
      }
      return { successful: ok.length, failed: bad.length };
    };
  }).catch((err: unknown) => {
    process.stderr.write(`bulk-update-limit: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
