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
    runs.push({
      workflowId: w.workflowId,
      runId: w.runId,
      type: w.type,
      historyLength: w.historyLength,
      status: w.status.name,
    });
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
  /**
   * Where the time went, over the histories read: per activity type, per workflow task (parent or child) and per
   * child start, how many, the summed wait (scheduled/initiated to started) and the summed run (started to done).
   */
  timings: Record<string, { count: number; waitMs: number; runMs: number }>;
}

type EventTime = { seconds?: unknown; nanos?: number | null } | null | undefined;
const ms = (t: EventTime): number => (t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0);

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
    timings: {},
  };
  const time = (key: string, waitMs: number, runMs: number) => {
    const t = (stats.timings[key] ??= { count: 0, waitMs: 0, runMs: 0 });
    t.count++;
    t.waitMs += waitMs;
    t.runMs += runMs;
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
      const at = new Map<string, number>();
      const role = run.type === parentType ? 'parent' : 'child';
      for (const e of history.events ?? []) {
        const id = String(e.eventId);
        const now = ms(e.eventTime);
        at.set(id, now);
        const wfStarted = e.workflowTaskStartedEventAttributes;
        if (wfStarted) at.set(`wft-wait:${id}`, now - (at.get(String(Number(e.eventId) - 1)) ?? now));
        const wfDone = e.workflowTaskCompletedEventAttributes;
        if (wfDone) {
          const startedAt = at.get(String(wfDone.startedEventId)) ?? now;
          time(`workflow task (${role})`, at.get(`wft-wait:${String(wfDone.startedEventId)}`) ?? 0, now - startedAt);
        }
        const actStarted = e.activityTaskStartedEventAttributes;
        if (actStarted)
          at.set(
            `act-wait:${String(actStarted.scheduledEventId)}`,
            now - (at.get(String(actStarted.scheduledEventId)) ?? now),
          );
        const actDone = e.activityTaskCompletedEventAttributes;
        if (actDone) {
          const sched = String(actDone.scheduledEventId);
          time(
            `activity ${scheduledTypes.get(sched) ?? '?'}`,
            at.get(`act-wait:${sched}`) ?? 0,
            now - (at.get(String(actDone.startedEventId)) ?? now),
          );
        }
        const childStarted = e.childWorkflowExecutionStartedEventAttributes;
        if (childStarted) at.set(`child-start:${String(childStarted.initiatedEventId)}`, now);
        const childDone = e.childWorkflowExecutionCompletedEventAttributes;
        if (childDone) {
          const initiated = String(childDone.initiatedEventId);
          const startedAt = at.get(`child-start:${initiated}`) ?? now;
          time(
            'child workflow (initiated -> started, started -> completed seen by parent)',
            startedAt - (at.get(initiated) ?? startedAt),
            now - startedAt,
          );
        }
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
