import { randomBytes } from 'node:crypto';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { AccessLevel } from '../../db/access';
import type { BulkUpdateWorkflow } from '../../workflows/bulk-update/bulk-update.workflow';
import { bulkUpdateProgressQuery } from '../../contracts/bulk-update';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { createUser, linksOf, projectsUnder } from './support/instance';
import { startRunningWorker, type RunningWorker } from './support/running-worker';

// The scheduler continues as new every BULK_UPDATE_BATCHES_PER_RUN batches, so a 100,000-project operation is a
// chain of short runs. Small settings make the chain visible on the 60-project instance.

describe('BulkUpdateWorkflow continuing as new', () => {
  let tw: RunningWorker;
  beforeAll(async () => {
    tw = await startRunningWorker('bulk-can', {
      BULK_UPDATE_BATCH_SIZE: 2,
      BULK_UPDATE_BATCHES_PER_RUN: 4,
      BULK_UPDATE_MAX_CONCURRENT_BATCHES: 3,
    });
  });
  afterAll(async () => tw?.stop());

  it('carries its cursor and counters across runs and keeps every run short', async () => {
    const { sql } = tw.deps;
    const org1 = await namespaceIdByPath(sql, 'gitlab-org');
    const userId = await createUser(sql, `bulk-can-${randomBytes(3).toString('hex')}`, [
      { sourceType: 'Namespace', sourceId: org1, level: AccessLevel.MAINTAINER },
    ]);
    const identity = await attributeIdByName(sql, 'gitlab-org', 'Identity');
    const projects = await projectsUnder(sql, org1);
    const started = await startBulkUpdate(
      { sql, client: tw.client, taskQueue: tw.taskQueue },
      { userId, groupIds: [org1], attributeIds: [identity], mode: 'ADD' },
    );
    const handle = tw.client.workflow.getHandle<typeof BulkUpdateWorkflow>(started.workflowId);
    const result = await handle.result();

    const batches = Math.ceil(projects.length / 2);
    expect(result).toMatchObject({
      totalItems: projects.length,
      successfulItems: projects.length,
      failedItems: 0,
      batchCount: batches,
      runs: Math.ceil(batches / 4),
    });
    const after = await linksOf(sql, projects);
    for (const id of projects) expect(after.get(id)).toContain(identity);
    expect(await handle.query(bulkUpdateProgressQuery)).toMatchObject({ batchesDone: batches, runs: result.runs - 1 });

    const runs: { status: string; historyLength: number }[] = [];
    for await (const wf of tw.client.workflow.list({ query: `WorkflowId = "${started.workflowId}"` })) {
      runs.push({ status: wf.status.name, historyLength: wf.historyLength });
    }
    expect(runs).toHaveLength(result.runs);
    expect(runs.filter((r) => r.status === 'CONTINUED_AS_NEW')).toHaveLength(result.runs - 1);
    // Eight-ish events per batch plus a fixed part: a run of 300 batches (the default) stays near 2,500.
    for (const run of runs) expect(run.historyLength).toBeLessThan(4 * 10 + 40);
  });
});
