import { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { createOfflineExport, type CreateOfflineExportDeps } from '../../client/offline-export/create-service';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import { setFeatureFlag } from '../../db/access';
import { migrate } from '../../db/migrate';
import { SEED_USERS, seedInstance } from '../../db/seed/generate';
import type { Sql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { createScratchDatabase } from '../helpers/database';
import { expectExportRefused } from './fixture';

// The switches that turn offline exports off: the offline_transfer_exports feature flag and the application
// settings. Flipping them in the shared test database would change what other test files see, so this file seeds
// a small database of its own.

const config = loadConfig();
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let sql: Sql;
let connection: Connection;
let temporal: Client;
const started: string[] = [];

const alice = { id: SEED_USERS.owner.id };
const bob = { id: SEED_USERS.maintainer.id };

const deps = (): CreateOfflineExportDeps => ({
  sql,
  temporal,
  config,
  taskQueue: `test-export-switches-${randomUUID().slice(0, 8)}`,
});

const validBody = () => devBucketExportBody(config, ['gitlab-org']);

const expectRefused = (user: { id: number }, request: unknown, status: number, message: string) =>
  expectExportRefused(deps(), user, request, status, message);

const setSetting = (
  column: 'offline_transfer_exports_enabled' | 'allow_s3_compatible_storage_for_offline_transfer',
  on: boolean,
) => sql`update application_settings set ${sql({ [column]: on })}, updated_at = now() where id = 1`;

beforeAll(async () => {
  scratch = await createScratchDatabase('export_switches', { temporalNamespace: true });
  sql = scratch.sql;
  await migrate(sql);
  await seedInstance(sql, { projects: 10, issues: 0 });
  connection = await Connection.connect(temporalConnectionOptions(config));
  // Its export ids start at 1 like the shared database's: its workflows go to its own namespace.
  temporal = new Client({ connection, namespace: scratch.namespace! });
});

afterAll(async () => {
  await Promise.allSettled(started.map((id) => temporal.workflow.getHandle(id).terminate('test cleanup')));
  await connection?.close();
  await scratch?.drop();
});

afterEach(async () => {
  await setFeatureFlag(sql, 'offline_transfer_exports', true);
  await sql`delete from feature_flag_actors where name = 'offline_transfer_exports'`;
  await setSetting('offline_transfer_exports_enabled', true);
  await setSetting('allow_s3_compatible_storage_for_offline_transfer', true);
});

describe('createOfflineExport: switches', () => {
  it('refuses every request while the feature flag is off', async () => {
    await setFeatureFlag(sql, 'offline_transfer_exports', false);
    await expectRefused(alice, validBody(), 422, 'offline_transfer_exports feature flag must be enabled.');
    // The flag is checked first: even a request that is wrong in every other way gets only this message.
    await expectRefused(alice, {}, 422, 'offline_transfer_exports feature flag must be enabled.');
  });

  it('lets a user through when the flag is on for that user only', async () => {
    await setFeatureFlag(sql, 'offline_transfer_exports', false);
    await sql`insert into feature_flag_actors (name, actor_type, actor_id) values ('offline_transfer_exports', 'User', ${alice.id})`;
    await expectRefused(bob, validBody(), 422, 'offline_transfer_exports feature flag must be enabled.');
    const { export: entity, workflowId } = await createOfflineExport(deps(), alice, validBody());
    started.push(workflowId);
    expect(entity.status).toBe('created');
  });

  it('answers 404 while the instance setting offline_transfer_exports_enabled is off, as the API does', async () => {
    await setSetting('offline_transfer_exports_enabled', false);
    await expectRefused(alice, validBody(), 404, '404 Not Found');
  });

  it('refuses S3-compatible storage unless allow_s3_compatible_storage_for_offline_transfer is on', async () => {
    await setSetting('allow_s3_compatible_storage_for_offline_transfer', false);
    await expectRefused(alice, validBody(), 422, 'Validation failed: Provider is not included in the list');
  });
});
