import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { loadHistories } from './replay/histories';
import { scenarios } from './replay/scenarios';

const quiet = { logger: new DefaultLogger('ERROR') };

describe('replay of recorded histories', () => {
  let bundle: WorkflowBundle;
  beforeAll(async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // already installed by another suite in this process
    }
    bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), ...quiet });
  });

  const histories = loadHistories();

  it('has a committed history for every recording scenario', () => {
    for (const scenario of Object.keys(scenarios)) {
      expect({ scenario, recorded: histories.some((h) => h.name.startsWith(scenario)) }).toEqual({
        scenario,
        recorded: true,
      });
    }
  });

  it('replays every committed history against the current workflow code', async () => {
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
      results.push({ workflowId: result.workflowId, error: result.error ? String(result.error) : undefined });
    }
    expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });
});

describe('the replay guard is real', () => {
  const history = loadHistories().find((h) => h.name === 'stack-check-success');

  it('fails when a workflow changes incompatibly', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/replay-guard/incompatible'),
      ...quiet,
    });
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history?.history)).rejects.toThrow(
      /[Nn]ondetermin/,
    );
  });

  it('passes when the same change is guarded with patched()', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/replay-guard/patched'),
      ...quiet,
    });
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history?.history)).resolves.toBeUndefined();
  });
});
