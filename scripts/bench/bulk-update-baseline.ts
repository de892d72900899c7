import { processBatch } from '../../activities/bulk-update/process-batch';
import { runBulkScript } from './bulk-update-script';

// The bulk update as a plain Node script, without Temporal: the activities' own functions (collect, plan,
// tracking, processBatch in its per-project evaluation, GitLab's loop: a transaction and a Redis write per project, the failure email, cleanup) called in
// the workflow's order, batches in a sliding window as wide as the workflow's. Its own process, with the worker's
// clients (same pool size, same Redis client), so the comparison is the orchestration and nothing else.
// Usage: tsx scripts/bench/bulk-update-baseline.ts @options.json  -> one JSON line on stdout.

if (require.main === module) {
  runBulkScript('bench-bulk-baseline', async ({ deps, store, operationId }) => async (batchNumber) => {
    const r = await processBatch(
      { sql: deps.sql, store, heartbeat: () => undefined, evaluation: 'per-project' },
      { operationId, batchNumber },
    );
    return { successful: r.successful, failed: r.failed };
  }).catch((err: unknown) => {
    process.stderr.write(`bulk-update-baseline: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
