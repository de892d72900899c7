import { randomBytes } from 'node:crypto';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { BulkUpdateRequestError } from '../../client/bulk-update/request';
import { AccessLevel } from '../../db/access';
import { SEED_USERS } from '../../db/seed/generate';
import { startRunningWorker, type RunningWorker } from './support/running-worker';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { createUser } from './support/instance';

// Every refused request names its problem and leaves the instance as it was: no request recorded, no workflow
// started, no attribute link changed.

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
    await refused({ ...valid(), groupIds: [] }, ['Select at least one group or project']);
  });

  it('refuses 101 groups and projects', async () => {
    const projectIds = Array.from({ length: 100 }, (_, i) => i + 1);
    await refused({ ...valid(), projectIds }, ['Select at most 100 groups and projects together (got 101)']);
  });

  it('refuses 21 attributes', async () => {
    const attributeIds = Array.from({ length: 21 }, (_, i) => i + 1);
    await refused({ ...valid(), attributeIds }, ['Select at most 20 security attributes (got 21)']);
  });

  it('refuses a request with no attributes', async () => {
    await refused({ ...valid(), attributeIds: [] }, ['Select at least one security attribute']);
  });

  it('refuses an unknown mode', async () => {
    await refused({ ...valid(), mode: 'MERGE' }, ['mode must be one of ADD, REMOVE, REPLACE']);
  });

  it('refuses an unknown attribute', async () => {
    await refused({ ...valid(), attributeIds: [org2Attribute, 987654] }, [
      "Security attribute 987654 does not exist or you don't have permission to use it",
    ]);
  });

  it('refuses an attribute of another root group than the selected items', async () => {
    await refused({ ...valid(), attributeIds: [org1Attribute] }, [
      `Security attribute ${org1Attribute} (Payments) belongs to the top-level group gitlab-org, but none of the selected groups and projects is in that group`,
    ]);
  });

  it('refuses an attribute the user may not administer, the same way as an unknown one', async () => {
    await refused({ ...valid(), userId: SEED_USERS.developer.id }, [
      `Security attribute ${org2Attribute} does not exist or you don't have permission to use it`,
    ]);
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
