import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TerminatedFailure } from '@temporalio/common';
import { failureMessage } from '../../workflows/bulk-update/batch-window';

// The message a range's unprocessed projects are failed with: the innermost one of the child's failure, as GitLab
// records an exception's message against each project it could not update.

describe('failureMessage', () => {
  it("takes the innermost non-empty message of a child's failure chain", () => {
    const activity = new ActivityFailure(
      'Activity task failed',
      'processBulkUpdateBatches',
      '1',
      undefined,
      undefined,
      ApplicationFailure.create({ message: 'connection refused\n    at Socket.connect' }),
    );
    const child = new ChildWorkflowFailure(
      'default',
      { workflowId: 'w', runId: 'r' },
      'BulkUpdateBatchWorkflow',
      undefined,
      activity,
    );
    expect(failureMessage(child)).toBe('connection refused');
    const terminated = new ChildWorkflowFailure(
      'default',
      { workflowId: 'w', runId: 'r' },
      'BulkUpdateBatchWorkflow',
      undefined,
      new TerminatedFailure('Terminated'),
    );
    expect(failureMessage(terminated)).toBe('Terminated');
    // An empty innermost message falls back to the nearest one that says something.
    expect(failureMessage(new Error('outer', { cause: new Error('  ') }))).toBe('outer');
  });

  it('is bounded and never empty', () => {
    expect(failureMessage(new Error('x'.repeat(600)))).toHaveLength(500);
    expect(failureMessage(undefined)).toBe('Unknown error');
    expect(failureMessage({})).toBe('Unknown error');
    expect(failureMessage('plain')).toBe('plain');
  });
});
