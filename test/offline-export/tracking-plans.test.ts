import { nextChunk } from '../../db/offline-export/chunks';
import { forOfflineExportAndRelation, statusCounts } from '../../db/offline-export/tracking';
import { createSql, type Sql } from '../../db/sql';
import { RelationStatus } from '../../db/offline-export/statuses';
import { insertExport } from './fixture';
import { loadConfig } from '../../contracts/config';

// The plans of the workflow's lookups on bulk_import_exports. Enough rows of other exports are inserted that the
// planner has a real choice; the table is analysed so the plan is the one production statistics would give.

describe('query plans of the offline export tracking', () => {
  const config = loadConfig();
  let sql: Sql;
  let exportId: number;
  beforeAll(async () => {
    sql = createSql(config.DATABASE_URL, { max: 2 });
    ({ exportId } = await insertExport(sql, config, 2, ['gitlab-org']));
    // 200 other exports of one project with every relation: 1,600 rows around ours.
    await sql`
      with e as (insert into import_offline_exports (user_id) select 2 from generate_series(1, 200) returning id)
      insert into bulk_import_exports (offline_export_id, relation, status, project_id)
      select e.id, r, ${RelationStatus.FINISHED}, 1 from e
      cross join unnest(array['self','labels','milestones','issues','merge_requests','releases','protected_branches','project_feature']) r`;
    await sql`analyze bulk_import_exports`;
  });
  afterAll(async () => sql?.end({ timeout: 5 }));

  /** EXPLAIN of a postgres.js query with its parameters. */
  async function plan(query: { describe(): Promise<{ string: string }> }, params: unknown[]): Promise<string> {
    const { string } = await query.describe();
    const rows = await sql.unsafe(`explain ${string}`, params as never[]);
    return rows.map((r) => (r as Record<string, string>)['QUERY PLAN']).join('\n');
  }

  it('for_offline_export_and_relation uses index_bulk_import_exports_on_offline_export_id_and_relation', async () => {
    const explained = await plan(forOfflineExportAndRelation(sql, exportId, 'self'), [exportId, 'self']);
    process.stdout.write(`for_offline_export_and_relation:\n${explained}\n`);
    expect(explained).toMatch(/Index Scan using index_bulk_import_exports_on_offline_export_id_and_relation/);
    expect(await forOfflineExportAndRelation(sql, exportId, 'self')).toHaveLength(1);
  });

  it('the next chunk of portables is read through the same index, not a scan of the table', async () => {
    const explained = await plan(
      sql`select e.id from bulk_import_exports e
          where e.offline_export_id = ${exportId} and e.relation = 'self' and e.id > ${0}
            and e.status in (${RelationStatus.PENDING}, ${RelationStatus.STARTED}) order by e.id limit ${20}`,
      [exportId, 0, RelationStatus.PENDING, RelationStatus.STARTED, 20],
    );
    expect(explained).toMatch(/index_bulk_import_exports_on_offline_export_id_and_(relation|status)/);
    expect(explained).not.toMatch(/Seq Scan on bulk_import_exports/);
    expect((await nextChunk(sql, exportId, 0, 20))?.firstPath).toBe('gitlab-org');
  });

  it('counting rows by status uses index_bulk_import_exports_on_offline_export_id_and_status', async () => {
    const explained = await plan(
      sql`select status, count(*)::int as n from bulk_import_exports where offline_export_id = ${exportId} group by status`,
      [exportId],
    );
    process.stdout.write(`status counts:\n${explained}\n`);
    expect(explained).toMatch(/index_bulk_import_exports_on_offline_export_id_and_(status|relation)/);
    expect(explained).not.toMatch(/Seq Scan on bulk_import_exports/);
    expect(await statusCounts(sql, exportId)).toMatchObject({ pending: 1, total: 1 });
  });
});
