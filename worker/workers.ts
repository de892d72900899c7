import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createActivities } from '../activities';
import { businessMetricsInterceptors } from './business-metrics';
import type { Deps } from './deps';

export const WORKFLOWS_PATH = require.resolve('../workflows');
// The same place whether this file runs from worker/ (tsx) or from the compiled dist/worker/.
const ROOT = __dirname.endsWith(join('dist', 'worker')) ? join(__dirname, '..', '..') : join(__dirname, '..');
export const WORKFLOW_BUNDLE_PATH = join(ROOT, 'dist', 'workflow-bundle.js');

export interface CreateWorkersOptions {
  deps: Deps;
  connection: NativeConnection;
  /** Overrides the configured queues (tests use a queue of their own). */
  taskQueues?: string[];
  /** Use the prebuilt bundle (production) instead of bundling workflows/ at start-up. */
  useBundle?: boolean;
  identity?: string;
}

/** One Worker per task queue, all sharing one connection, the same workflows and the same activity instances. */
export async function createWorkers(options: CreateWorkersOptions): Promise<Worker[]> {
  const { deps, connection } = options;
  const queues = options.taskQueues ?? [
    ...new Set([deps.config.TEMPORAL_TASK_QUEUE_EXPORT, deps.config.TEMPORAL_TASK_QUEUE_BULK_UPDATE]),
  ];
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = options.useBundle
    ? { workflowBundle: { codePath: requireBundle() } }
    : { workflowsPath: WORKFLOWS_PATH };
  const activities = createActivities(deps);
  return Promise.all(
    queues.map((taskQueue) =>
      Worker.create({
        connection,
        namespace: deps.config.TEMPORAL_NAMESPACE,
        taskQueue,
        activities,
        ...workflowSource,
        ...(options.identity ? { identity: options.identity } : {}),
        // Gives in-flight activities time to finish (or heartbeat their progress) on SIGTERM.
        shutdownGraceTime: '20 seconds',
        maxConcurrentActivityTaskExecutions: 20,
        // A chunk export heartbeats all the time but only learns of a cancellation when a heartbeat reaches the
        // server; by default that is throttled to 80 % of the heartbeat timeout (24 s): stop within seconds.
        maxHeartbeatThrottleInterval: '2 seconds',
        // Business counters (relations, records, bytes, projects) from the results of the activities that report them.
        interceptors: { activity: [businessMetricsInterceptors] },
      }),
    ),
  );
}

function requireBundle(): string {
  if (!existsSync(WORKFLOW_BUNDLE_PATH)) {
    throw new Error(`workflow bundle ${WORKFLOW_BUNDLE_PATH} is missing: run "npm run build" first`);
  }
  return WORKFLOW_BUNDLE_PATH;
}
