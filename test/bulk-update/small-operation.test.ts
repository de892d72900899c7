import { randomBytes } from 'node:crypto';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { AccessLevel } from '../../db/access';
import type { BulkUpdateWorkflow } from '../../workflows/bulk-update/bulk-update.workflow';
import { BULK_OPERATION_ID, bulkUpdateProgressQuery, GITLAB_USER_ID, WORKFLOW_KIND } from '../../contracts/bulk-update';
import { startRunningWorker, type RunningWorker } from './support/running-worker';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { createUser, linksOf, outcomesOf, projectsUnder, redisKeysOf } from './support/instance';
import { waitForOperationMail } from '../helpers/mail';

// An operation over the shared 60-project instance, end to end, with what an operator sees of it.

describe('a small bulk update, end to end and as the Web UI shows it', () => {
  let tw: RunningWorker;
  beforeAll(async () => {
    tw = await startRunningWorker('bulk-small');
  });
  afterAll(async () => tw?.stop());

  it('updates a group and a project, reports the failures by email once, and cleans up Redis', async () => {
    const { sql } = tw.deps;
    const org2 = await namespaceIdByPath(sql, 'org-2');
    const org1 = await namespaceIdByPath(sql, 'gitlab-org');
    const username = `bulk-small-${randomBytes(3).toString('hex')}`;
    const userId = await createUser(
      sql,
      username,
      [{ sourceType: 'Namespace', sourceId: org2, level: AccessLevel.MAINTAINER }],
      `Tester <script>alert(1)</script>`,
    );
    const internetFacing = await attributeIdByName(sql, 'org-2', 'Internet facing');
    const internal = await attributeIdByName(sql, 'org-2', 'Internal');
    // A public project of the other root group: readable, so collected, but not administrable by this user.
    const [foreign] = await sql<{ id: number }[]>`
      select p.id from projects p join namespaces n on n.id = p.namespace_id
      where n.traversal_ids[1] = ${org1} and p.visibility_level = 20 order by p.id limit 1`;
    const org2Projects = await projectsUnder(sql, org2);
    const before = await linksOf(sql, org2Projects);

    const started = await startBulkUpdate(
      { sql, client: tw.client, taskQueue: tw.taskQueue },
      {
        userId,
        groupIds: [org2],
        projectIds: [foreign!.id, org2Projects[0]!],
        attributeIds: [internetFacing],
        mode: 'ADD',
      },
    );
    expect(started.operationId).toMatch(new RegExp(`^attribute_update_${userId}_\\d+_[a-f0-9]{8}$`));
    const handle = tw.client.workflow.getHandle<typeof BulkUpdateWorkflow>(started.workflowId);
    const result = await handle.result();
    const progress = await handle.query(bulkUpdateProgressQuery);
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');

    const withInternal = org2Projects.filter((id) => before.get(id)!.includes(internal));
    expect(withInternal.length).toBeGreaterThan(0);
    expect(result).toMatchObject({
      operationId: started.operationId,
      tracked: true,
      totalItems: org2Projects.length + 1,
      successfulItems: org2Projects.length - withInternal.length,
      failedItems: withInternal.length + 1,
      notification: 'sent',
    });

    // The database holds exactly the intended links.
    const after = await linksOf(sql, org2Projects);
    for (const id of org2Projects) {
      // Other files of the suite share the seed and may have linked 'Internet facing' already: ADD keeps one link.
      const expected = withInternal.includes(id)
        ? before.get(id)!
        : [...new Set([...before.get(id)!, internetFacing])].sort((a, b) => a - b);
      expect([id, after.get(id)]).toEqual([id, expected]);
    }
    const outcomes = await outcomesOf(sql, started.operationId);
    expect(outcomes.find((o) => o.project_id === foreign!.id)).toMatchObject({
      outcome: 'failed',
      error_code: 'service_error',
      error_message: 'You are not authorized to perform this action',
      error_details: [],
    });
    expect(await redisKeysOf(tw.deps.redis, started.operationId)).toBe(0);

    const mails = await waitForOperationMail(started.operationId);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.subject).toBe('Bulk operation failed: Attribute update');
    expect(mail.to[0]?.address).toBe(`${username}@example.test`);
    expect(mail.html).toContain('Tester &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).not.toContain('<script>');
    expect(mail.text).toContain(`Total items: ${org2Projects.length + 1}`);
    expect(mail.text).toContain(`Failed: ${withInternal.length + 1}`);
    expect(mail.html).toContain(`href="http://gitlab.example.test/gitlab-org/`);
    // GitLab's messages, the reasons listed under them.
    expect(mail.text).toContain(' - You are not authorized to perform this action\n');
    expect(mail.text).toMatch(
      / - Invalid attributes\n {4}- Cannot add multiple attributes from the same category \d+\n/,
    );

    // Visibility: the progress query, the summary, the current details and the search attributes.
    expect(progress).toMatchObject({
      operationId: started.operationId,
      phase: 'finished',
      totalItems: org2Projects.length + 1,
      successfulItems: result.successfulItems,
      failedItems: result.failedItems,
      batchesDone: result.batchCount,
      batchesRunning: 0,
    });
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe(`Bulk ADD of 1 security attribute(s) for user ${userId}`);
    expect(await description.staticDetails()).toContain(started.operationId);
    expect(description.typedSearchAttributes.get(BULK_OPERATION_ID)).toBe(started.operationId);
    expect(description.typedSearchAttributes.get(GITLAB_USER_ID)).toBe(userId);
    expect(description.typedSearchAttributes.get(WORKFLOW_KIND)).toBe('bulk-update');
    expect(metadata.currentDetails).toMatch(/^Finished: \d+ projects/);

    const found: string[] = [];
    for await (const wf of tw.client.workflow.list({ query: `BulkOperationId = "${started.operationId}"` })) {
      found.push(wf.workflowId);
    }
    // The parent and its batch children, each named by the contiguous range of batches it ran: together they
    // cover every batch exactly once.
    expect(found).toContain(started.workflowId);
    const ranges = found
      .filter((id) => id !== started.workflowId)
      .map((id) => {
        const m = /^(.*)\/batches:(\d+)-(\d+)$/.exec(id);
        expect([id, m?.[1]]).toEqual([id, started.workflowId]);
        return [Number(m![2]), Number(m![3])] as const;
      })
      .sort((a, b) => a[0] - b[0]);
    const covered = ranges.flatMap(([first, last]) => Array.from({ length: last - first + 1 }, (_, i) => first + i));
    expect(covered).toEqual(Array.from({ length: result.batchCount }, (_, n) => n));
  });
});
