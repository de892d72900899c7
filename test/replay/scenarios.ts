import { randomUUID } from 'node:crypto';
import { STACK_CHECK_WORKFLOW, stackCheckWorkflowId } from '../../workflows/stack-check/definitions';
import type { StackCheckWorkflow } from '../../workflows/stack-check/workflow';
import type { TestWorker } from '../helpers/worker';

/**
 * Real runs whose histories are committed under test/histories/ and replayed by `npm test`.
 * Each scenario runs its workflow to the end on a test worker and returns the workflow id to export.
 */
export type Scenario = (tw: TestWorker) => Promise<string>;

export const scenarios: Record<string, Scenario> = {
  'stack-check-success': async (tw) => {
    const workflowId = stackCheckWorkflowId(randomUUID());
    await tw.client.workflow.execute<typeof StackCheckWorkflow>(STACK_CHECK_WORKFLOW, {
      workflowId,
      taskQueue: tw.taskQueue,
      args: [{ requestedBy: 'history-recorder' }],
    });
    return workflowId;
  },
};
