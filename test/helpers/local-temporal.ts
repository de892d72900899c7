import { existsSync } from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { ALL_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';
import { TEMPORAL_CLI } from './cli';

// For unit tests of workflow logic: an in-memory Temporal dev server of the test's own (the Temporal CLI the tools
// build, started on a free port and stopped with the test), with the project's search attributes. No PostgreSQL,
// Redis, S3 or SMTP: the activities are the test's fakes.

/** Starts the server before the file's tests and stops it after; the returned function gives the environment. */
export function useLocalTemporal(): () => TestWorkflowEnvironment {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await startLocalTemporal();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return () => {
    if (!env) throw new Error('the local Temporal server is not started (use useLocalTemporal at the top of the file)');
    return env;
  };
}

export async function startLocalTemporal(): Promise<TestWorkflowEnvironment> {
  if (!existsSync(TEMPORAL_CLI)) {
    throw new Error(`${TEMPORAL_CLI} is missing: build the tools first (npm run tools), as npm test does`);
  }
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // installed already by another test of this process
  }
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_CLI },
      searchAttributes: [...ALL_SEARCH_ATTRIBUTES],
      log: { format: 'json', level: 'error' },
    },
  });
}

let bundle: Promise<WorkflowBundle> | undefined;

/** The project's workflows, bundled once per test process. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: new DefaultLogger('ERROR'),
  });
  return bundle;
}
