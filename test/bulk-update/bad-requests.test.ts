import { randomBytes } from 'node:crypto';
import { RESOURCE_NOT_AVAILABLE, startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { BulkUpdateRequestError } from '../../client/bulk-update/request';
import { AccessLevel } from '../../db/access';
import { SEED_USERS } from '../../db/seed/generate';
import { startRunningWorker, type RunningWorker } from './support/running-worker';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { createUser } from './support/instance';
import type { BulkUpdateWorkflow } from '../../workflows/bulk-update/bulk-update.workflow';

// Every refused request names its problem and leaves the instance as it was: no request recorded, no workflow
// started, no attribute link changed. The limits answer as GitLab's bulkUpdateSecurityAttributes mutation does
// (ee/app/graphql/mutations/security/attributes/bulk_update.rb): its messages, the first one it meets.

describe('BulkUpdateService refuses bad requests', () => {
  let tw: RunningWorker;
  let userId: number;
  let org1: number;
  let org2: number;
  let org2Attribute: number;
  let org1Attribute: number;

  beforeAll(async () => {
    tw = await startRunningWorker('bulk-bad-requests');
    const { sql } = tw.deps;
    org1 = await namespaceIdByPath(sql, 'gitlab-org');
    org2 = await namespaceIdByPath(sql, 'org-2');
    userId = await createUser(sql, `bulk-bad-${randomBytes(3).toString('hex')}`, [
      { sourceType: 'Namespace', sourceId: org1, level: AccessLevel.MAINTAINER },
      { sourceType: 'Namespace', sourceId: org2, level: AccessLevel.MAINTAINER },
    ]);
    org2Attribute = await attributeIdByName(sql, 'org-2', 'Payments');
    org1Attribute = await attributeIdByName(sql, 'gitlab-org', 'Payments');
  });
  afterAll(async () => tw?.stop());

  const snapshot = async () => {
    const [row] = await tw.deps.sql<{ operations: number; links: string }[]>`
      select (select count(*)::int from background_operations) as operations,
             (select md5(coalesce(string_agg(project_id || ':' || security_attribute_id, ',' order by project_id, security_attribute_id), ''))
              from project_to_security_attributes) as links`;
    return row!;
  };

  const refused = async (request: unknown, problems: string[]) => {
    const before = await snapshot();
    const error = await startBulkUpdate({ sql: tw.deps.sql, client: tw.client, taskQueue: tw.taskQueue }, request).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(BulkUpdateRequestError);
    expect((error as BulkUpdateRequestError).problems).toEqual(problems);
    expect(await snapshot()).toEqual(before);
  };

  const valid = () => ({ userId, groupIds: [org2], projectIds: [], attributeIds: [org2Attribute], mode: 'ADD' });

  it('refuses a request with no groups or projects', async () => {
    await refused({ ...valid(), groupIds: [] }, ['Items cannot be empty']);
  });

  it('refuses 101 groups and projects, before any other check', async () => {
    const projectIds = Array.from({ length: 100 }, (_, i) => i + 1);
    await refused({ ...valid(), projectIds }, ['Too many items (maximum: 100)']);
    await refused({ ...valid(), projectIds, attributeIds: [] }, ['Too many items (maximum: 100)']);
  });

  it('refuses 21 attributes', async () => {
    const attributeIds = Array.from({ length: 21 }, (_, i) => i + 1);
    await refused({ ...valid(), attributeIds }, ['Too many attributes (maximum: 20)']);
  });

  it('refuses a request with no attributes, after the items', async () => {
    await refused({ ...valid(), attributeIds: [] }, ['Attributes cannot be empty']);
    await refused({ ...valid(), groupIds: [], attributeIds: [] }, ['Items cannot be empty']);
  });

  it('refuses an unknown mode', async () => {
    await refused({ ...valid(), mode: 'MERGE' }, ['mode must be one of ADD, REMOVE, REPLACE']);
  });

  it('refuses an unknown attribute with the resource-not-available error', async () => {
    await refused({ ...valid(), attributeIds: [org2Attribute, 987654] }, [RESOURCE_NOT_AVAILABLE]);
  });

  it('refuses an attribute the user may not administer, the same way as an unknown one', async () => {
    await refused({ ...valid(), userId: SEED_USERS.developer.id }, [RESOURCE_NOT_AVAILABLE]);
  });

  it('accepts an attribute of another top-level group: ADD fails each project on its own, REMOVE succeeds', async () => {
    const { sql } = tw.deps;
    const started = await startBulkUpdate(
      { sql, client: tw.client, taskQueue: tw.taskQueue },
      { ...valid(), attributeIds: [org1Attribute] },
    );
    const result = await tw.client.workflow.getHandle<typeof BulkUpdateWorkflow>(started.workflowId).result();
    expect(result).toMatchObject({ successfulItems: 0 });
    expect(result.failedItems).toBeGreaterThan(0);
    const messages = await sql<{ error_message: string; n: number }[]>`
      select error_message, count(*)::int as n from background_operation_projects
      where operation_id = ${started.operationId} group by error_message`;
    expect(messages).toEqual([{ error_message: 'Failed to update security attributes', n: result.failedItems }]);

    // REMOVE of an attribute the projects do not have (here: of another top-level group) succeeds, changing nothing.
    const before = await snapshot();
    const removal = await startBulkUpdate(
      { sql, client: tw.client, taskQueue: tw.taskQueue },
      { ...valid(), attributeIds: [org1Attribute], mode: 'REMOVE' },
    );
    const removed = await tw.client.workflow.getHandle<typeof BulkUpdateWorkflow>(removal.workflowId).result();
    expect(removed).toMatchObject({
      totalItems: result.totalItems,
      successfulItems: result.totalItems,
      failedItems: 0,
    });
    expect((await snapshot()).links).toBe(before.links);
  });

  it('refuses unknown and blocked users', async () => {
    await refused({ ...valid(), userId: 99_999_999 }, ['User 99999999 does not exist']);
    await refused({ ...valid(), userId: SEED_USERS.blocked.id }, [
      `User ${SEED_USERS.blocked.id} is blocked and cannot start bulk updates`,
    ]);
  });

  it('lists every problem of a request at once, and rejects unknown fields and non-ids', async () => {
    await refused({ userId, groupIds: ['1'], attributeIds: [], mode: 'add', extra: true }, [
      'groupIds must contain numeric ids',
      'mode must be one of ADD, REMOVE, REPLACE',
      'Unknown field(s): extra',
    ]);
  });
});
