import { randomBytes } from 'node:crypto';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { AccessLevel } from '../../db/access';
import { migrate } from '../../db/migrate';
import { seedInstance } from '../../db/seed/generate';
import type { Sql } from '../../db/sql';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { bulkUpdateBatchRangeWorkflowId, type BulkUpdateWorkflowResult } from '../../contracts/bulk-update';
import { createScratchDatabase } from '../helpers/database';
import { waitForOperationMail } from '../helpers/mail';
import { waitFor } from '../helpers/wait';
import { createUser, linksOf, outcomesOf, projectsUnder, redisKeysOf } from './support/instance';
import { startRunningWorker, type RunningWorker } from './support/running-worker';

// A range of batches whose work fails for good (its child workflow is terminated while a project of it is stuck
// in the database) does not stop the operation: its projects without an outcome become unexpected_error failed
// items carrying the failure's message, the other ranges go on, every count stays exact and the email lists them.
// Recording the failure waits for the stuck batch's rows, still locked by the abandoned attempt's transaction (one
// per batch: all of the batch or none of it); when that transaction dies (its connection is killed), the batch's
// projects are failed like the rest, never both.

jest.setTimeout(180_000);

const BATCH = 4;
const STUCK_LOCK = 731_942;
const REASON = 'operator gave up on this range';
// What the parent sees of a terminated child: Temporal's TerminatedFailure, whose message is this.
const RECORDED = 'Terminated';

