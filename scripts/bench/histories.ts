import type { Client } from '@temporalio/client';

// Workflow runs of one export (parent runs and portable children), found by the OfflineExportId search attribute.
// Visibility gives each run's history length; identities (which worker did what) need the histories themselves.

export interface RunInfo {
  workflowId: string;
  runId: string;
  type: string;
  historyLength: number;
  status: string;
}

export async function exportRuns(client: Client, exportId: number): Promise<RunInfo[]> {
  return runsByQuery(client, `OfflineExportId = ${exportId}`);
}

/** Every run a visibility query finds (e.g. `BulkOperationId = "..."` for a bulk update's runs and batches). */
export async function runsByQuery(client: Client, query: string): Promise<RunInfo[]> {
  const runs: RunInfo[] = [];
  for await (const w of client.workflow.list({ query })) {
    runs.push({ workflowId: w.workflowId, runId: w.runId, type: w.type, historyLength: w.historyLength, status: w.status.name });
  }
  return runs;
}

export interface HistoryStats {
  largestParentRun: number;
  largestChild: number;
  parentRuns: number;
  children: number;
  /** Activity tasks and workflow tasks completed per worker identity, over the histories read. */
  perIdentity: Record<string, { activities: number; workflowTasks: number }>;
  historiesRead: number;
  /** Scheduled activities by type over the histories read. */
  activitiesByType: Record<string, number>;
  totalEvents: number;
  /** Activity tasks started per worker identity and activity type, over the histories read. */
  perIdentityByType: Record<string, Record<string, number>>;
}

/**
 * History lengths of every run, and per-identity counts from at most `maxHistories` histories (every parent run,
 * then the children; with more children than that, an even sample, said in the output).
 */
export async function historyStats(client: Client, exportId: number, maxHistories: number): Promise<HistoryStats> {
  return historyStatsByQuery(client, `OfflineExportId = ${exportId}`, 'OfflineExportWorkflow', maxHistories);
}

/** historyStats for any set of runs: `parentType` names the parent workflow type, every other run is a child. */
export async function historyStatsByQuery(
  client: Client,
  query: string,
  parentType: string,
  maxHistories: number,
  expectedRuns = 1,
): Promise<HistoryStats> {
  // Visibility is eventually consistent: wait until the closed runs report their lengths.
  let runs: RunInfo[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    runs = await runsByQuery(client, query);
    if (runs.length >= expectedRuns && runs.every((r) => r.status !== 'RUNNING' && r.historyLength > 0)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const parents = runs.filter((r) => r.type === parentType);
  const children = runs.filter((r) => r.type !== parentType);
  const stats: HistoryStats = {
    largestParentRun: Math.max(0, ...parents.map((r) => r.historyLength)),
    largestChild: Math.max(0, ...children.map((r) => r.historyLength)),
    parentRuns: parents.length,
    children: children.length,
    perIdentity: {},
    historiesRead: 0,
    activitiesByType: {},
    totalEvents: runs.reduce((s, r) => s + r.historyLength, 0),
    perIdentityByType: {},
  };
  const step = Math.max(1, Math.ceil(children.length / Math.max(1, maxHistories - parents.length)));
  const toRead = [...parents, ...children.filter((_, i) => i % step === 0)];
  let next = 0;
  const lane = async () => {
    while (next < toRead.length) {
      const run = toRead[next++]!;
      const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      stats.historiesRead++;
      const scheduledTypes = new Map<string, string>();
      for (const e of history.events ?? []) {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
        if (name && e.eventId != null) scheduledTypes.set(String(e.eventId), name);
        const started = e.activityTaskStartedEventAttributes;
        if (started?.identity) {
          (stats.perIdentity[started.identity] ??= { activities: 0, workflowTasks: 0 }).activities++;
          const type = scheduledTypes.get(String(started.scheduledEventId)) ?? '?';
          const byType = (stats.perIdentityByType[started.identity] ??= {});
          byType[type] = (byType[type] ?? 0) + 1;
        }
        const wft = e.workflowTaskStartedEventAttributes;
        if (wft?.identity) (stats.perIdentity[wft.identity] ??= { activities: 0, workflowTasks: 0 }).workflowTasks++;
        const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
        if (scheduled) stats.activitiesByType[scheduled] = (stats.activitiesByType[scheduled] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return stats;
}
