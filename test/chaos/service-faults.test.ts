import type { S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { createStackS3Client } from '../../worker/deps';
import {
  addBulkProjects,
  BULK_ENV,
  expectMonotonic,
  prepareBulkScenario,
  projectsDone,
  startOperation,
  verifyOperation,
  watchRedis,
} from './support/bulk';
import {
  EXPORT_BATCH_SIZE,
  finishedBatches,
  retriedActivities,
  startExport,
  verifyExport,
  type ExportOutcome,
} from './support/export';
import { bouncePrivatePostgres } from './support/private-postgres';
import { bounceService, chaosStackDown, chaosStackUp, type ChaosStack } from './support/private-stack';
import { note, startChaosWorker, type ChaosWorker } from './support/worker';
import { waitFor } from '../helpers/wait';

// Fault injection on the private stack, one server at a time, while one worker keeps running: the Temporal dev
// server restarted (its SQLite persists), the S3 server stopped for 30 s, Redis restarted (it keeps nothing), the
// PostgreSQL cluster restarted. Each export must end with exactly the objects of the clean run made in beforeAll,
// each bulk update with exact counts, the intended links and one email.

jest.setTimeout(240_000);

describe('chaos: servers taken away mid-run', () => {
  let stack: ChaosStack;
  let connection: Connection;
  let client: Client;
  let s3: S3Client;
  let redis: Redis;
  let worker: ChaosWorker;
  let reference: ExportOutcome;
  const taskQueue = `chaos-faults-${randomBytes(4).toString('hex')}`;
  const bulkQueue = `${taskQueue}-bulk`;

  beforeAll(async () => {
    stack = await chaosStackUp('chaos_service_faults', { projects: 60, issues: 3000 });
    await addBulkProjects(stack.sql);
    const env = {
      ...stack.env,
      ...BULK_ENV,
      TEMPORAL_TASK_QUEUE_EXPORT: taskQueue,
      TEMPORAL_TASK_QUEUE_BULK_UPDATE: bulkQueue,
      EXPORT_BATCH_SIZE: String(EXPORT_BATCH_SIZE),
      EXPORT_CREDENTIALS_PURGE_DELAY_MS: '500',
    };
    connection = await Connection.connect(temporalConnectionOptions(stack.config));
    client = new Client({ connection, namespace: stack.config.TEMPORAL_NAMESPACE });
    s3 = createStackS3Client(stack.config);
    redis = new Redis(stack.config.REDIS_URL, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    worker = await startChaosWorker(env);
    const clean = await startExport(stack.sql, stack.config, client, taskQueue);
    reference = await verifyExport(stack.sql, s3, stack.config, clean);
    note(`clean export: ${reference.batches} batches, ${Object.keys(reference.objects).length} objects`);
  }, 180_000);
  afterAll(async () => {
    await worker?.stop();
    await connection?.close();
    s3?.destroy();
    redis?.disconnect();
    await chaosStackDown(stack);
  });

  /** Polls through the fault: a refused query is "not yet". */
  const progress = (fn: () => Promise<number>, atLeast: number, what: string) =>
    waitFor(
      async () => {
        const n = await fn().catch(() => -1);
        return n >= atLeast ? n : undefined;
      },
      120_000,
      { everyMs: 20, what },
    );

  it('the Temporal dev server restarted mid-way: the export and the bulk update both complete', async () => {
    const { sql, config } = stack;
    const scenario = await prepareBulkScenario(sql);
    const exp = await startExport(sql, config, client, taskQueue);
    const op = await startOperation(sql, client, bulkQueue, scenario);
    const atExport = await progress(
      () => finishedBatches(sql, exp.exportId),
      Math.floor(reference.batches * 0.3),
      'export progress',
    );
    const atBulk = await progress(() => projectsDone(sql, op.operationId), 1, 'bulk progress');
    await bounceService(stack, 'temporal', 2_000);
    note(
      `temporal restarted at ${atExport}/${reference.batches} batches, ${atBulk}/${scenario.projects.length} projects`,
    );
    expect(atExport).toBeLessThan(reference.batches);
    expect(atBulk).toBeLessThan(scenario.projects.length);
    // The client's connection outlives the restart too.
    const outcome = await verifyExport(sql, s3, config, exp);
    expect(outcome.objects).toEqual(reference.objects);
    await verifyOperation(sql, redis, config, client, scenario, op);
  });

  it('the S3 server stopped for 30 s mid-export: relation exports retry and the export completes with the same objects', async () => {
    const { sql, config } = stack;
    const exp = await startExport(sql, config, client, taskQueue);
    const at = await progress(
      () => finishedBatches(sql, exp.exportId),
      Math.floor(reference.batches * 0.3),
      'export progress',
    );
    const stoppedAt = Date.now();
    await bounceService(stack, 'minio', 30_000);
    note(`minio down for ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s from ${at}/${reference.batches} batches`);
    expect(at).toBeLessThan(reference.batches);
    const outcome = await verifyExport(sql, s3, config, exp);
    expect(outcome.objects).toEqual(reference.objects);
    // Evidence the outage was survived rather than missed: relations retried in-process by the chunk activity
    // (its log) or activity attempts retried by Temporal.
    const inProcess = worker
      .output()
      .split('\n')
      .filter((l) => l.includes('relation export failed; retrying') && l.includes(String(exp.exportId))).length;
    note(
      `relation retries in the chunk activity: ${inProcess}; activity attempts retried: ${await retriedActivities(client, exp.exportId)}`,
    );
    expect(inProcess + (await retriedActivities(client, exp.exportId))).toBeGreaterThan(0);
  });

  it('Redis restarted mid-operation (its data gone): final counts and the one email are right', async () => {
    const { sql, config } = stack;
    const scenario = await prepareBulkScenario(sql);
    const op = await startOperation(sql, client, bulkQueue, scenario);
    const watch = watchRedis(redis, op.operationId);
    const at = await progress(
      () => projectsDone(sql, op.operationId),
      Math.floor(scenario.projects.length * 0.25),
      'bulk progress',
    );
    const restartedAt = Date.now();
    await bounceService(stack, 'redis', 1_000);
    note(`redis restarted at ${at}/${scenario.projects.length} projects`);
    expect(at).toBeLessThan(scenario.projects.length);
    await verifyOperation(sql, redis, config, client, scenario, op);
    await watch.stop();
    expectMonotonic(
      watch.samples.filter((x) => x.at < restartedAt),
      scenario,
    );
    const after = watch.samples.filter((x) => x.at > restartedAt + 1_000);
    note(
      `redis samples after the restart: ${after.length}, with the operation: ${after.filter((x) => x.exists).length}`,
    );
    // The next batch finds the record gone and rebuilds it from PostgreSQL: it reappears with the right total and
    // its counters grow again without ever passing the totals, until the cleanup deletes it.
    const rebuilt = after.filter((x) => x.exists);
    expect(rebuilt.length).toBeGreaterThan(0);
    expect(rebuilt.every((x) => x.total === scenario.projects.length)).toBe(true);
    expectMonotonic(rebuilt, scenario);
  });

  it('PostgreSQL restarted mid-run: activities retry and both workflows complete', async () => {
    const { sql, config } = stack;
    const scenario = await prepareBulkScenario(sql);
    const exp = await startExport(sql, config, client, taskQueue);
    const op = await startOperation(sql, client, bulkQueue, scenario);
    const atExport = await progress(
      () => finishedBatches(sql, exp.exportId),
      Math.floor(reference.batches * 0.3),
      'export progress',
    );
    const atBulk = await progress(() => projectsDone(sql, op.operationId), 1, 'bulk progress');
    await bouncePrivatePostgres(3_000);
    note(
      `postgres restarted at ${atExport}/${reference.batches} batches, ${atBulk}/${scenario.projects.length} projects`,
    );
    expect(atExport).toBeLessThan(reference.batches);
    expect(atBulk).toBeLessThan(scenario.projects.length);
    const outcome = await verifyExport(sql, s3, config, exp);
    expect(outcome.objects).toEqual(reference.objects);
    await verifyOperation(sql, redis, config, client, scenario, op);
    // Evidence the outage was survived rather than missed: relations retried in-process by the chunk activity
    // (its log) or activity attempts retried by Temporal.
    const inProcess = worker
      .output()
      .split('\n')
      .filter((l) => l.includes('relation export failed; retrying') && l.includes(String(exp.exportId))).length;
    note(
      `relation retries in the chunk activity: ${inProcess}; activity attempts retried: ${await retriedActivities(client, exp.exportId)}`,
    );
    expect(inProcess + (await retriedActivities(client, exp.exportId))).toBeGreaterThan(0);
  });
});
