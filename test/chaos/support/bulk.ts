import type { Client } from '@temporalio/client';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { createRedisStore, failedItemsKey, operationKey, recordedItemsKey } from '../../../db/bulk-update/redis-store';
import { startBulkUpdate, type StartedBulkUpdate } from '../../../client/bulk-update/start-bulk-update';
import { AccessLevel } from '../../../db/access';
import { addProjectsToRoot } from '../../../db/seed/extra-projects';
import { attributeIdByName, namespaceIdByPath } from '../../../db/seed/lookups';
import type { Sql } from '../../../db/sql';
import { createUser, linksOf, projectsUnder } from '../../bulk-update/support/instance';
import type { Config } from '../../../contracts/config';
import { waitForOperationMail } from '../../helpers/mail';
import type { BulkUpdateWorkflow } from '../../../workflows/bulk-update/bulk-update.workflow';
import type { BulkUpdateWorkflowResult } from '../../../contracts/bulk-update';

// A bulk update over the seed's second root group (org-2), padded with extra projects so it runs long enough for
// faults to land mid-operation: ADD 'Internet facing' for a Maintainer; every project that already has 'Internal'
// (same single-selection category) fails with a service error, every other one gains the attribute.

export const BULK_ROOT = 'org-2';
export const EXTRA_BULK_PROJECTS = 340;
/**
 * Small batches, few at once, at most three per child: over a dozen batch children, each a range of batches, so a
 * fault always finds some done and some to do, and often lands inside a range (its retry resumes from the heartbeat).
 */
export const BULK_ENV = {
  BULK_UPDATE_BATCH_SIZE: '8',
  BULK_UPDATE_MAX_CONCURRENT_BATCHES: '2',
  BULK_UPDATE_BATCHES_PER_CHILD: '3',
};

/** Adds the extra projects under org-2's groups (with routes, 'Internal' on every tenth). Run once per database. */
export async function addBulkProjects(sql: Sql): Promise<void> {
  const rootId = await namespaceIdByPath(sql, BULK_ROOT);
  await addProjectsToRoot(sql, { rootId, count: EXTRA_BULK_PROJECTS, slug: 'chaos-project', label: 'Chaos project' });
}

export interface BulkScenario {
  rootId: number;
  userId: number;
  email: string;
  attributeId: number;
  projects: number[];
  conflicting: number[];
  before: Map<number, number[]>;
}

/** Each operation starts from the same state: no project of org-2 has 'Internet facing'; a fresh Maintainer. */
export async function prepareBulkScenario(sql: Sql): Promise<BulkScenario> {
  const rootId = await namespaceIdByPath(sql, BULK_ROOT);
  const internetFacing = await attributeIdByName(sql, BULK_ROOT, 'Internet facing');
  const internal = await attributeIdByName(sql, BULK_ROOT, 'Internal');
  await sql`delete from project_to_security_attributes where security_attribute_id = ${internetFacing}`;
  const username = `chaos-${randomBytes(4).toString('hex')}`;
  const userId = await createUser(sql, username, [
    { sourceType: 'Namespace', sourceId: rootId, level: AccessLevel.MAINTAINER },
  ]);
  const projects = await projectsUnder(sql, rootId);
  const before = await linksOf(sql, projects);
  const conflicting = projects.filter((id) => before.get(id)!.includes(internal));
  return {
    rootId,
    userId,
    email: `${username}@example.test`,
    attributeId: internetFacing,
    projects,
    conflicting,
    before,
  };
}

export function startOperation(
  sql: Sql,
  client: Client,
  taskQueue: string,
  s: BulkScenario,
): Promise<StartedBulkUpdate> {
  return startBulkUpdate(
    { sql, client, taskQueue },
    { userId: s.userId, groupIds: [s.rootId], attributeIds: [s.attributeId], mode: 'ADD' },
  );
}

