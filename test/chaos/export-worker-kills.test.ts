import type { S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { createStackS3Client } from '../../worker/deps';
import {
  EXPORT_BATCH_SIZE,
  finishedBatches,
  retriedActivities,
  startExport,
  verifyExport,
  type ExportOutcome,
} from './support/export';
import { Redis } from 'ioredis';
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
import { chaosStackDown, chaosStackUp, type ChaosStack } from './support/private-stack';
import { chaosSeed, note, startChaosWorker, type ChaosWorker } from './support/worker';
import { prng } from '../helpers/random';
import { waitFor } from '../helpers/wait';

// Fault injection on the private stack: a worker SIGKILLed at seeded random moments of an export, three times, a
// new worker started after each kill. The result must be exactly the clean run's: the same objects byte for byte
// (sha256 per path relative to the export prefix), no duplicate rows, one email.

jest.setTimeout(300_000);

const KILLS = 3;

describe('chaos: worker SIGKILLed at random moments', () => {
  let stack: ChaosStack;
  let connection: Connection;
  let client: Client;
  let s3: S3Client;
  let redis: Redis;
  const workers: ChaosWorker[] = [];
  const taskQueue = `chaos-export-kill-${randomBytes(4).toString('hex')}`;
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await chaosStackUp('chaos_export_kills', { projects: 60, issues: 3000 });
    env = {
      ...stack.env,
      TEMPORAL_TASK_QUEUE_EXPORT: taskQueue,
      TEMPORAL_TASK_QUEUE_BULK_UPDATE: `${taskQueue}-bulk`,
      EXPORT_BATCH_SIZE: String(EXPORT_BATCH_SIZE),
      EXPORT_CREDENTIALS_PURGE_DELAY_MS: '500',
      ...BULK_ENV,
    };
    await addBulkProjects(stack.sql);
    redis = new Redis(stack.config.REDIS_URL);
    connection = await Connection.connect(temporalConnectionOptions(stack.config));
    client = new Client({ connection, namespace: stack.config.TEMPORAL_NAMESPACE });
    s3 = createStackS3Client(stack.config);
  });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await connection?.close();
    s3?.destroy();
    await redis?.quit();
    await chaosStackDown(stack);
  });

  it('an export finishes after three kills with exactly the objects of a clean run', async () => {
    const { sql, config } = stack;
    // The clean run: one worker, nothing happens to it.
    const cleanWorker = await startChaosWorker(env);
    workers.push(cleanWorker);
    note('clean export starting');
    const clean = await startExport(sql, config, client, taskQueue);
    const reference: ExportOutcome = await verifyExport(sql, s3, config, clean);
    note(`clean export done: ${reference.batches} batches, ${Object.keys(reference.objects).length} objects`);
    await cleanWorker.stop();
    expect(reference.batches).toBeGreaterThan(100);

    // The same export again, its worker killed when the seeded random share of the clean run's batches is written.
    const seed = chaosSeed();
    const random = prng(seed).next;
    // Kills land in the first two thirds, leaving each new worker's start-up (several seconds of retries and
    // heartbeat timeouts) room to happen before the operation could finish.
    const targets = Array.from({ length: KILLS }, () => 0.1 + random() * 0.55)
      .sort((a, b) => a - b)
      .map((share) => Math.floor(share * reference.batches));
    const chaos = await startExport(sql, config, client, taskQueue);
    const killedAt: number[] = [];
    for (const target of targets) {
      const worker = await startChaosWorker(env);
      workers.push(worker);
      const done = await waitFor(
        async () => {
          const n = await finishedBatches(sql, chaos.exportId);
          return n >= target ? n : undefined;
        },
        120_000,
        { everyMs: 20, what: `${target} finished batches` },
      );
      await worker.kill();
      note(`worker killed at ${done} finished batches (target ${target})`);
      killedAt.push(done);
      // Killed mid-way: the export is not finished yet.
      expect(done).toBeLessThan(reference.batches);
    }
    const last = await startChaosWorker(env);
    workers.push(last);
    const outcome = await verifyExport(sql, s3, config, chaos);

    expect(outcome.rows).toBe(reference.rows);
    expect(outcome.batches).toBe(reference.batches);
    expect(Object.keys(outcome.objects).length).toBe(Object.keys(reference.objects).length);
    expect(outcome.objects).toEqual(reference.objects);
    // The kills were survived by retries, not avoided.
    expect(await retriedActivities(client, chaos.exportId)).toBeGreaterThan(0);
    process.stdout.write(
      `chaos export kills (seed ${seed}): killed at ${killedAt.join(', ')} of ${reference.batches} batches; ` +
        `${Object.keys(outcome.objects).length} objects identical to the clean run\n`,
    );
  });

  it('a bulk update finishes after three kills with exact counts, no duplicate rows and one email', async () => {
    const { sql, config } = stack;
    // The export case's last worker polls the bulk queue too: stop it, or it runs the operation before any kill.
    for (const worker of workers.splice(0)) await worker.stop();
    const scenario = await prepareBulkScenario(sql);
    const seed = chaosSeed() + 1;
    const random = prng(seed).next;
    const total = scenario.projects.length;
    // Kills land in the first two thirds, leaving each new worker's start-up (several seconds of retries and
    // heartbeat timeouts) room to happen before the operation could finish.
    const targets = Array.from({ length: KILLS }, () => 0.1 + random() * 0.55)
      .sort((a, b) => a - b)
      .map((share) => Math.floor(share * total));
    const started = await startOperation(sql, client, `${taskQueue}-bulk`, scenario);
    const watch = watchRedis(redis, started.operationId);
    const killedAt: number[] = [];
    for (const target of targets) {
      // One batch in flight at a time: the per-project pace stays well behind the poll, so the kill lands mid-run.
      const worker = await startChaosWorker({ ...env, BULK_UPDATE_MAX_CONCURRENT_BATCHES: '1' });
      workers.push(worker);
      const done = await waitFor(
        async () => {
          const n = await projectsDone(sql, started.operationId);
          return n >= target ? n : undefined;
        },
        120_000,
        { everyMs: 10, what: `${target} projects done` },
      );
      await worker.kill();
      note(`worker killed at ${done} of ${total} projects done (target ${target})`);
      killedAt.push(done);
      expect(done).toBeLessThan(total);
    }
    const last = await startChaosWorker(env);
    workers.push(last);
    const result = await verifyOperation(sql, redis, config, client, scenario, started);
    await watch.stop();
    // While it ran, Redis counted every project at most once: counters only grew and never passed the totals, and
    // before the cleanup they reached them.
    expectMonotonic(watch.samples, scenario);
    const seen = watch.samples.filter((x) => x.exists);
    expect(seen.length).toBeGreaterThan(0);
    const lastSeen = seen[seen.length - 1]!;
    process.stdout.write(
      `chaos bulk kills (seed ${seed}): killed at ${killedAt.join(', ')} of ${total} projects; result ` +
        `${result.successfulItems} successful / ${result.failedItems} failed; last Redis sample ${lastSeen.successful}/${lastSeen.failed}\n`,
    );
  });
});
