import type { PortableType } from '../../contracts/offline-export';
import type { Db } from '../sql';

/** Names of groups and projects, keyed `<type>:<id>`; ids that name nothing are absent. */
export async function portableNames(
  db: Db,
  portables: readonly { portableType: PortableType; portableId: number }[],
): Promise<Map<string, string>> {
  if (portables.length === 0) return new Map();
  const ids = (type: PortableType) => portables.filter((p) => p.portableType === type).map((p) => p.portableId);
  const rows = await db<{ kind: PortableType; id: number; name: string }[]>`
    select 'group' as kind, id, name from namespaces where id = any(${ids('group')}::bigint[])
    union all
    select 'project', id, name from projects where id = any(${ids('project')}::bigint[])`;
  return new Map(rows.map((r) => [`${r.kind}:${r.id}`, r.name]));
}
