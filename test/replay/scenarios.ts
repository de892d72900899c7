import { randomUUID } from 'node:crypto';
import { SEED_USERS } from '../../db/seed/generate';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import type { Config } from '../../contracts/config';
import {
  OFFLINE_EXPORT_CREDENTIALS_PURGE_WORKFLOW,
  OFFLINE_EXPORT_WORKFLOW,
  credentialsPurgeWorkflowId,
  offlineExportProgressQuery,
  offlineExportWorkflowId,
} from '../../contracts/offline-export';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import {
  bulkUpdateBatchRangeWorkflowId,
  bulkUpdateProgressQuery,
  bulkUpdateWorkflowId,
  type BulkUpdateMode,
} from '../../contracts/bulk-update';
import { linksOf, projectsUnder } from '../bulk-update/support/instance';
import { waitFor } from '../helpers/wait';
import { STACK_CHECK_WORKFLOW, stackCheckWorkflowId } from '../../contracts/stack-check';
import type { StackCheckWorkflow } from '../../workflows/stack-check/workflow';
import type { TestWorker } from '../helpers/worker';
import { insertExport } from '../offline-export/fixture';

/**
 * Histories named pre-purge-workflow-* were recorded before CREDENTIALS_PURGE_WORKFLOW_PATCH and
 * CHUNK_PORTABLE_INDEX_PATCH (contracts/offline-export.ts): exports that sleep out the purge delay in their own run,
 * and chunks without their portable index; they stay while such runs may still be going.
 *
 * Histories named pre-failure-path-* were recorded before EXPORT_FAILURE_PATH_PATCH; they stay while exports started
 * before it may still be running, to prove those replay along the old path. Likewise pre-failed-ranges-* were
 * recorded before FAILED_RANGES_PATCH (contracts/bulk-update.ts), for bulk updates started before it.
 *
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

async function startExport(tw: TestWorker, userId: number, paths: string[]): Promise<string> {
  const { exportId } = await insertExport(tw.deps.sql, tw.config, userId, paths);
  const workflowId = offlineExportWorkflowId(exportId);
  await tw.client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
    workflowId,
    taskQueue: tw.taskQueue,
    args: [{ exportId }],
  });
  return workflowId;
}

async function startBulk(
  tw: TestWorker,
  groupPath: string,
  attribute: string,
  mode: BulkUpdateMode,
): Promise<{ workflowId: string; operationId: string }> {
  const root = groupPath.split('/')[0]!;
  const groupId = await namespaceIdByPath(tw.deps.sql, groupPath);
  const attributeId = await attributeIdByName(tw.deps.sql, root, attribute);
  return startBulkUpdate(
    { sql: tw.deps.sql, client: tw.client, taskQueue: tw.taskQueue },
    { userId: SEED_USERS.owner.id, groupIds: [groupId], attributeIds: [attributeId], mode },
  );
}

/** Workflow ids of a bulk operation's range children, in batch order. */
async function childrenOf(tw: TestWorker, operationId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of tw.client.workflow.list({
    query: `WorkflowId STARTS_WITH "${bulkUpdateWorkflowId(operationId)}/batches:"`,
  }))
    ids.push(w.workflowId);
  return ids.sort((a, b) => Number(a.split(':').pop()!.split('-')[0]) - Number(b.split(':').pop()!.split('-')[0]));
}

