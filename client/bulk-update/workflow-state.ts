import type { WorkflowExecutionStatusName } from '@temporalio/client';

/**
 * The state an operation reports for its workflow's status: 'running' while it runs, 'finished' once it completed,
 * otherwise the status in lower case, with GitLab's spelling 'canceled' (Temporal's is CANCELLED).
 */
export function operationStateOf(status: WorkflowExecutionStatusName): string {
  if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') return 'running';
  if (status === 'COMPLETED') return 'finished';
  if (status === 'CANCELLED') return 'canceled';
  return status.toLowerCase();
}
