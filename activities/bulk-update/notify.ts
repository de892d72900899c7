import { ApplicationFailure } from '@temporalio/common';
import type { Transporter } from 'nodemailer';
import { failedProjects } from '../../db/bulk-update/batches';
import {
  claimNotification,
  findRecipient,
  operationCounts,
  setNotificationState,
} from '../../db/bulk-update/operations';
import type { Sql } from '../../db/sql';
import { BulkUpdateErrorType, type NotificationOutcome } from '../../contracts/bulk-update';
import { buildFailureEmail } from './failure-email';
import { requireOperation } from './require-operation';

// Exactly one email per operation. SMTP and PostgreSQL cannot commit together, so the send is bracketed by a
// claim in background_operations:
//   none --claim--> sending --send ok--> sent        (a retry after "sent" does nothing)
//                           --send refused for good--> failed
//                           --send failed, maybe transient--> none (released; the retry sends)
// A claim is a lease. Only a worker dying between the SMTP server's "250 OK" and the "sent" update leaves
// "sending" behind; after the lease the next attempt sends again with the same Message-ID, so that one
// unavoidable window errs towards the user getting the report (mail clients fold identical Message-IDs)
// rather than never hearing about the failures. While the lease is fresh, another attempt may still be
// talking to the mail server, so a retry waits instead of sending a second copy.
export const NOTIFICATION_LEASE_SECONDS = 5 * 60;

export interface NotifyDeps {
  sql: Sql;
  mailer: Pick<Transporter, 'sendMail'>;
  mailFrom: string;
  instanceBaseUrl: string;
}

export interface NotifyInput {
  operationId: string;
}

export interface NotifyResult {
  notification: NotificationOutcome;
  messageId?: string;
  failedItems: number;
}

/** Deterministic, so every attempt for an operation sends the same Message-ID. */
export function notificationMessageId(operationId: string, instanceBaseUrl: string): string {
  return `<bulk-operation.${operationId}@${new URL(instanceBaseUrl).hostname || 'gitlab.local'}>`;
}

// A bare address: no display-name tricks, no line breaks that could open a new header.
const PLAIN_ADDRESS = /^[^\s@<>()",;:\\]+@[^\s@<>()",;:\\]+$/;

export async function notifyFailures(deps: NotifyDeps, input: NotifyInput): Promise<NotifyResult> {
  const op = await requireOperation(deps.sql, input.operationId);
  const counts = await operationCounts(deps.sql, op.id);
  if (op.notificationState === 'sent') return { notification: 'already_sent', failedItems: counts.failedItems };
  if (!op.tracked || counts.failedItems === 0) {
    if (op.notificationState === 'none') await setNotificationState(deps.sql, op.id, 'not_needed');
    return { notification: 'not_needed', failedItems: counts.failedItems };
  }
  const recipient = await findRecipient(deps.sql, op.userId);
  if (!recipient || !PLAIN_ADDRESS.test(recipient.email)) {
    await setNotificationState(deps.sql, op.id, 'failed');
    return { notification: 'skipped', failedItems: counts.failedItems };
  }

  const messageId = notificationMessageId(op.id, deps.instanceBaseUrl);
  const claim = await claimNotification(deps.sql, op.id, messageId, NOTIFICATION_LEASE_SECONDS);
  if (!claim.claimed) {
    if (claim.state === 'sent') return { notification: 'already_sent', messageId, failedItems: counts.failedItems };
    if (claim.state === 'not_needed') return { notification: 'not_needed', failedItems: counts.failedItems };
    if (claim.state === 'failed') return { notification: 'failed', failedItems: counts.failedItems };
    throw ApplicationFailure.create({
      type: BulkUpdateErrorType.NotificationInProgress,
      message: `Another attempt has been sending the report for ${op.id} for ${Math.round(claim.heldForSeconds ?? 0)} s; waiting for it`,
    });
  }

  const items = await failedProjects(deps.sql, op.id);
  const email = buildFailureEmail({
    operationType: op.operationType,
    recipientName: recipient.name,
    totalItems: counts.totalItems,
    successfulItems: counts.successfulItems,
    failedItems: counts.failedItems,
    instanceBaseUrl: deps.instanceBaseUrl,
    items: items.map((i) => ({
      entityId: i.projectId,
      entityType: 'Project',
      entityName: i.entityName,
      entityFullPath: i.entityFullPath,
      errorMessage: i.errorMessage ?? 'Unknown error',
      errorDetails: i.errorDetails,
    })),
  });

  try {
    await deps.mailer.sendMail({
      from: deps.mailFrom,
      to: { name: recipient.name.replace(/[\r\n]+/g, ' '), address: recipient.email },
      subject: email.subject,
      html: email.html,
      text: email.text,
      messageId,
      headers: { 'X-GitLab-Background-Operation-Id': op.id },
    });
  } catch (err) {
    const code = (err as { responseCode?: number; code?: string }).responseCode;
    if (typeof code === 'number' && code >= 500 && code < 600) {
      await setNotificationState(deps.sql, op.id, 'failed');
      throw ApplicationFailure.create({
        type: BulkUpdateErrorType.EmailRejected,
        message: `The mail server refused the report for ${op.id} (${code})`,
        nonRetryable: true,
        cause: err instanceof Error ? err : undefined,
      });
    }
    // Not delivered (connection refused, 4xx): release the claim so the retry sends.
    await setNotificationState(deps.sql, op.id, 'none');
    throw err;
  }
  await markSentWithRetries(deps.sql, op.id);
  return { notification: 'sent', messageId, failedItems: counts.failedItems };
}

// The message is out; losing the "sent" mark now would mean a second copy after the lease, so try harder here
// than a plain activity retry would.
async function markSentWithRetries(sql: Sql, operationId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await setNotificationState(sql, operationId, 'sent');
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  }
}
