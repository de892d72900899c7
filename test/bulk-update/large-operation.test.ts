import { randomBytes } from 'node:crypto';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { failedItemsKey, operationKey, type FailedItem } from '../../db/bulk-update/redis-store';
import { UNAUTHORIZED_MESSAGE } from '../../activities/bulk-update/attribute-rules';
import { AccessLevel } from '../../db/access';
import type { Sql } from '../../db/sql';
import type { BulkUpdateWorkflow } from '../../workflows/bulk-update/bulk-update.workflow';
import { bulkUpdateProgressQuery, type BulkUpdateProgress } from '../../contracts/bulk-update';
import { createBigInstance } from './support/big-instance';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { createUser, linksOf, outcomesOf, projectsUnder, redisKeysOf } from './support/instance';
import { waitForOperationMail } from '../helpers/mail';
import { startRunningWorker, type RunningWorker } from './support/running-worker';

// More than a thousand projects over groups and projects, with every kind of failure: no permission, too many
// attributes, a category conflict and an unexpected exception. Redis is watched while the batches run.

jest.setTimeout(300_000);

interface Observation {
  successful: number;
  failed: number;
  total: number;
  listLength: number;
  distinctFailed: number;
  pgDone: number;
  failedIds: number[];
}

describe('a bulk update of more than a thousand projects', () => {
  let scratch: { url: string; sql: Sql; drop: () => Promise<void> };
  let tw: RunningWorker;

  beforeAll(async () => {
    scratch = await createBigInstance(`bulk_large_${randomBytes(3).toString('hex')}`);
    tw = await startRunningWorker('bulk-large', { DATABASE_URL: scratch.url });
  });
  afterAll(async () => {
    await tw?.stop();
    await scratch?.drop();
  });

  it('counts exactly while running, emails the failures once, cleans up and leaves exactly the intended links', async () => {
    const { sql } = scratch;
    const org1 = await namespaceIdByPath(sql, 'gitlab-org');
    const org2 = await namespaceIdByPath(sql, 'org-2');
    const org3 = await namespaceIdByPath(sql, 'org-3');
    const backend = await namespaceIdByPath(sql, 'gitlab-org/backend');
    const username = `bulk-large-${randomBytes(3).toString('hex')}`;
    const userId = await createUser(sql, username, [
      { sourceType: 'Namespace', sourceId: org1, level: AccessLevel.MAINTAINER },
      // Readable but not administrable: each of these projects fails with GitLab's UnauthorizedError message.
      { sourceType: 'Namespace', sourceId: org2, level: AccessLevel.REPORTER },
    ]);
    const payments = await attributeIdByName(sql, 'gitlab-org', 'Payments');
    const missionCritical = await attributeIdByName(sql, 'gitlab-org', 'Mission critical');
    const internetFacing = await attributeIdByName(sql, 'gitlab-org', 'Internet facing');
    const internal = await attributeIdByName(sql, 'gitlab-org', 'Internal');

    const org1Projects = await projectsUnder(sql, org1);
    const org2Projects = await projectsUnder(sql, org2);
    const before = await linksOf(sql, [...org1Projects, ...org2Projects]);
    const withInternal = org1Projects.filter((id) => before.get(id)!.includes(internal));
    const plain = org1Projects.filter((id) => !withInternal.includes(id));
    // Too many: 19 tags already + 3 requested > 20.
    const tooMany = plain.filter((_, i) => i % 50 === 7);
    const [tags] = await sql<{ id: number }[]>`
      insert into security_categories (namespace_id, name, multiple_selection, editable_state)
      values (${org1}, 'Tags', true, 20) returning id`;
    await sql`
      insert into security_attributes (namespace_id, security_category_id, name, description, color, editable_state)
      select ${org1}, ${tags!.id}, 'tag-' || i, 'Tag ' || i, '#aabbcc', 20 from generate_series(1, 19) i`;
    await sql`
      insert into project_to_security_attributes (project_id, security_attribute_id, traversal_ids)
      select p.id, a.id, n.traversal_ids from projects p join namespaces n on n.id = p.namespace_id
      join security_attributes a on a.security_category_id = ${tags!.id}
      where p.id = any(${tooMany}::bigint[])`;
    // An unexpected exception from the database while linking these projects.
    const exploding = plain.filter((id, i) => i % 97 === 3 && !tooMany.includes(id));
    await sql.unsafe(`
      create function bulk_test_explode() returns trigger language plpgsql as $$
      begin
        if new.project_id = any(array[${exploding.join(',')}]::bigint[]) then
          raise exception 'storage unavailable for project %', new.project_id;
        end if;
        return new;
      end $$;
      create trigger bulk_test_explode before insert on project_to_security_attributes
        for each row execute function bulk_test_explode();`);
    const linksBefore = await linksOf(sql, [...org1Projects, ...org2Projects]);
    const [privateOrg3] = await sql<{ id: number }[]>`
      select p.id from projects p join namespaces n on n.id = p.namespace_id
      where n.traversal_ids[1] = ${org3} and p.visibility_level = 0 order by p.id limit 1`;

    const expectedTotal = org1Projects.length + org2Projects.length;
    expect(expectedTotal).toBeGreaterThanOrEqual(1000);
    // GitLab's message, and the reasons it gave in its payload errors.
    const expectedFailures = new Map<number, string>();
    const expectedDetails = new Map<number, (string | RegExp)[]>();
    for (const id of org2Projects) expectedFailures.set(id, UNAUTHORIZED_MESSAGE);
    for (const id of tooMany) {
      expectedFailures.set(id, 'Too many attributes');
      expectedDetails.set(id, ['Cannot exceed 20 attributes per project']);
    }
    for (const id of withInternal) {
      expectedFailures.set(id, 'Invalid attributes');
      expectedDetails.set(id, [/^Cannot add multiple attributes from the same category \d+$/]);
    }
    for (const id of exploding) expectedFailures.set(id, `storage unavailable for project ${id}`);

    const startedAt = Date.now();
    const started = await startBulkUpdate(
      { sql, client: tw.client, taskQueue: tw.taskQueue },
      {
        userId,
        // Overlapping on purpose: a subgroup of a selected group, projects inside selected groups, and a
        // project the user cannot read (dropped, like GitLab does).
        groupIds: [org1, org2, backend],
        projectIds: [org1Projects[0]!, org1Projects[500]!, org2Projects[3]!, privateOrg3!.id],
        attributeIds: [payments, missionCritical, internetFacing],
        mode: 'ADD',
      },
    );
    const handle = tw.client.workflow.getHandle<typeof BulkUpdateWorkflow>(started.workflowId);

    // Watch Redis (and the query) until the workflow is done.
    const observations: Observation[] = [];
    const progressSeen: BulkUpdateProgress[] = [];
    let done = false;
    const watching = (async () => {
      while (!done) {
        // One MULTI, so the hash and the list are read at the same instant.
        const [[, hash], [, list]] = (await tw.deps.redis
          .multi()
          .hgetall(operationKey(started.operationId))
          .lrange(failedItemsKey(started.operationId), 0, -1)
          .exec()) as [[null, Record<string, string>], [null, string[]]];
        const op = hash.id ? hash : undefined;
        const items = list.map((s) => JSON.parse(s) as FailedItem);
        const [pg] = await sql<{ n: number }[]>`
          select count(*)::int as n from background_operation_projects
          where operation_id = ${started.operationId} and outcome is not null`;
        if (op) {
          const failedIds = items.map((i) => i.entity_id);
          observations.push({
            successful: Number(op.successful_items),
            failed: Number(op.failed_items),
            total: Number(op.total_items),
            listLength: items.length,
            distinctFailed: new Set(failedIds).size,
            pgDone: pg!.n,
            failedIds,
          });
        }
        if (observations.length % 25 === 1) progressSeen.push(await handle.query(bulkUpdateProgressQuery));
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const result = await handle.result().finally(() => {
      done = true;
    });
    await watching;
    const seconds = (Date.now() - startedAt) / 1000;

    expect(result).toMatchObject({
      tracked: true,
      totalItems: expectedTotal,
      failedItems: expectedFailures.size,
      successfulItems: expectedTotal - expectedFailures.size,
      batchCount: Math.ceil(expectedTotal / 50),
      notification: 'sent',
    });

    // While running: never more than PostgreSQL has committed, never a project twice, list and counter agree.
    expect(observations.length).toBeGreaterThan(10);
    let last = { successful: 0, failed: 0 };
    for (const o of observations) {
      expect(o.total).toBe(expectedTotal);
      expect(o.listLength).toBe(o.failed);
      expect(o.distinctFailed).toBe(o.failed);
      expect(o.successful + o.failed).toBeLessThanOrEqual(o.pgDone);
      expect(o.successful).toBeGreaterThanOrEqual(last.successful);
      expect(o.failed).toBeGreaterThanOrEqual(last.failed);
      for (const id of o.failedIds) expect(expectedFailures.has(id)).toBe(true);
      last = o;
    }
    // The last look before the cleanup saw the complete operation, exactly.
    const complete = observations.filter((o) => o.successful + o.failed === expectedTotal);
    expect(complete.length).toBeGreaterThan(0);
    expect(complete[0]!.failed).toBe(expectedFailures.size);
    expect(complete[0]!.failedIds.sort((a, b) => a - b)).toEqual([...expectedFailures.keys()].sort((a, b) => a - b));
    expect(progressSeen.some((p) => p.phase === 'processing' && p.batchesDone < p.batchCount)).toBe(true);

    // Every failed project has the right code and message; the collected set is exactly the readable projects.
    const outcomes = await outcomesOf(sql, started.operationId);
    expect(outcomes.map((o) => o.project_id)).toEqual([...org1Projects, ...org2Projects].sort((a, b) => a - b));
    for (const o of outcomes) {
      const expected = expectedFailures.get(o.project_id);
      if (expected === undefined) {
        expect([o.project_id, o.outcome]).toEqual([o.project_id, 'succeeded']);
      } else {
        expect([o.project_id, o.outcome, o.error_code]).toEqual([
          o.project_id,
          'failed',
          exploding.includes(o.project_id) ? 'unexpected_error' : 'service_error',
        ]);
        expect([o.project_id, o.error_message]).toEqual([o.project_id, expected]);
        const details = expectedDetails.get(o.project_id) ?? [];
        expect(o.error_details).toHaveLength(details.length);
        details.forEach((d, i) => expect(o.error_details[i]).toMatch(d));
      }
    }

    // Exactly the intended links: the three attributes on every successful project, nothing changed elsewhere.
    const after = await linksOf(sql, [...org1Projects, ...org2Projects]);
    for (const [id, links] of linksBefore) {
      const expected = expectedFailures.has(id)
        ? links
        : [...new Set([...links, payments, missionCritical, internetFacing])].sort((a, b) => a - b);
      expect([id, after.get(id)]).toEqual([id, expected]);
    }
    const [unreadable] = await sql<{ n: number }[]>`
      select count(*)::int as n from background_operation_projects where project_id = ${privateOrg3!.id}`;
    expect(unreadable!.n).toBe(0);

    expect(await redisKeysOf(tw.deps.redis, started.operationId)).toBe(0);
    const mails = await waitForOperationMail(started.operationId);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.subject).toBe('Bulk operation failed: Attribute update');
    expect(mail.to[0]?.address).toBe(`${username}@example.test`);
    expect(mail.text).toContain(
      `Total items: ${expectedTotal}\nSuccessful: ${expectedTotal - expectedFailures.size}\nFailed: ${expectedFailures.size}`,
    );
    expect(mail.html).toContain('<p><strong>Failed Projects:</strong></p>');
    expect(mail.html).toContain(' - Too many attributes<ul><li>Cannot exceed 20 attributes per project</li></ul>');
    expect(mail.text).toMatch(
      / - Invalid attributes\n {4}- Cannot add multiple attributes from the same category \d+\n/,
    );
    expect(mail.html.match(/<li><strong><a href="http:\/\/gitlab\.example\.test\//g)).toHaveLength(
      expectedFailures.size,
    );
    for (const id of exploding) expect(mail.html).toContain(`storage unavailable for project ${id}`);
    const history = await handle.fetchHistory();
    process.stdout.write(
      `bulk update: ${expectedTotal} projects in ${seconds.toFixed(1)} s (${(expectedTotal / seconds).toFixed(0)} projects/s), ` +
        `${result.batchCount} batches, parent history ${history.events?.length} events, ${observations.length} Redis observations\n`,
    );
  });
});
