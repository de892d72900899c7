import { randomBytes } from 'node:crypto';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { AccessLevel, setFeatureFlag } from '../../db/access';
import type { BulkUpdateWorkflow } from '../../workflows/bulk-update/bulk-update.workflow';
import { startRunningWorker, type RunningWorker } from './support/running-worker';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { createUser, linksOf, projectsUnder } from './support/instance';
import { mailForOperation } from '../helpers/mail';

const FLAG = 'security_bulk_operations_notifications';

// security_bulk_operations_notifications off: GitLab's legacy BulkUpdateWorker. The same updates happen, with no
// Redis operation at any moment and no email, even though projects fail.

describe('the security_bulk_operations_notifications flag', () => {
  let tw: RunningWorker;
  beforeAll(async () => {
    tw = await startRunningWorker('bulk-flag');
  });
  afterAll(async () => {
    await setFeatureFlag(tw.deps.sql, FLAG, true);
    await tw?.stop();
  });

  it('off: applies the updates with no Redis keys ever and no email', async () => {
    const { sql, redis } = tw.deps;
    const org2 = await namespaceIdByPath(sql, 'org-2');
    const userId = await createUser(sql, `bulk-flag-${randomBytes(3).toString('hex')}`, [
      { sourceType: 'Namespace', sourceId: org2, level: AccessLevel.MAINTAINER },
    ]);
    const projects = await projectsUnder(sql, org2);
    const before = await linksOf(sql, projects);
    // The REPLACE below rewrites every org-2 project's attributes in the instance the other test files share: its
    // links are put back afterwards, so a file that relies on the seed's attributes finds them whatever the order.
    const saved = await sql<{ project_id: number; security_attribute_id: number; traversal_ids: number[] }[]>`
      select project_id, security_attribute_id, traversal_ids from project_to_security_attributes
      where project_id = any(${projects}::bigint[])`;
    try {
      await replaceWithFlagOff();
    } finally {
      await sql.begin(async (tx) => {
        await tx`delete from project_to_security_attributes where project_id = any(${projects}::bigint[])`;
        if (saved.length > 0) await tx`insert into project_to_security_attributes ${tx(saved)}`;
      });
    }

    async function replaceWithFlagOff() {
      const airGapped = await attributeIdByName(sql, 'org-2', 'Air-gapped');
      const search = await attributeIdByName(sql, 'org-2', 'Search');
      await setFeatureFlag(sql, FLAG, false);

      const started = await startBulkUpdate(
        { sql, client: tw.client, taskQueue: tw.taskQueue },
        // REPLACE: every project ends with exactly these two, whatever it had.
        { userId, groupIds: [org2], attributeIds: [airGapped, search], mode: 'REPLACE' },
      );
      const handle = tw.client.workflow.getHandle<typeof BulkUpdateWorkflow>(started.workflowId);
      let keysSeen = 0;
      let polls = 0;
      let done = false;
      const watching = (async () => {
        while (!done) {
          keysSeen += (await redis.keys(`background_operation:${started.operationId}*`)).length;
          polls++;
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const result = await handle.result().finally(() => {
        done = true;
      });
      await watching;

      expect(polls).toBeGreaterThan(5);
      expect(keysSeen).toBe(0);
      expect(result).toMatchObject({
        tracked: false,
        totalItems: projects.length,
        failedItems: 0,
        notification: 'not_needed',
      });
      const after = await linksOf(sql, projects);
      for (const id of projects) expect([id, after.get(id)]).toEqual([id, [search, airGapped].sort((a, b) => a - b)]);
      expect(before.size).toBe(projects.length);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await mailForOperation(started.operationId)).toEqual([]);
    }
  });

  it('off for everyone but on for the root group of the first collected project: tracked', async () => {
    const { sql } = tw.deps;
    const org2 = await namespaceIdByPath(sql, 'org-2');
    const userId = await createUser(sql, `bulk-flag-actor-${randomBytes(3).toString('hex')}`, [
      { sourceType: 'Namespace', sourceId: org2, level: AccessLevel.MAINTAINER },
    ]);
    await setFeatureFlag(sql, FLAG, false);
    await sql`insert into feature_flag_actors (name, actor_type, actor_id) values (${FLAG}, 'Group', ${org2})`;
    try {
      const started = await startBulkUpdate(
        { sql, client: tw.client, taskQueue: tw.taskQueue },
        { userId, groupIds: [org2], attributeIds: [await attributeIdByName(sql, 'org-2', 'Reporting')], mode: 'ADD' },
      );
      const result = await tw.client.workflow.getHandle<typeof BulkUpdateWorkflow>(started.workflowId).result();
      expect(result).toMatchObject({ tracked: true, failedItems: 0, notification: 'not_needed' });
    } finally {
      await sql`delete from feature_flag_actors where name = ${FLAG} and actor_type = 'Group' and actor_id = ${org2}`;
    }
  });
});
