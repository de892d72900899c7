import { randomBytes } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { BulkUpdateErrorType } from '../../contracts/bulk-update';
import { startWithTemporalCli } from '../helpers/cli';
import { startRunningWorker, type RunningWorker } from './support/running-worker';

// What an operator gets who starts the workflow by hand with the Temporal CLI and a wrong input: a failed
// workflow with a typed, non-retryable error that says what to pass, not a workflow task retried forever.

describe('BulkUpdateWorkflow started from the Temporal CLI', () => {
  let tw: RunningWorker;
  beforeAll(async () => {
    tw = await startRunningWorker('bulk-cli');
  });
  afterAll(async () => tw?.stop());

  const startFromCli = (type: string, input: string) =>
    startWithTemporalCli(tw.config, {
      type,
      taskQueue: tw.taskQueue,
      workflowId: `bulk-cli-${randomBytes(4).toString('hex')}`,
      input,
    });

  const failureOf = async (workflowId: string): Promise<ApplicationFailure> => {
    const error = await tw.client.workflow
      .getHandle(workflowId)
      .result()
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    return cause as ApplicationFailure;
  };

  it.each([
    ['a number for the id', '{"operationId": 42}'],
    ['a string instead of an object', '"attribute_update_2_1_deadbeef"'],
    ['a made-up id', '{"operationId": "my-operation"}'],
    [
      'a hand-made continue-as-new state',
      '{"operationId": "attribute_update_2_1712345678_a1b2c3d4", "state": "garbage"}',
    ],
    [
      'a state with a missing counter',
      '{"operationId": "attribute_update_2_1712345678_a1b2c3d4", "state": {"phase": "processing", "tracked": true}}',
    ],
  ])('fails at once on %s', async (_case, input) => {
    const failure = await failureOf(await startFromCli('BulkUpdateWorkflow', input));
    expect(failure.type).toBe(BulkUpdateErrorType.InvalidWorkflowInput);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/startBulkUpdate|operationId|continues as new/);
  });

  it('fails with OperationNotFound for a well-formed id nobody recorded', async () => {
    const failure = await failureOf(
      await startFromCli('BulkUpdateWorkflow', '{"operationId": "attribute_update_2_1712345678_a1b2c3d4"}'),
    );
    expect(failure.type).toBe(BulkUpdateErrorType.OperationNotFound);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('attribute_update_2_1712345678_a1b2c3d4 does not exist');
  });

  it('fails a batch workflow started by hand without a batch number', async () => {
    const failure = await failureOf(
      await startFromCli('BulkUpdateBatchWorkflow', '{"operationId": "attribute_update_2_1712345678_a1b2c3d4"}'),
    );
    expect(failure.type).toBe(BulkUpdateErrorType.InvalidWorkflowInput);
    expect(failure.message).toBe('batchNumber must be a whole number of at least 0');
  });
});