/** Run ids of a workflow id, oldest first. */
async function runsOf(tw: TestWorker, workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const execution of tw.client.workflow.list({ query: `WorkflowId = "${workflowId}"` }))
    runs.push(execution.runId);
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
      const chunks: string[] = [];
      for await (const w of tw.client.workflow.list({
        query: `WorkflowId STARTS_WITH "${offlineExportWorkflowId(exportId)}/portables:"`,
      })) {
        chunks.push(w.workflowId);
      }
      if (chunks.length !== 1) throw new Error(`expected one chunk child, got ${chunks.length}`);
      // The credential purge the export started as a workflow of its own, once it has fired.
      const purgeId = credentialsPurgeWorkflowId(exportId);
      await tw.client.workflow.getHandle(purgeId).result();
      return [
        { name: 'offline-export-success', workflowId },
        { name: 'offline-export-chunk-success', workflowId: chunks[0]! },
        { name: 'offline-export-credentials-purge-success', workflowId: purgeId },
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

  // GitLab's failure path at the deadline the workflow keeps (EXPORT_FAILURE_PATH_PATCH): batches of one record
  // make the export of gitlab-org outlast a deadline of two seconds.
  'offline-export-deadline': {
    config: { EXPORT_BATCH_SIZE: 1, EXPORT_DEADLINE_MS: 2_000 },
    async run(tw) {
      const workflowId = await startExport(tw, SEED_USERS.owner.id, ['gitlab-org']);
      await tw.client.workflow
        .getHandle(workflowId)
        .result()
        .catch(() => undefined);
      return [{ name: 'offline-export-deadline', workflowId }];
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

  // A purge cancelled while it waits purges at once and ends cancelled (an export id no row has: nothing to purge).
  'offline-export-credentials-purge-cancelled': {
    async run(tw) {
      const exportId = 900_000_000 + Math.floor(Math.random() * 1e6);
      const handle = await tw.client.workflow.start(OFFLINE_EXPORT_CREDENTIALS_PURGE_WORKFLOW, {
        workflowId: credentialsPurgeWorkflowId(exportId),
        taskQueue: tw.taskQueue,
        args: [{ exportId, delayMs: 3_600_000 }],
      });
      await waitFor(async () =>
        (await handle.fetchHistory()).events?.some((e) => e.timerStartedEventAttributes) ? true : undefined,
      );
      await handle.cancel();
      await handle.result().catch(() => undefined);
      return [{ name: 'offline-export-credentials-purge-cancelled', workflowId: handle.workflowId }];
    },
  },

  'offline-export-continue-as-new': {
    config: { ...quickPurge, EXPORT_PORTABLES_PER_CHUNK: 2, EXPORT_CHUNKS_PER_RUN: 2 },
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

  'bulk-update-success': {
    async run(tw) {
      const { workflowId, operationId } = await startBulk(tw, 'flightjs', 'Search', 'ADD');
      await tw.client.workflow.getHandle(workflowId).result();
      const children = await childrenOf(tw, operationId);
      if (children.length !== 1) throw new Error(`expected one range child, got ${children.join(', ')}`);
      return [
        { name: 'bulk-update-success', workflowId },
        { name: 'bulk-update-batch-success', workflowId: children[0]! },
      ];
    },
  },

  // About one project in four already has "Internal" from the single-selection Exposure category: those fail.
  // Batches of 5, two children at a time, at most 3 batches each: ranges of different lengths.
  'bulk-update-partial-failure': {
    config: { BULK_UPDATE_BATCH_SIZE: 5, BULK_UPDATE_MAX_CONCURRENT_BATCHES: 2, BULK_UPDATE_BATCHES_PER_CHILD: 3 },
    async run(tw) {
      const { workflowId } = await startBulk(tw, 'gitlab-org', 'Internet facing', 'ADD');
      await tw.client.workflow.getHandle(workflowId).result();
      return [{ name: 'bulk-update-partial-failure', workflowId }];
    },
  },

  'bulk-update-cancelled': {
    config: { BULK_UPDATE_BATCH_SIZE: 2, BULK_UPDATE_MAX_CONCURRENT_BATCHES: 1, BULK_UPDATE_BATCHES_PER_CHILD: 2 },
    async run(tw) {
      const { workflowId } = await startBulk(tw, 'gitlab-org', 'Payments', 'REPLACE');
      const handle = tw.client.workflow.getHandle(workflowId);
      // Cancel while a range runs, so the history holds the cancellation of real work.
      for (let i = 0; i < 200; i++) {
        const progress = await handle.query(bulkUpdateProgressQuery).catch(() => undefined);
        if (progress && progress.batchesRunning > 0 && progress.batchesDone > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await handle.cancel();
      await handle.result().catch(() => undefined);
      return [{ name: 'bulk-update-cancelled', workflowId }];
    },
  },

  'bulk-update-continue-as-new': {
    config: {
      BULK_UPDATE_BATCH_SIZE: 3,
      BULK_UPDATE_BATCHES_PER_RUN: 4,
      BULK_UPDATE_MAX_CONCURRENT_BATCHES: 2,
      BULK_UPDATE_BATCHES_PER_CHILD: 2,
    },
    async run(tw) {
      const { workflowId } = await startBulk(tw, 'gitlab-org', 'Search', 'ADD');
      await tw.client.workflow.getHandle(workflowId).result();
      const runs = await runsOf(tw, workflowId);
      if (runs.length < 2) throw new Error(`expected a chain of runs, got ${runs.length}`);
      return [
        { name: 'bulk-update-continue-as-new-first-run', workflowId, runId: runs[0] },
        { name: 'bulk-update-continue-as-new-last-run', workflowId, runId: runs[runs.length - 1] },
      ];
    },
  },

  // A range child terminated while one of its projects is stuck in the database (its link insert waits on an
  // advisory lock): the parent fails the range's unprocessed projects and goes on with the other ranges.
  'bulk-update-failed-range': {
    config: { BULK_UPDATE_BATCH_SIZE: 3, BULK_UPDATE_MAX_CONCURRENT_BATCHES: 2, BULK_UPDATE_BATCHES_PER_CHILD: 1 },
    async run(tw) {
      const { sql } = tw.deps;
      const org = await namespaceIdByPath(sql, 'gitlab-org');
      const attributeId = await attributeIdByName(sql, 'gitlab-org', 'Identity');
      const projects = await projectsUnder(sql, org);
      const links = await linksOf(sql, projects);
      const stuckIndex = projects.findIndex((id, i) => i >= 6 && !links.get(id)!.includes(attributeId));
      const stuck = projects[stuckIndex]!;
      const lock = 731_943;
      const holder = await sql.reserve();
      await holder`select pg_advisory_lock(${lock})`;
      await sql.unsafe(`
        create function history_stuck() returns trigger language plpgsql as $$
        begin
          if new.project_id = ${stuck} then perform pg_advisory_xact_lock(${lock}); end if;
          return new;
        end $$;
        create trigger history_stuck before insert on project_to_security_attributes
          for each row execute function history_stuck();`);
      try {
        const { workflowId, operationId } = await startBulk(tw, 'gitlab-org', 'Identity', 'ADD');
        await waitFor(async () => {
          const [w] = await sql<{ n: number }[]>`
            select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = ${lock} and not granted`;
          return w!.n > 0 ? true : undefined;
        });
        const batch = Math.floor(stuckIndex / 3);
        await tw.client.workflow.getHandle(bulkUpdateBatchRangeWorkflowId(operationId, batch, batch)).terminate();
        await sql`
          select pg_terminate_backend(pid) from pg_locks
          where locktype = 'advisory' and objid = ${lock} and not granted`;
        await tw.client.workflow.getHandle(workflowId).result();
        return [{ name: 'bulk-update-failed-range', workflowId }];
      } finally {
        await holder`select pg_advisory_unlock(${lock})`;
        holder.release();
        await sql.unsafe(`drop trigger if exists history_stuck on project_to_security_attributes;
          drop function if exists history_stuck();`);
      }
    },
  },
};
