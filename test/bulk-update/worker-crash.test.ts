import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { createRedisStore } from '../../db/bulk-update/redis-store';
import { AccessLevel } from '../../db/access';
import type { Sql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import type { BulkUpdateWorkflow } from '../../workflows/bulk-update/bulk-update.workflow';
import { createBigInstance } from './support/big-instance';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { createUser, linksOf, outcomesOf, projectsUnder, redisKeysOf } from './support/instance';
import { waitForOperationMail } from '../helpers/mail';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

// A worker process is SIGKILLed while batches are in flight; a second worker finishes the operation. Nothing is
// applied or counted twice, nothing is lost, and exactly one email goes out.

jest.setTimeout(300_000);

describe('a worker killed in the middle of a batch', () => {
  let scratch: { url: string; sql: Sql; drop: () => Promise<void> };
  let connection: Connection;
  let client: Client;
  let redis: Redis;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    scratch = await createBigInstance(`bulk_crash_${randomBytes(3).toString('hex')}`);
    const config = loadConfig();
    connection = await Connection.connect(temporalConnectionOptions(config));
    client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    redis = new Redis(config.REDIS_URL);
  });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await connection?.close();
    await redis?.quit();
    await scratch?.drop();
  });

  it('is finished by another worker with exact counts and one email', async () => {
    const { sql } = scratch;
    const taskQueue = `test-bulk-crash-${randomBytes(4).toString('hex')}`;
    // Only the test's task queue, against the scratch database.
    const workerEnv = {
      DATABASE_URL: scratch.url,
      TEMPORAL_TASK_QUEUE_BULK_UPDATE: taskQueue,
      TEMPORAL_TASK_QUEUE_EXPORT: taskQueue,
    };
    const org1 = await namespaceIdByPath(sql, 'gitlab-org');
    const username = `bulk-crash-${randomBytes(3).toString('hex')}`;
    const userId = await createUser(sql, username, [
      { sourceType: 'Namespace', sourceId: org1, level: AccessLevel.MAINTAINER },
    ]);
    const internetFacing = await attributeIdByName(sql, 'gitlab-org', 'Internet facing');
    const internal = await attributeIdByName(sql, 'gitlab-org', 'Internal');
    const projects = await projectsUnder(sql, org1);
    const before = await linksOf(sql, projects);
    const conflicting = projects.filter((id) => before.get(id)!.includes(internal));

    const first = startWorkerProcess(workerEnv);
    workers.push(first);
    await first.ready;
    const started = await startBulkUpdate(
      { sql, client, taskQueue },
      {
        userId,
        groupIds: [org1],
        attributeIds: [internetFacing],
        mode: 'ADD',
      },
    );
    const store = createRedisStore(redis);

    // Kill once roughly a quarter is done, while batches are in flight.
    let seenBeforeKill = 0;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
      const op = await store.getOperation(started.operationId);
      seenBeforeKill = op ? op.successful_items + op.failed_items : 0;
      if (seenBeforeKill >= projects.length / 4) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await first.kill();
    expect(seenBeforeKill).toBeGreaterThan(0);
    // Nothing moves while no worker is alive: the killed process really is gone.
    const atKill = await store.getOperation(started.operationId);
    await new Promise((r) => setTimeout(r, 3000));
    const stillAtKill = await store.getOperation(started.operationId);
    expect(stillAtKill!.successful_items + stillAtKill!.failed_items).toBe(
      atKill!.successful_items + atKill!.failed_items,
    );
    expect(seenBeforeKill).toBeLessThan(projects.length);

    // Evidence that the kill landed mid-run: some batches done and some not. Each batch is one transaction, so
    // none is half done: the killed worker's batches in flight rolled back whole.
    const batches = await sql<{ batch_number: number; done: number; total: number }[]>`
      select batch_number, count(outcome)::int as done, count(*)::int as total
      from background_operation_projects where operation_id = ${started.operationId}
      group by batch_number`;
    const partial = batches.filter((b) => b.done > 0 && b.done < b.total);
    expect(partial).toEqual([]);
    const doneBatches = batches.filter((b) => b.done === b.total).length;
    expect(doneBatches).toBeGreaterThan(0);
    expect(doneBatches).toBeLessThan(batches.length);
    const opBetween = await store.getOperation(started.operationId);
    expect(opBetween!.successful_items + opBetween!.failed_items).toBeLessThan(projects.length);

    const second = startWorkerProcess(workerEnv);
    workers.push(second);
    await second.ready;
    const result = await client.workflow.getHandle<typeof BulkUpdateWorkflow>(started.workflowId).result();

    expect(result).toMatchObject({
      totalItems: projects.length,
      successfulItems: projects.length - conflicting.length,
      failedItems: conflicting.length,
      notification: 'sent',
    });
    const outcomes = await outcomesOf(sql, started.operationId);
    expect(outcomes).toHaveLength(projects.length);
    expect(outcomes.filter((o) => o.outcome === null)).toEqual([]);
    expect(outcomes.filter((o) => o.outcome === 'failed').map((o) => o.project_id)).toEqual(conflicting);

    const after = await linksOf(sql, projects);
    for (const id of projects) {
      const expected = conflicting.includes(id)
        ? before.get(id)!
        : [...before.get(id)!, internetFacing].sort((a, b) => a - b);
      expect([id, after.get(id)]).toEqual([id, expected]);
    }
    expect(await redisKeysOf(redis, started.operationId)).toBe(0);
    const mails = await waitForOperationMail(started.operationId, 30_000);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain(
      `Total items: ${projects.length}\nSuccessful: ${projects.length - conflicting.length}\nFailed: ${conflicting.length}`,
    );
    process.stdout.write(
      `crash test: killed at ${seenBeforeKill}/${projects.length} recorded, ${doneBatches}/${batches.length} batches done; ` +
        `finished by a second worker with exact counts\n`,
    );
  });
});