/** Projects with an outcome in PostgreSQL: the progress a fault is timed against. */
export async function projectsDone(sql: Sql, operationId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(outcome)::int as n from background_operation_projects where operation_id = ${operationId}`;
  return row?.n ?? 0;
}

export interface RedisSample {
  at: number;
  exists: boolean;
  total: number;
  successful: number;
  failed: number;
}

/** Samples the operation's Redis hash every `everyMs` until stopped; errors (Redis down) are samples too. */
export function watchRedis(redis: Redis, operationId: string, everyMs = 25) {
  const store = createRedisStore(redis);
  const samples: RedisSample[] = [];
  let errors = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const op = await store.getOperation(operationId);
        samples.push(
          op
            ? {
                at: Date.now(),
                exists: true,
                total: op.total_items,
                successful: op.successful_items,
                failed: op.failed_items,
              }
            : { at: Date.now(), exists: false, total: 0, successful: 0, failed: 0 },
        );
      } catch {
        errors++;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    samples,
    errors: () => errors,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Counters that only go up and never pass the exact totals, between two moments. */
export function expectMonotonic(samples: RedisSample[], scenario: BulkScenario): void {
  const expectedFailed = scenario.conflicting.length;
  const expectedSuccessful = scenario.projects.length - expectedFailed;
  let prev: RedisSample | undefined;
  for (const s of samples.filter((x) => x.exists)) {
    expect(s.total).toBe(scenario.projects.length);
    expect(s.successful).toBeLessThanOrEqual(expectedSuccessful);
    expect(s.failed).toBeLessThanOrEqual(expectedFailed);
    if (prev) {
      expect(s.successful).toBeGreaterThanOrEqual(prev.successful);
      expect(s.failed).toBeGreaterThanOrEqual(prev.failed);
    }
    prev = s;
  }
}

/**
 * The exact outcome whatever happened during the run: the workflow's result, one outcome row per project, the
 * intended attribute links and no duplicate link rows, no Redis keys left, exactly one failure email with the
 * exact summary.
 */
export async function verifyOperation(
  sql: Sql,
  redis: Redis,
  config: Config,
  client: Client,
  s: BulkScenario,
  started: StartedBulkUpdate,
): Promise<BulkUpdateWorkflowResult> {
  const result = await client.workflow.getHandle<typeof BulkUpdateWorkflow>(started.workflowId).result();
  const failed = s.conflicting.length;
  const successful = s.projects.length - failed;
  expect(result).toMatchObject({
    totalItems: s.projects.length,
    successfulItems: successful,
    failedItems: failed,
    notification: 'sent',
  });

  const outcomes = await sql<{ project_id: number; outcome: string | null; error_code: string | null }[]>`
    select project_id, outcome, error_code from background_operation_projects where operation_id = ${started.operationId} order by project_id`;
  expect(outcomes.map((o) => Number(o.project_id))).toEqual(s.projects);
  expect(outcomes.filter((o) => o.outcome === null)).toEqual([]);
  expect(outcomes.filter((o) => o.outcome === 'failed').map((o) => Number(o.project_id))).toEqual(s.conflicting);
  expect(new Set(outcomes.filter((o) => o.outcome === 'failed').map((o) => o.error_code))).toEqual(
    new Set(['service_error']),
  );

  const duplicates = await sql`
    select project_id, security_attribute_id from project_to_security_attributes
    group by project_id, security_attribute_id having count(*) > 1`;
  expect(duplicates).toEqual([]);
  const after = await linksOf(sql, s.projects);
  const wrong = s.projects.filter((id) => {
    const expected = s.conflicting.includes(id)
      ? s.before.get(id)!
      : [...s.before.get(id)!, s.attributeId].sort((a, b) => a - b);
    return JSON.stringify(after.get(id)) !== JSON.stringify(expected);
  });
  expect(wrong).toEqual([]);

  expect(
    await redis.exists(
      operationKey(started.operationId),
      failedItemsKey(started.operationId),
      recordedItemsKey(started.operationId),
    ),
  ).toBe(0);

  const mails = await waitForOperationMail(started.operationId, 20_000, config);
  expect(mails).toHaveLength(1);
  expect(mails[0]!.to.map((t) => t.address)).toEqual([s.email]);
  expect(mails[0]!.text).toContain(`Total items: ${s.projects.length}\nSuccessful: ${successful}\nFailed: ${failed}`);
  return result;
}
