import type { ChunkPortable } from '../../contracts/offline-export';
import type { Db } from '../sql';
import { RelationStatus } from './statuses';

/**
 * Each portable of a chunk, (afterSelfId, lastSelfId] of an export's 'self' rows, in row order: its type, id, full
 * path (its route now) and how many of its relation rows exist, finished and failed. What the chunk child indexes in
 * PortableFullPaths and answers its status query with.
 */
export async function chunkPortableSummaries(
  sql: Db,
  exportId: number,
  afterSelfId: number,
  lastSelfId: number,
): Promise<ChunkPortable[]> {
  const rows = await sql<
    {
      portableType: 'group' | 'project';
      portableId: number;
      fullPath: string | null;
      total: number;
      finished: number;
      failed: number;
    }[]
  >`
    with s as (
      select id, group_id, project_id from bulk_import_exports
      where offline_export_id = ${exportId} and relation = 'self' and id > ${afterSelfId} and id <= ${lastSelfId})
    select case when s.group_id is not null then 'group' else 'project' end as "portableType",
           coalesce(s.group_id, s.project_id) as "portableId",
           (select r.path from routes r
             where r.source_id = coalesce(s.group_id, s.project_id)
               and r.source_type = case when s.group_id is not null then 'Namespace' else 'Project' end) as "fullPath",
           count(e.id)::int as total,
           count(e.id) filter (where e.status = ${RelationStatus.FINISHED})::int as finished,
           count(e.id) filter (where e.status = ${RelationStatus.FAILED})::int as failed
    from s
    join bulk_import_exports e on e.offline_export_id = ${exportId}
      and ((s.group_id is not null and e.group_id = s.group_id) or (s.project_id is not null and e.project_id = s.project_id))
    group by s.id, s.group_id, s.project_id
    order by s.id`;
  return rows.map((r) => ({
    portableType: r.portableType,
    portableId: r.portableId,
    fullPath: r.fullPath ?? '',
    relations: { total: r.total, finished: r.finished, failed: r.failed },
  }));
}
