import { randomUUID } from 'node:crypto';
import type { StackCheckWorkflow } from '../../workflows/stack-check/workflow';
import { STACK_CHECK_WORKFLOW, stackCheckWorkflowId } from '../../contracts/stack-check';
import { startTestWorker, type TestWorker } from '../helpers/worker';

describe('round trip through the Temporal dev server', () => {
  let tw: TestWorker;
  beforeAll(async () => {
    tw = await startTestWorker('round-trip');
  });
  afterAll(async () => tw?.close());

  it('runs a workflow and its activity on a worker started by the test, against every real dependency', async () => {
    const workflowId = stackCheckWorkflowId(randomUUID());
    const result = await tw.run(() =>
      tw.client.workflow.execute<typeof StackCheckWorkflow>(STACK_CHECK_WORKFLOW, {
        workflowId,
        taskQueue: tw.taskQueue,
        args: [{ requestedBy: 'jest' }],
        staticSummary: 'Stack check from the test suite',
      }),
    );
    expect(result.taskQueue).toBe(tw.taskQueue);
    expect(result.dependencies.map((d) => [d.name, d.ok, d.detail])).toEqual([
      ['postgresql', true, expect.stringMatching(/migrations applied/)],
      ['redis', true, 'PING PONG'],
      ['s3', true, `bucket ${tw.config.S3_BUCKET} reachable`],
      ['smtp', true, 'server accepts connections'],
    ]);
    expect(result.ok).toBe(true);

    const description = await tw.client.workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(await description.staticSummary()).toBe('Stack check from the test suite');
  });

  it('reports a dependency it cannot reach instead of pretending', async () => {
    const broken = await startTestWorker('round-trip-broken', { S3_BUCKET: 'no-such-bucket-here' });
    try {
      const result = await broken.run(() =>
        broken.client.workflow.execute<typeof StackCheckWorkflow>(STACK_CHECK_WORKFLOW, {
          workflowId: stackCheckWorkflowId(randomUUID()),
          taskQueue: broken.taskQueue,
          args: [{}],
        }),
      );
      expect(result.ok).toBe(false);
      expect(result.dependencies.find((d) => d.name === 's3')?.ok).toBe(false);
    } finally {
      await broken.close();
    }
  });

  it('shows the workflow in the Web UI on the configured port', async () => {
    const page = await fetch(`http://127.0.0.1:${tw.config.TEMPORAL_UI_PORT}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    // The UI reads workflows through its own HTTP API; the same call it makes for the list page.
    const query = encodeURIComponent(`WorkflowType="${STACK_CHECK_WORKFLOW}" AND TaskQueue="${tw.taskQueue}"`);
    const api = await fetch(
      `http://127.0.0.1:${tw.config.TEMPORAL_UI_PORT}/api/v1/namespaces/${tw.config.TEMPORAL_NAMESPACE}/workflows?query=${query}`,
    );
    expect(api.status).toBe(200);
    const body = (await api.json()) as { executions?: { execution: { workflowId: string } }[] };
    expect(body.executions?.length).toBe(1);
    expect(body.executions?.[0]?.execution.workflowId).toMatch(/^stack-check:/);
  });
});
