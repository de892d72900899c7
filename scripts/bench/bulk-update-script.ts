import { readFileSync } from 'node:fs';
import { notifyFailures } from '../../activities/bulk-update/notify';
import {
  cleanupTracking,
  collectPage,
  createTracking,
  finishRun,
  planRun,
  startRun,
} from '../../activities/bulk-update/scheduling';
import { COLLECT_PAGE_SIZE } from '../../contracts/bulk-update';
import { loadConfig } from '../../contracts/config';
import { loadEnvFile } from '../../contracts/env-file';
import { createRedisStore, type FailedItem, type RedisStore } from '../../db/bulk-update/redis-store';
import { closeDeps, createDeps } from '../../worker/deps';

// What the bulk update's plain scripts share (the per-project baseline and the set-based limit): the activities' own
// collect, plan, tracking, email, cleanup and finish in the workflow's order, batches in a sliding window as wide
// as the workflow's, in a process of their own with the worker's clients; only how one batch is done differs.

export interface BulkBaselineOptions {
  databaseUrl: string;
  operationId: string;
  workflowId: string;
  batchSize: number;
  lanes: number;
}

export interface RedisSnapshot {
  totalItems: number;
  successfulItems: number;
  failedItems: number;
  status: string;
  /** entity_id:error_message of every failed item, sorted. */
  failed: string[];
}

export interface BulkBaselineResult {
  ms: number;
  /** Time spent reading the Redis snapshot for the comparison (subtracted from ms). */
  snapshotMs: number;
  totalItems: number;
  batches: number;
  successful: number;
  failed: number;
  notification: string;
  redis?: RedisSnapshot;
  peakRssBytes: number;
}

export function snapshotOf(
  op: { total_items: number; successful_items: number; failed_items: number; status: string } | undefined,
  items: FailedItem[],
): RedisSnapshot | undefined {
  if (!op) return undefined;
  return {
    totalItems: op.total_items,
    successfulItems: op.successful_items,
    failedItems: op.failed_items,
    status: op.status,
    failed: items.map((i) => `${i.entity_id}:${i.error_message}`).sort(),
  };
}

export interface BatchScriptContext {
  deps: ReturnType<typeof createDeps>;
  store: RedisStore;
  operationId: string;
  tracked: boolean;
}

export type BatchRunner = (batchNumber: number) => Promise<{ successful: number; failed: number }>;

/** Runs one operation with `makeRunner`'s batches (made once the operation is planned) and prints the result line. */
export async function runBulkScript(
  name: string,
  makeRunner: (ctx: BatchScriptContext) => Promise<BatchRunner>,
): Promise<void> {
  const arg = process.argv[2] ?? '';
  const opts = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as BulkBaselineOptions;
  loadEnvFile();
  const config = loadConfig({ ...process.env, DATABASE_URL: opts.databaseUrl });
  const deps = createDeps(config, name);
  const store = createRedisStore(deps.redis);
  const scheduling = {
    sql: deps.sql,
    store,
    batchSize: opts.batchSize,
    maxConcurrentBatches: opts.lanes,
    maxBatchesPerRun: 1_000,
    maxBatchesPerChild: 1,
  };
  let peak = 0;
  const rss = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  try {
    const started = Date.now();
    const { operationId } = opts;
    await startRun(scheduling, { operationId, workflowId: opts.workflowId });
    let after = 0;
    for (;;) {
      const page = await collectPage(scheduling, { operationId, afterProjectId: after, pageSize: COLLECT_PAGE_SIZE });
      after = page.lastProjectId;
      if (page.done) break;
    }
    const plan = await planRun(scheduling, { operationId, batchSize: opts.batchSize });
    if (plan.tracked && plan.totalItems > 0) await createTracking(scheduling, { operationId });
    const runBatch = await makeRunner({ deps, store, operationId, tracked: plan.tracked });
    let next = 0;
    let successful = 0;
    let failed = 0;
    const lane = async () => {
      while (next < plan.batchCount) {
        const r = await runBatch(next++);
        successful += r.successful;
        failed += r.failed;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.lanes) }, lane));
    let notification = 'not_needed';
    let redis: RedisSnapshot | undefined;
    const snapStarted = Date.now();
    if (plan.tracked && plan.totalItems > 0) {
      redis = snapshotOf(await store.getOperation(operationId), await store.getFailedItems(operationId));
    }
    const snapshotMs = Date.now() - snapStarted;
    if (plan.tracked && plan.totalItems > 0) {
      notification = (
        await notifyFailures(
          { sql: deps.sql, mailer: deps.mailer, mailFrom: config.MAIL_FROM, instanceBaseUrl: config.INSTANCE_BASE_URL },
          { operationId },
        )
      ).notification;
      await cleanupTracking(scheduling, { operationId });
    }
    await finishRun(scheduling, { operationId, status: 'finished' });
    const ms = Date.now() - started - snapshotMs;
    clearInterval(rss);
    peak = Math.max(peak, process.memoryUsage.rss());
    const result: BulkBaselineResult = {
      ms,
      snapshotMs,
      totalItems: plan.totalItems,
      batches: plan.batchCount,
      successful,
      failed,
      notification,
      redis,
      peakRssBytes: peak,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    clearInterval(rss);
    await closeDeps(deps);
  }
}
