import { randomUUID } from 'node:crypto';
import { SEED_USERS } from '../../db/seed/generate';
import type { Config } from '../../worker/config';
import {
  OFFLINE_EXPORT_WORKFLOW,
  offlineExportProgressQuery,
  offlineExportWorkflowId,
  portableWorkflowId,
} from '../../workflows/offline-export/definitions';
import { STACK_CHECK_WORKFLOW, stackCheckWorkflowId } from '../../workflows/stack-check/definitions';
import type { StackCheckWorkflow } from '../../workflows/stack-check/workflow';
import type { TestWorker } from '../helpers/worker';
import { insertExport } from '../offline-export/fixture';

/**
 * Real runs whose histories are committed under test/histories/ and replayed by `npm test`. Each scenario runs its
 * workflow on a test worker of its own (with config overrides) and names the executions to keep: one file each.
 */
export interface Recording {
  name: string;
  workflowId: string;
  /** A particular run (e.g. the first of a chain continued as new); the latest when absent. */
  runId?: string;
}

export interface Scenario {
  config?: Partial<Config>;
  run(tw: TestWorker): Promise<Recording[]>;
}

const quickPurge: Partial<Config> = { EXPORT_CREDENTIALS_PURGE_DELAY_MS: 200 };

async function projectId(tw: TestWorker, path: string): Promise<number> {
  const [row] = await tw.deps.sql<{ id: number }[]>`select source_id as id from routes where path = ${path} and source_type = 'Project'`;
  if (!row) throw new Error(`no project ${path}`);
  return row.id;
}

async function startExport(tw: TestWorker, userId: number, paths: string[]): Promise<string> {
  const { exportId } = await insertExport(tw.deps.sql, tw.config, userId, paths);
  const workflowId = offlineExportWorkflowId(exportId);
  await tw.client.workflow.start(OFFLINE_EXPORT_WORKFLOW, { workflowId, taskQueue: tw.taskQueue, args: [{ exportId }] });
  return workflowId;
}

/** Run ids of a workflow id, oldest first. */
async function runsOf(tw: TestWorker, workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const execution of tw.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(execution.runId);
  return runs.reverse();
}

export const scenarios: Record<string, Scenario> = {
  'stack-check': {
    async run(tw) {
      const workflowId = stackCheckWorkflowId(randomUUID());
      await tw.client.workflow.execute<typeof StackCheckWorkflow>(STACK_CHECK_WORKFLOW, {
        workflowId,
        taskQueue: tw.taskQueue,
        args: [{ requestedBy: 'history-recorder' }],
      });
      return [{ name: 'stack-check-success', workflowId }];
    },
  },

  'offline-export-success': {
    config: quickPurge,
    async run(tw) {
      const workflowId = await startExport(tw, SEED_USERS.owner.id, ['flightjs/Flight']);
      await tw.client.workflow.getHandle(workflowId).result();
      const exportId = Number(workflowId.split(':')[1]);
      return [
        { name: 'offline-export-success', workflowId },
        { name: 'offline-export-portable-success', workflowId: portableWorkflowId(exportId, 'project', await projectId(tw, 'flightjs/Flight')) },
      ];
    },
  },

  // bob is a Maintainer of flightjs: enough for its project, not for the group itself (that needs Owner).
  'offline-export-partial-failure': {
    config: quickPurge,
    async run(tw) {
      const workflowId = await startExport(tw, SEED_USERS.maintainer.id, ['flightjs']);
      await tw.client.workflow.getHandle(workflowId).result();
      return [{ name: 'offline-export-partial-failure', workflowId }];
    },
  },

  'offline-export-cancelled': {
    async run(tw) {
      const workflowId = await startExport(tw, SEED_USERS.owner.id, ['gitlab-org']);
      const handle = tw.client.workflow.getHandle(workflowId);
      // Cancel once children are running, so the history holds the cancellation of real work.
      for (let i = 0; i < 100; i++) {
        const progress = await handle.query(offlineExportProgressQuery).catch(() => undefined);
        if (progress && progress.running.length > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await handle.cancel();
      await handle.result().catch(() => undefined);
      return [{ name: 'offline-export-cancelled', workflowId }];
    },
  },

  'offline-export-continue-as-new': {
    config: { ...quickPurge, EXPORT_PORTABLES_PER_RUN: 3 },
    async run(tw) {
      const workflowId = await startExport(tw, SEED_USERS.owner.id, ['gitlab-org/backend']);
      await tw.client.workflow.getHandle(workflowId).result();
      const runs = await runsOf(tw, workflowId);
      if (runs.length < 2) throw new Error(`expected a chain of runs, got ${runs.length}`);
      return [
        { name: 'offline-export-continue-as-new-first-run', workflowId, runId: runs[0] },
        { name: 'offline-export-continue-as-new-last-run', workflowId, runId: runs[runs.length - 1] },
      ];
    },
  },
};
