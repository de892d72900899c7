import { proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { StackCheckActivities } from '../../activities/stack-check';
import type { StackCheckInput, StackCheckResult } from '../../contracts/stack-check';

const { checkDependencies } = proxyActivities<StackCheckActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 2 },
});

/**
 * Runs on a worker of the queue it is started on and reports whether that worker reaches every dependency.
 * Operators run it after deploying a worker; the tests use it as the round trip through the real server.
 */
export async function StackCheckWorkflow(_input: StackCheckInput): Promise<StackCheckResult> {
  setCurrentDetails('Checking PostgreSQL, Redis, S3 and SMTP from the worker');
  const result = await checkDependencies({});
  const ok = result.dependencies.every((d) => d.ok);
  setCurrentDetails(
    `**${ok ? 'All dependencies reachable' : 'Some dependencies unreachable'}**\n\n` +
      result.dependencies.map((d) => `- ${d.name}: ${d.ok ? 'ok' : 'FAILED'} (${d.detail}, ${d.ms} ms)`).join('\n'),
  );
  return { ok, worker: result.worker, taskQueue: workflowInfo().taskQueue, dependencies: result.dependencies };
}
