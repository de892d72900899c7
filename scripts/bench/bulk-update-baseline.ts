import { readFileSync } from 'node:fs';
import { processBatch } from '../../activities/bulk-update/process-batch';
import { notifyFailures } from '../../activities/bulk-update/notify';
import { createRedisStore, type FailedItem } from '../../db/bulk-update/redis-store';
import {
  cleanupTracking,
  collectPage,
  createTracking,
  finishRun,
  planRun,
  startRun,
} from '../../activities/bulk-update/scheduling';
import { loadConfig } from '../../contracts/config';
import { closeDeps, createDeps } from '../../worker/deps';
import { loadEnvFile } from '../../contracts/env-file';
import { COLLECT_PAGE_SIZE } from '../../contracts/bulk-update';

// The bulk update as a plain Node script, without Temporal: the activities' own functions (collect, plan,
// tracking, processBatch in its per-project evaluation, GitLab's loop: a transaction and a Redis write per project, the failure email, cleanup) called in
// the workflow's order, batches in a sliding window as wide as the workflow's. Its own process, with the worker's
// clients (same pool size, same Redis client), so the comparison is the orchestration and nothing else.
// Usage: tsx scripts/bench/bulk-update-baseline.ts @options.json  -> one JSON line on stdout.

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

async function main(): Promise<void> {
  const arg = process.argv[2] ?? '';
  const opts = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as BulkBaselineOptions;
  loadEnvFile();
  const config = loadConfig({ ...process.env, DATABASE_URL: opts.databaseUrl });
  const deps = createDeps(config, 'bench-bulk-baseline');
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
    let next = 0;
    let successful = 0;
    let failed = 0;
    const lane = async () => {
      while (next < plan.batchCount) {
        const batchNumber = next++;
        const r = await processBatch(
          { sql: deps.sql, store, heartbeat: () => undefined, evaluation: 'per-project' },
          { operationId, batchNumber },
        );
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

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bulk-update-baseline: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
