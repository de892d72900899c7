import { randomBytes } from 'node:crypto';
import { processBatchRange, type RangeProgress } from '../../activities/bulk-update/process-batch';
import { createRedisStore } from '../../db/bulk-update/redis-store';
import { generateOperationId } from '../../contracts/operation-id';
import {
  collectPage,
  createTracking,
  planRun,
  startRun,
  type SchedulingDeps,
} from '../../activities/bulk-update/scheduling';
import { AccessLevel } from '../../db/access';
import { migrate } from '../../db/migrate';
import { insertOperation } from '../../db/bulk-update/operations';
import { seedInstance } from '../../db/seed/generate';
import type { Sql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { closeDeps, createDeps, type Deps } from '../../worker/deps';
import { OPERATION_TYPE_ATTRIBUTE_UPDATE } from '../../contracts/bulk-update';
import { createScratchDatabase } from '../helpers/database';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { createUser, linksOf, outcomesOf, projectsUnder, redisKeysOf } from './support/instance';

// A range of batches (one child workflow's one activity) whose first attempt dies part-way: the retry resumes at
// the batch its heartbeat names, carrying the totals of the finished ones, and nothing is applied or counted twice,
// in PostgreSQL or in Redis; a retry whose heartbeat was lost goes through the whole range again, just as exactly.

jest.setTimeout(120_000);

const BATCH = 3;

describe('a range of batches retried after its first attempt died', () => {
  let scratch: { url: string; sql: Sql; drop: () => Promise<void> };
  let deps: Deps;

  beforeAll(async () => {
    scratch = await createScratchDatabase(`bulk_range_${randomBytes(3).toString('hex')}`);
    await migrate(scratch.sql);
    await seedInstance(scratch.sql, { projects: 150, issues: 0 });
    // The worker's clients; the activity's function is called directly, as each attempt of it would be.
    deps = createDeps({ ...loadConfig(), DATABASE_URL: scratch.url }, 'test-bulk-range');
  });
  afterAll(async () => {
    if (deps) await closeDeps(deps);
    await scratch?.drop();
  });

  it('resumes at the heartbeated batch with exact totals, links and Redis counts', async () => {
    const { sql } = scratch;
    const store = createRedisStore(deps.redis);
    const org1 = await namespaceIdByPath(sql, 'gitlab-org');
    const userId = await createUser(sql, `bulk-range-${randomBytes(3).toString('hex')}`, [
      { sourceType: 'Namespace', sourceId: org1, level: AccessLevel.MAINTAINER },
    ]);
    const identity = await attributeIdByName(sql, 'gitlab-org', 'Identity');
    const projects = await projectsUnder(sql, org1);
    const before = await linksOf(sql, projects);

    // The scheduler's steps, as BulkUpdateWorkflow runs them.
    const operationId = generateOperationId(OPERATION_TYPE_ATTRIBUTE_UPDATE, userId);
    await insertOperation(sql, {
      id: operationId,
      operationType: OPERATION_TYPE_ATTRIBUTE_UPDATE,
      userId,
      workflowId: `test-range:${operationId}`,
      mode: 'ADD',
      attributeIds: [identity],
      groupIds: [org1],
      projectIds: [],
    });
    const scheduling: SchedulingDeps = {
      sql,
      store,
      batchSize: BATCH,
      maxConcurrentBatches: 1,
      maxBatchesPerRun: 100,
      maxBatchesPerChild: 4,
    };
    await startRun(scheduling, { operationId, workflowId: `test-range:${operationId}` });
    for (let after = 0; ;) {
      const page = await collectPage(scheduling, { operationId, afterProjectId: after, pageSize: 2000 });
      after = page.lastProjectId;
      if (page.done) break;
    }
    const plan = await planRun(scheduling, { operationId, batchSize: BATCH });
    expect(plan).toMatchObject({ totalItems: projects.length, tracked: true });
    await createTracking(scheduling, { operationId });
    const range = { operationId, batchNumber: 1, lastBatchNumber: 4 };
    const rangeProjects = projects.slice(BATCH, 5 * BATCH);

    // First attempt: dies as batch 3 starts (its heartbeat is the last thing it does); batches 1 and 2 are done.
    const beats: { batchNumber: number; range: RangeProgress }[] = [];
    let recorded: unknown;
    const dying = processBatchRange(
      {
        sql,
        store,
        heartbeat: (details) => {
          const d = details as { batchNumber: number; range: RangeProgress };
          if (d.batchNumber === 3) throw new Error('worker killed');
          beats.push(d);
          recorded = details;
        },
      },
      range,
    );
    await expect(dying).rejects.toThrow('worker killed');
    expect((recorded as { range: RangeProgress }).range).toEqual({
      nextBatch: 3,
      projects: 2 * BATCH,
      successful: 2 * BATCH,
      failed: 0,
      appliedNow: 2 * BATCH,
    });
    const doneAfterFirst = (await outcomesOf(sql, operationId))
      .filter((o) => o.outcome !== null)
      .map((o) => o.project_id);
    expect(doneAfterFirst).toEqual(rangeProjects.slice(0, 2 * BATCH));

    // The retry, given that heartbeat: starts at batch 3 and reports the whole range.
    const resumedBatches = new Set<number>();
    const resumed = await processBatchRange(
      {
        sql,
        store,
        resume: recorded,
        heartbeat: (d) => resumedBatches.add((d as { batchNumber: number }).batchNumber),
      },
      range,
    );
    expect([...resumedBatches].sort()).toEqual([3, 4]);
    expect(resumed).toEqual({
      batchNumber: 1,
      lastBatchNumber: 4,
      batches: 4,
      projects: 4 * BATCH,
      successful: 4 * BATCH,
      failed: 0,
      appliedNow: 4 * BATCH,
    });

    // A retry that lost the heartbeat goes through every batch again: nothing is applied, the totals are the same.
    const again = await processBatchRange({ sql, store, heartbeat: () => undefined }, range);
    expect(again).toMatchObject({ projects: 4 * BATCH, successful: 4 * BATCH, failed: 0, appliedNow: 0 });

    // Exactly the range's projects gained the attribute, once; Redis counted each once.
    const after = await linksOf(sql, projects);
    for (const id of projects) {
      const had = before.get(id)!;
      const expected =
        rangeProjects.includes(id) && !had.includes(identity) ? [...had, identity].sort((a, b) => a - b) : had;
      expect([id, after.get(id)]).toEqual([id, expected]);
    }
    expect(await store.getOperation(operationId)).toMatchObject({
      total_items: projects.length,
      successful_items: 4 * BATCH,
      failed_items: 0,
    });

    // A cancelled range stops before its next batch and says why.
    const controller = new AbortController();
    controller.abort(new Error('cancelled by the parent'));
    await expect(
      processBatchRange(
        { sql, store, heartbeat: () => undefined, signal: controller.signal },
        { operationId, batchNumber: 5, lastBatchNumber: 6 },
      ),
    ).rejects.toThrow('cancelled by the parent');
    expect((await outcomesOf(sql, operationId)).filter((o) => o.outcome !== null)).toHaveLength(4 * BATCH);

    await store.deleteOperation(operationId);
    expect(await redisKeysOf(deps.redis, operationId)).toBe(0);
  });
});
