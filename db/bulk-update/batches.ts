import type { Db } from '../sql';

// Batches and per-project outcomes (table background_operation_projects).

export interface BatchPlan {
  totalItems: number;
  batchCount: number;
  batchSize: number;
  /** Root group of the lowest collected project id; undefined when nothing was collected. */
  firstRootNamespaceId: number | undefined;
  alreadyPlanned: boolean;
  tracked: boolean | null;
}

/**
 * Numbers the collected projects into batches of batchSize in project-id order, once: a second call (a retried
 * activity, a continued run) returns the stored plan, so every execution of batch n sees the same projects.
 */
export async function planBatches(tx: Db, operationId: string, batchSize: number): Promise<BatchPlan> {
  const [op] = await tx<
    { batch_size: number | null; total_items: number | null; batch_count: number | null; tracked: boolean | null }[]
  >`
    select batch_size, total_items, batch_count, tracked from background_operations where id = ${operationId} for update`;
  if (!op) throw new Error(`background operation ${operationId} does not exist`);
  const [first] = await tx<{ root: number }[]>`
    select n.traversal_ids[1] as root
    from background_operation_projects bop
    join projects p on p.id = bop.project_id
    join namespaces n on n.id = p.namespace_id
    where bop.operation_id = ${operationId}
    order by bop.project_id limit 1`;
  if (op.batch_size !== null && op.total_items !== null && op.batch_count !== null) {
    return {
      totalItems: op.total_items,
      batchCount: op.batch_count,
      batchSize: op.batch_size,
      firstRootNamespaceId: first?.root,
      alreadyPlanned: true,
      tracked: op.tracked,
    };
  }
  await tx`
    update background_operation_projects bop
    set batch_number = ((numbered.rn - 1) / ${batchSize})::int
    from (select project_id, row_number() over (order by project_id) as rn
          from background_operation_projects where operation_id = ${operationId}) numbered
    where bop.operation_id = ${operationId} and bop.project_id = numbered.project_id`;
  const [counted] = await tx<{ total: number }[]>`
    select count(*)::int as total from background_operation_projects where operation_id = ${operationId}`;
  const totalItems = counted?.total ?? 0;
  return {
    totalItems,
    batchCount: Math.ceil(totalItems / batchSize),
    batchSize,
    firstRootNamespaceId: first?.root,
    alreadyPlanned: false,
    tracked: null,
  };
}

export async function savePlan(
  tx: Db,
  operationId: string,
  plan: { batchSize: number; totalItems: number; batchCount: number; tracked: boolean },
): Promise<void> {
  await tx`
    update background_operations
    set batch_size = ${plan.batchSize}, total_items = ${plan.totalItems}, batch_count = ${plan.batchCount},
        tracked = ${plan.tracked}, status = 'running', updated_at = now()
    where id = ${operationId}`;
}

export type Outcome = 'succeeded' | 'failed';
export type ErrorCode = 'service_error' | 'unexpected_error';

export interface ProjectOutcome {
  projectId: number;
  outcome: Outcome | null;
  errorCode: ErrorCode | null;
  errorMessage: string | null;
  /** The reasons behind errorMessage (GitLab's payload errors); empty when there are none. */
  errorDetails: string[];
  entityName: string | null;
  entityFullPath: string | null;
}

interface OutcomeRow {
  project_id: number;
  outcome: Outcome | null;
  error_code: ErrorCode | null;
  error_message: string | null;
  error_details: string[] | null;
  entity_name: string | null;
  entity_full_path: string | null;
}

const toOutcome = (r: OutcomeRow): ProjectOutcome => ({
  projectId: r.project_id,
  outcome: r.outcome,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  errorDetails: r.error_details ?? [],
  entityName: r.entity_name,
  entityFullPath: r.entity_full_path,
});

export async function batchProjects(db: Db, operationId: string, batchNumber: number): Promise<ProjectOutcome[]> {
  const rows = await db<OutcomeRow[]>`
    select project_id, outcome, error_code, error_message, error_details, entity_name, entity_full_path
    from background_operation_projects
    where operation_id = ${operationId} and batch_number = ${batchNumber}
    order by project_id`;
  return rows.map(toOutcome);
}

