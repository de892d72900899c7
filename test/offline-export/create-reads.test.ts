import { encryptCredentials } from '../../db/offline-export/credentials';
import { insertOfflineExport } from '../../db/offline-export/create';
import { findOfflineExportForUser, listOfflineExportsForUser } from '../../db/offline-export/exports-read';
import { SEED_USERS } from '../../db/seed/generate';
import { createSql, type Sql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { ExportStatus } from '../../db/offline-export/statuses';
import { toEntity } from '../../client/offline-export/entity';
import { namespaceIdByPath } from '../../db/seed/lookups';

// The reads the API serves exports from: scoped to the user, paged, sorted by creation, filtered by status, and
// never carrying the credentials column.

const config = loadConfig();
let sql: Sql;
const reporter = SEED_USERS.reporter.id; // nobody else's tests create exports for dave
const guest = SEED_USERS.guest.id;
const ids: number[] = [];

beforeAll(async () => {
  sql = createSql(config.DATABASE_URL, { max: 2 });
  const group = await namespaceIdByPath(sql, 'gitlab-org');
  for (let i = 0; i < 5; i++) {
    const row = await insertOfflineExport(sql, {
      userId: reporter,
      provider: 0,
      bucket: `bucket-${i}`,
      exportPrefix: `2026-01-0${i + 1}_00-00-00_export_abcdefg${i}`,
      sourceHostname: 'http://gitlab.example.test',
      credentials: encryptCredentials(
        {
          aws_access_key_id: 'AKIAREADS',
          aws_secret_access_key: 'reads-secret',
          region: 'us-east-1',
          path_style: false,
        },
        config.ENCRYPTION_KEY,
      ),
      groupIds: [group],
      projectIds: [],
    });
    ids.push(row.id);
  }
  // Distinct creation times and one finished export, so sorting and filtering have something to tell apart.
  for (const [i, id] of ids.entries()) {
    await sql`update import_offline_exports set created_at = timestamptz '2026-01-01T00:00:00Z' + ${i} * interval '1 hour' where id = ${id}`;
  }
  await sql`update import_offline_exports set status = ${ExportStatus.FINISHED} where id = ${ids[2]!}`;
});

afterAll(async () => {
  await sql`delete from import_offline_exports where id = any(${ids}::bigint[])`;
  await sql.end({ timeout: 5 });
});

describe('offline export reads', () => {
  it('finds an export only for its owner', async () => {
    const row = await findOfflineExportForUser(sql, reporter, ids[0]!);
    expect(row).toMatchObject({ id: ids[0], user_id: reporter, bucket: 'bucket-0', provider: 0 });
    expect(row).not.toHaveProperty('object_storage_credentials');
    expect(JSON.stringify(row)).not.toContain('reads-secret');
    expect(await findOfflineExportForUser(sql, guest, ids[0]!)).toBeUndefined();
  });

  it('lists newest first by default, pages, sorts ascending and filters by status', async () => {
    const firstPage = await listOfflineExportsForUser(sql, reporter, { perPage: 2 });
    expect(firstPage.total).toBe(5);
    expect(firstPage.rows.map((r) => r.id)).toEqual([ids[4], ids[3]]);
    const lastPage = await listOfflineExportsForUser(sql, reporter, { perPage: 2, page: 3 });
    expect(lastPage.rows.map((r) => r.id)).toEqual([ids[0]]);
    const ascending = await listOfflineExportsForUser(sql, reporter, { sort: 'asc' });
    expect(ascending.rows.map((r) => r.id)).toEqual(ids);
    const finished = await listOfflineExportsForUser(sql, reporter, { status: ExportStatus.FINISHED });
    expect(finished).toMatchObject({ total: 1, rows: [{ id: ids[2] }] });
    expect((await listOfflineExportsForUser(sql, guest)).total).toBe(0);
  });

  it('maps a row to the API entity', async () => {
    const row = (await findOfflineExportForUser(sql, reporter, ids[2]!))!;
    expect(toEntity(row)).toEqual({
      id: ids[2],
      status: 'finished',
      source_hostname: 'http://gitlab.example.test',
      created_at: '2026-01-01T02:00:00.000Z',
      updated_at: row.updated_at.toISOString(),
      has_failures: false,
      bucket: 'bucket-2',
      export_prefix: '2026-01-03_00-00-00_export_abcdefg2',
    });
  });
});
