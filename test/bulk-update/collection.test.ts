import { randomBytes } from 'node:crypto';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { UNAUTHORIZED_MESSAGE } from '../../activities/bulk-update/attribute-rules';
import { AccessLevel } from '../../db/access';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import type { BulkUpdateWorkflow } from '../../workflows/bulk-update/bulk-update.workflow';
import { createUser, linksOf, outcomesOf, projectsUnder } from './support/instance';
import { startRunningWorker, type RunningWorker } from './support/running-worker';

// Groups expand to their projects as BulkUpdateSchedulerWorker does: a group the user can read brings every project
// of its hierarchy, private ones included, and each project the user may not change fails on its own with GitLab's
// message; a requested project the user cannot read is dropped silently.

describe('which projects a bulk update collects', () => {
  let tw: RunningWorker;
  beforeAll(async () => {
    tw = await startRunningWorker('bulk-collection');
  });
  afterAll(async () => tw?.stop());

  it('takes every project of a readable group, private ones too, and fails those the user may not change', async () => {
    const { sql } = tw.deps;
    const org1 = await namespaceIdByPath(sql, 'gitlab-org');
    const org2 = await namespaceIdByPath(sql, 'org-2');
    // Maintainer of org-2 only; gitlab-org is public, so readable, but none of its projects is administrable.
    const userId = await createUser(sql, `bulk-collect-${randomBytes(3).toString('hex')}`, [
      { sourceType: 'Namespace', sourceId: org2, level: AccessLevel.MAINTAINER },
    ]);
    const attribute = await attributeIdByName(sql, 'org-2', 'Payments');
    const org1Projects = await projectsUnder(sql, org1);
    const privates = await sql<{ id: number }[]>`
      select p.id from projects p where p.id = any(${org1Projects}::bigint[]) and p.visibility_level = 0`;
    expect(privates.length).toBeGreaterThan(0);
    // A private project of another root the user cannot read, asked for directly.
    const [hidden] = await sql<{ id: number }[]>`
      select p.id from projects p join namespaces n on n.id = p.namespace_id
      where n.traversal_ids[1] not in (${org1}, ${org2}) and p.visibility_level = 0 order by p.id limit 1`;
    const before = await linksOf(sql, org1Projects);

    const started = await startBulkUpdate(
      { sql, client: tw.client, taskQueue: tw.taskQueue },
      {
        userId,
        groupIds: [org1],
        projectIds: hidden ? [hidden.id] : [],
        attributeIds: [attribute],
        mode: 'ADD',
      },
    );
    const result = await tw.client.workflow.getHandle<typeof BulkUpdateWorkflow>(started.workflowId).result();
    expect(result).toMatchObject({
      totalItems: org1Projects.length,
      successfulItems: 0,
      failedItems: org1Projects.length,
    });
    const outcomes = await outcomesOf(sql, started.operationId);
    expect(outcomes.map((o) => o.project_id)).toEqual(org1Projects);
    for (const o of outcomes) {
      expect(o).toMatchObject({ outcome: 'failed', error_code: 'service_error', error_message: UNAUTHORIZED_MESSAGE });
    }
    expect(await linksOf(sql, org1Projects)).toEqual(before);
  });
});