describe('a range of batches that fails for good', () => {
  let scratch: { url: string; sql: Sql; drop: () => Promise<void> };
  let tw: RunningWorker;

  beforeAll(async () => {
    scratch = await createScratchDatabase(`bulk_failed_range_${randomBytes(3).toString('hex')}`);
    await migrate(scratch.sql);
    await seedInstance(scratch.sql, { projects: 60, issues: 0 });
    tw = await startRunningWorker('bulk-failed-range', {
      DATABASE_URL: scratch.url,
      BULK_UPDATE_BATCH_SIZE: BATCH,
      BULK_UPDATE_BATCHES_PER_CHILD: 1,
      BULK_UPDATE_MAX_CONCURRENT_BATCHES: 2,
    });
  });
  afterAll(async () => {
    await tw?.stop();
    await scratch?.drop();
  });

  it('fails the unprocessed projects of that range only, goes on with the others and reports them', async () => {
    const { sql } = scratch;
    const org1 = await namespaceIdByPath(sql, 'gitlab-org');
    const username = `bulk-failed-range-${randomBytes(3).toString('hex')}`;
    const userId = await createUser(sql, username, [
      { sourceType: 'Namespace', sourceId: org1, level: AccessLevel.MAINTAINER },
    ]);
    const identity = await attributeIdByName(sql, 'gitlab-org', 'Identity');
    const projects = await projectsUnder(sql, org1);
    const before = await linksOf(sql, projects);
    const fresh = projects.filter((id) => !before.get(id)!.includes(identity));
    // The stuck project: the second one of a full batch near the middle, one that gets a new link, so its batch
    // has a project decided before it and projects after it (all in the batch's one transaction).
    const batches = Math.floor(projects.length / BATCH);
    const stuckBatch = [...Array(batches).keys()]
      .sort((a, b) => Math.abs(a - batches / 2) - Math.abs(b - batches / 2))
      .find((b) => fresh.includes(projects[b * BATCH + 1]!))!;
    const stuck = projects[stuckBatch * BATCH + 1]!;

    // Its link insert waits for an advisory lock the test holds.
    const holder = await sql.reserve();
    await holder`select pg_advisory_lock(${STUCK_LOCK})`;
    await sql.unsafe(`
      create function bulk_test_stuck() returns trigger language plpgsql as $$
      begin
        if new.project_id = ${stuck} then perform pg_advisory_xact_lock(${STUCK_LOCK}); end if;
        return new;
      end $$;
      create trigger bulk_test_stuck before insert on project_to_security_attributes
        for each row execute function bulk_test_stuck();`);
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await holder`select pg_advisory_unlock(${STUCK_LOCK})`;
      holder.release();
    };

    try {
      const started = await startBulkUpdate(
        { sql, client: tw.client, taskQueue: tw.taskQueue },
        { userId, groupIds: [org1], projectIds: [], attributeIds: [identity], mode: 'ADD' },
      );
      const handle = tw.client.workflow.getHandle(started.workflowId);

      // The range's activity is stuck on the project; the operator terminates the range's child workflow.
      await waitFor(
        async () => {
          const [waiting] = await sql<{ n: number }[]>`
            select count(*)::int as n from pg_locks
            where locktype = 'advisory' and objid = ${STUCK_LOCK} and not granted`;
          return waiting!.n > 0 ? true : undefined;
        },
        60_000,
        { what: 'the stuck project to wait on the lock' },
      );
      const childId = bulkUpdateBatchRangeWorkflowId(started.operationId, stuckBatch, stuckBatch);
      await tw.client.workflow.getHandle(childId).terminate(REASON);

      // The parent records the range's failure; that waits on the stuck project's row, still locked by the
      // abandoned attempt's transaction. The attempt's connection dies: its transaction rolls back.
      await waitFor(
        async () => {
          const [blocked] = await sql<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity
            where query like '%unexpected_error%' and wait_event_type = 'Lock'`;
          return blocked!.n > 0 ? true : undefined;
        },
        60_000,
        { what: 'the failure to be recorded' },
      );
      await sql`
        select pg_terminate_backend(pid) from pg_locks
        where locktype = 'advisory' and objid = ${STUCK_LOCK} and not granted`;

      const result = (await handle.result()) as BulkUpdateWorkflowResult;
      const outcomes = await outcomesOf(sql, started.operationId);
      const failed = outcomes.filter((o) => o.outcome === 'failed');
      const rangeProjects = projects.slice(stuckBatch * BATCH, (stuckBatch + 1) * BATCH);
      // The batch is decided in one transaction, which the stuck project held: every project of it, the one decided
      // before the stuck one included, is a failed item with the failure's message, and none has a link applied.
      const abandoned = rangeProjects;

      const unexpected = outcomes.filter((o) => o.error_code === 'unexpected_error');
      expect(unexpected.map((o) => o.project_id)).toEqual(abandoned);
      for (const o of unexpected) {
        expect(o).toMatchObject({ outcome: 'failed', error_message: RECORDED, error_details: [] });
      }
      expect(outcomes.map((o) => o.project_id)).toEqual(projects);
      expect(outcomes.every((o) => o.outcome !== null)).toBe(true);

      // Every other range went on; the counts are exact.
      expect(result).toMatchObject({
        totalItems: projects.length,
        successfulItems: projects.length - failed.length,
        failedItems: failed.length,
        notification: 'sent',
      });
      const after = await linksOf(sql, projects);
      for (const o of outcomes) {
        const expected =
          o.outcome === 'failed'
            ? before.get(o.project_id)!
            : [...new Set([...before.get(o.project_id)!, identity])].sort((a, b) => a - b);
        expect([o.project_id, after.get(o.project_id)]).toEqual([o.project_id, expected]);
      }
      expect(await redisKeysOf(tw.deps.redis, started.operationId)).toBe(0);
      const [record] = await sql<{ status: string }[]>`
        select status from background_operations where id = ${started.operationId}`;
      expect(record!.status).toBe('finished');

      // One email, listing them.
      const mails = await waitForOperationMail(started.operationId);
      expect(mails).toHaveLength(1);
      expect(mails[0]!.text).toContain(`Failed: ${failed.length}`);
      expect(mails[0]!.text.match(new RegExp(` - ${RECORDED}\\n`, 'g'))).toHaveLength(abandoned.length);
    } finally {
      await release();
      await sql.unsafe(`drop trigger if exists bulk_test_stuck on project_to_security_attributes`);
    }
  });
});
