import type { Db } from '../sql';
import type { ErrorCode } from './batches';
import type { OperationStatus } from './operations';

// Paginated reads of bulk-update operations for the API: a user's operations, and one operation's failed projects
// from the durable outcomes (they outlive the Redis keys, which go when the operation ends).

export interface OperationSummary {
  id: string;
  operationType: string;
  status: OperationStatus;
  workflowId: string;
  totalItems: number;
  successfulItems: number;
  failedItems: number;
  createdAt: Date;
}

/** A page of the user's operations, newest first, with the counts from the per-project outcomes. */
export async function listOperationsForUser(
  sql: Db,
  userId: number,
  page: { page: number; perPage: number },
): Promise<{ rows: OperationSummary[]; total: number }> {
  // index_background_operations_on_user_id serves the order; the counts run over one page of operations only.
  const rows = await sql<
    {
      id: string;
      operation_type: string;
      status: OperationStatus;
      workflow_id: string;
      planned_total: number | null;
      collected: number;
      successful: number;
      failed: number;
      created_at: Date;
    }[]
  >`
    select o.id, o.operation_type, o.status, o.workflow_id, o.total_items as planned_total, o.created_at,
           c.collected, c.successful, c.failed
    from background_operations o
    cross join lateral (
      select count(*)::int as collected,
             count(*) filter (where p.outcome = 'succeeded')::int as successful,
             count(*) filter (where p.outcome = 'failed')::int as failed
      from background_operation_projects p where p.operation_id = o.id) c
    where o.user_id = ${userId}
    order by o.created_at desc, o.id desc
    limit ${page.perPage} offset ${(page.page - 1) * page.perPage}`;
  const [count] = await sql<{ total: number }[]>`
    select count(*)::int as total from background_operations where user_id = ${userId}`;
  return {
    rows: rows.map((r) => ({
      id: r.id,
      operationType: r.operation_type,
      status: r.status,
      workflowId: r.workflow_id,
      // Until the batches are planned, the projects collected so far are the best count there is.
      totalItems: r.planned_total ?? r.collected,
      successfulItems: r.successful,
      failedItems: r.failed,
      createdAt: r.created_at,
    })),
    total: count?.total ?? 0,
  };
}

export interface FailedItem {
  projectId: number;
  entityFullPath: string | null;
  errorCode: ErrorCode;
  errorMessage: string | null;
  errorDetails: string[];
}

/** A page of the operation's failed projects in project-id order (index ..._on_failures), and their total. */
export async function listFailedItems(
  sql: Db,
  operationId: string,
  page: { page: number; perPage: number },
): Promise<{ rows: FailedItem[]; total: number }> {
  const rows = await sql<
    {
      project_id: number;
      entity_full_path: string | null;
      error_code: ErrorCode;
      error_message: string | null;
      error_details: string[] | null;
    }[]
  >`
    select project_id, entity_full_path, error_code, error_message, error_details
    from background_operation_projects
    where operation_id = ${operationId} and outcome = 'failed'
    order by project_id
    limit ${page.perPage} offset ${(page.page - 1) * page.perPage}`;
  const [count] = await sql<{ total: number }[]>`
    select count(*)::int as total from background_operation_projects
    where operation_id = ${operationId} and outcome = 'failed'`;
  return {
    rows: rows.map((r) => ({
      projectId: r.project_id,
      entityFullPath: r.entity_full_path,
      errorCode: r.error_code,
      errorMessage: r.error_message,
      errorDetails: r.error_details ?? [],
    })),
    total: count?.total ?? 0,
  };
}
