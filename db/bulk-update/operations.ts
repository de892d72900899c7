import type { BulkUpdateMode } from '../../contracts/bulk-update';
import type { Db, Sql } from '../sql';

// The durable record of each bulk-update request (table background_operations).

export type OperationStatus = 'created' | 'collecting' | 'running' | 'finished' | 'failed';
export type NotificationState = 'none' | 'sending' | 'sent' | 'not_needed' | 'failed';

export interface OperationRecord {
  id: string;
  operationType: string;
  userId: number;
  workflowId: string;
  mode: BulkUpdateMode;
  attributeIds: number[];
  groupIds: number[];
  projectIds: number[];
  status: OperationStatus;
  tracked: boolean | null;
  batchSize: number | null;
  totalItems: number | null;
  batchCount: number | null;
  notificationState: NotificationState;
  notificationMessageId: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

interface OperationRow {
  id: string;
  operation_type: string;
  user_id: number;
  workflow_id: string;
  mode: BulkUpdateMode;
  attribute_ids: number[];
  group_ids: number[];
  project_ids: number[];
  status: OperationStatus;
  tracked: boolean | null;
  batch_size: number | null;
  total_items: number | null;
  batch_count: number | null;
  notification_state: NotificationState;
  notification_message_id: string | null;
  created_at: Date;
  finished_at: Date | null;
}

const toRecord = (r: OperationRow): OperationRecord => ({
  id: r.id,
  operationType: r.operation_type,
  userId: r.user_id,
  workflowId: r.workflow_id,
  mode: r.mode,
  attributeIds: r.attribute_ids.map(Number),
  groupIds: r.group_ids.map(Number),
  projectIds: r.project_ids.map(Number),
  status: r.status,
  tracked: r.tracked,
  batchSize: r.batch_size,
  totalItems: r.total_items,
  batchCount: r.batch_count,
  notificationState: r.notification_state,
  notificationMessageId: r.notification_message_id,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

export interface NewOperation {
  id: string;
  operationType: string;
  userId: number;
  workflowId: string;
  mode: BulkUpdateMode;
  attributeIds: number[];
  groupIds: number[];
  projectIds: number[];
}

export async function insertOperation(db: Db, op: NewOperation): Promise<void> {
  await db`
    insert into background_operations (id, operation_type, user_id, workflow_id, mode, attribute_ids, group_ids, project_ids)
    values (${op.id}, ${op.operationType}, ${op.userId}, ${op.workflowId}, ${op.mode},
            ${op.attributeIds}::bigint[], ${op.groupIds}::bigint[], ${op.projectIds}::bigint[])`;
}

/** Undoes insertOperation when the workflow could not be started, so a refused request leaves nothing behind. */
export async function deleteOperationRecord(db: Db, id: string): Promise<void> {
  await db`delete from background_operations where id = ${id} and status = 'created'`;
}

export async function findOperation(db: Db, id: string): Promise<OperationRecord | undefined> {
  const [row] = await db<OperationRow[]>`
    select id, operation_type, user_id, workflow_id, mode, attribute_ids, group_ids, project_ids, status, tracked,
           batch_size, total_items, batch_count, notification_state, notification_message_id, created_at, finished_at
    from background_operations where id = ${id}`;
  return row ? toRecord(row) : undefined;
}

/** created -> collecting; any later status is left as it is (a retried or continued run). */
export async function markCollecting(db: Db, id: string): Promise<void> {
  await db`
    update background_operations set status = 'collecting', updated_at = now()
    where id = ${id} and status = 'created'`;
}

export async function markFinished(db: Db, id: string, status: 'finished' | 'failed'): Promise<void> {
  await db`
    update background_operations set status = ${status}, finished_at = coalesce(finished_at, now()), updated_at = now()
    where id = ${id} and status not in ('finished', 'failed')`;
}

export interface OperationCounts {
  totalItems: number;
  successfulItems: number;
  failedItems: number;
}

/** Counts derived from the per-project outcomes, the source of truth for the report. */
export async function operationCounts(db: Db, id: string): Promise<OperationCounts> {
  const [row] = await db<{ total: number; successful: number; failed: number }[]>`
    select count(*)::int as total,
           count(*) filter (where outcome = 'succeeded')::int as successful,
           count(*) filter (where outcome = 'failed')::int as failed
    from background_operation_projects where operation_id = ${id}`;
  return { totalItems: row?.total ?? 0, successfulItems: row?.successful ?? 0, failedItems: row?.failed ?? 0 };
}

export interface Recipient {
  id: number;
  name: string;
  email: string;
  username: string;
  state: string;
}

export async function findRecipient(db: Db, userId: number): Promise<Recipient | undefined> {
  const [row] = await db<Recipient[]>`select id, name, email, username, state from users where id = ${userId}`;
  return row;
}

export type NotificationClaim =
  { claimed: true } | { claimed: false; state: NotificationState; heldForSeconds?: number };

/**
 * Takes the right to send the operation's email. A claim is a lease: a later attempt may take it over only once
 * the lease has run out (the holder crashed), so two live attempts never both send.
 */
export async function claimNotification(
  sql: Sql,
  id: string,
  messageId: string,
  leaseSeconds: number,
): Promise<NotificationClaim> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ state: NotificationState; held: number | null }[]>`
      select notification_state as state,
             extract(epoch from now() - notification_claimed_at)::float8 as held
      from background_operations where id = ${id} for update`;
    if (!row) return { claimed: false, state: 'failed' as const };
    const expired = row.state === 'sending' && (row.held ?? 0) >= leaseSeconds;
    if (row.state !== 'none' && !expired) {
      return { claimed: false, state: row.state, heldForSeconds: row.held ?? undefined };
    }
    await tx`
      update background_operations
      set notification_state = 'sending', notification_claimed_at = now(), notification_message_id = ${messageId},
          updated_at = now()
      where id = ${id}`;
    return { claimed: true as const };
  });
}

export async function setNotificationState(
  db: Db,
  id: string,
  state: Exclude<NotificationState, 'sending'>,
): Promise<void> {
  await db`
    update background_operations
    set notification_state = ${state},
        notified_at = case when ${state} = 'sent' then now() else notified_at end,
        notification_claimed_at = case when ${state} = 'none' then null else notification_claimed_at end,
        updated_at = now()
    where id = ${id}`;
}