/** Locks the project's outcome row for the rest of the transaction; concurrent attempts on it queue here. */
export async function lockProjectOutcome(
  tx: Db,
  operationId: string,
  projectId: number,
): Promise<ProjectOutcome | undefined> {
  const [row] = await tx<OutcomeRow[]>`
    select project_id, outcome, error_code, error_message, error_details, entity_name, entity_full_path
    from background_operation_projects
    where operation_id = ${operationId} and project_id = ${projectId}
    for update`;
  return row ? toOutcome(row) : undefined;
}

/** Writes the outcome unless one is already there, and returns whichever outcome the row now holds. */
export async function recordProjectOutcome(
  db: Db,
  operationId: string,
  outcome: Omit<ProjectOutcome, 'outcome'> & { outcome: Outcome },
): Promise<ProjectOutcome> {
  // One round trip when the row had no outcome yet (always, inside applyToProject's transaction, which holds the
  // row's lock); the read below only runs when another attempt had already written one.
  const [updated] = await db<OutcomeRow[]>`
    update background_operation_projects
    set outcome = ${outcome.outcome}, error_code = ${outcome.errorCode}, error_message = ${outcome.errorMessage},
        error_details = ${outcome.errorDetails}::text[],
        entity_name = ${outcome.entityName}, entity_full_path = ${outcome.entityFullPath}, processed_at = now()
    where operation_id = ${operationId} and project_id = ${outcome.projectId} and outcome is null
    returning project_id, outcome, error_code, error_message, error_details, entity_name, entity_full_path`;
  if (updated) return toOutcome(updated);
  const [row] = await db<OutcomeRow[]>`
    select project_id, outcome, error_code, error_message, error_details, entity_name, entity_full_path
    from background_operation_projects where operation_id = ${operationId} and project_id = ${outcome.projectId}`;
  if (!row) throw new Error(`project ${outcome.projectId} is not part of background operation ${operationId}`);
  return toOutcome(row);
}

/** Every project of the operation that has an outcome, in project-id order (to rebuild a lost Redis record). */
export async function recordedOutcomes(db: Db, operationId: string): Promise<ProjectOutcome[]> {
  const rows = await db<OutcomeRow[]>`
    select project_id, outcome, error_code, error_message, error_details, entity_name, entity_full_path
    from background_operation_projects
    where operation_id = ${operationId} and outcome is not null
    order by project_id`;
  return rows.map(toOutcome);
}

/** Every failed project of the operation, in project-id order, for the report. */
export async function failedProjects(sql: Db, operationId: string): Promise<ProjectOutcome[]> {
  const rows = await sql<OutcomeRow[]>`
    select project_id, outcome, error_code, error_message, error_details, entity_name, entity_full_path
    from background_operation_projects
    where operation_id = ${operationId} and outcome = 'failed'
    order by project_id`;
  return rows.map(toOutcome);
}

/**
 * Fails, as unexpected errors with the given message, every project of batches first..last that has no outcome
 * yet (their batch's work gave up for good). Each row is re-checked under its lock, so a project an attempt still
 * running commits first keeps that attempt's outcome, and one failed here is skipped by any later attempt.
 */
export async function failUnprocessedProjects(
  db: Db,
  operationId: string,
  range: { firstBatch: number; lastBatch: number },
  errorMessage: string,
): Promise<number> {
  const res = await db`
    update background_operation_projects bop
    set outcome = 'failed', error_code = 'unexpected_error', error_message = ${errorMessage}, error_details = '{}',
        entity_name = (select p.name from projects p where p.id = bop.project_id),
        entity_full_path = (select nullif(r.path, '') from routes r
                            where r.source_type = 'Project' and r.source_id = bop.project_id),
        processed_at = now()
    where bop.operation_id = ${operationId}
      and bop.batch_number between ${range.firstBatch} and ${range.lastBatch}
      and bop.outcome is null`;
  return res.count;
}

/** Every project of batches first..last with its outcome (null when it has none), in project-id order. */
export async function rangeOutcomes(
  db: Db,
  operationId: string,
  range: { firstBatch: number; lastBatch: number },
): Promise<ProjectOutcome[]> {
  const rows = await db<OutcomeRow[]>`
    select project_id, outcome, error_code, error_message, error_details, entity_name, entity_full_path
    from background_operation_projects
    where operation_id = ${operationId} and batch_number between ${range.firstBatch} and ${range.lastBatch}
    order by project_id`;
  return rows.map(toOutcome);
}
