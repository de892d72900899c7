import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { CancellationScope, ParentClosePolicy, WorkflowIdReusePolicy, startChild } from '@temporalio/workflow';
import {
  SA_GITLAB_USER_ID,
  SA_OFFLINE_EXPORT_ID,
  SA_WORKFLOW_KIND,
  WORKFLOW_KIND_CREDENTIALS_PURGE,
  credentialsPurgeWorkflowId,
  duration,
} from '../../contracts/offline-export';
import { OfflineExportCredentialsPurgeWorkflow } from './purge.workflow';

/**
 * Starts the export's credential purge, `delayMs` from now, as its own workflow and returns its id.
 *
 * Why an abandoned child rather than a workflow started with a start delay from an activity: the start is a command
 * of this workflow, recorded in its history (the Web UI links the two both ways) and replayed like the rest of it,
 * needing no Temporal client in the activities; the export's run does not complete until the server has recorded
 * the child as started, so a worker crash in between only replays to the same command; and ABANDON lets the purge
 * outlive the run that started it. The timer then lives in the purge workflow's own history on the server, which
 * survives any worker restart.
 *
 * Idempotent: the id is the export's, and REJECT_DUPLICATE refuses a second start even after the first closed (a
 * reset of the export's workflow replaying the start), which is taken as done. Not cancellable: a cancel arriving
 * while the start is in flight must not leave a finished export without its purge.
 */
export async function startCredentialsPurge(exportId: number, userId: number, delayMs: number): Promise<string> {
  const workflowId = credentialsPurgeWorkflowId(exportId);
  await CancellationScope.nonCancellable(async () => {
    try {
      await startChild(OfflineExportCredentialsPurgeWorkflow, {
        workflowId,
        args: [{ exportId, delayMs }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: `Purge the object storage credentials of offline export ${exportId} in ${duration(delayMs)}`,
        typedSearchAttributes: [
          { key: SA_OFFLINE_EXPORT_ID, value: exportId },
          { key: SA_GITLAB_USER_ID, value: userId },
          { key: SA_WORKFLOW_KIND, value: WORKFLOW_KIND_CREDENTIALS_PURGE },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  });
  return workflowId;
}
