import type { Db } from '../sql';

/**
 * The destination instance of an offline import, before anything is imported: users with tokens
 * (`glpat-seed-<username>`, as the source's seed), the import flag on, and one empty group `landing` that alice owns
 * (bob Maintainer, carol Developer), so imports can land at the root or inside a group. Never any group content:
 * everything else arrives through the import. Idempotent: an existing user or group is kept.
 */
export const DESTINATION_USERS = {
  root: { id: 1, username: 'root' }, // administrator
  owner: { id: 2, username: 'alice' }, // Owner of landing
  maintainer: { id: 3, username: 'bob' },
  developer: { id: 4, username: 'carol' },
  blocked: { id: 7, username: 'frank' },
  outsider: { id: 8, username: 'grace' },
} as const;

export const LANDING_GROUP = { id: 1, path: 'landing' } as const;

export async function seedDestination(sql: Db): Promise<void> {
  const users = Object.values(DESTINATION_USERS);
  await sql`
    insert into users (id, username, name, email, state, admin)
    select u.id, u.username, initcap(u.username), u.username || '@destination.test',
           case when u.username = 'frank' then 'blocked' else 'active' end, u.username = 'root'
    from jsonb_to_recordset(${sql.json(users)}::jsonb) as u(id bigint, username text)
    on conflict do nothing`;
  await sql`
    insert into personal_access_tokens (user_id, name, token_digest, scopes)
    select id, 'seed', encode(sha256(convert_to('glpat-seed-' || username, 'UTF8')), 'hex'), '{api}' from users
    where id = any(${users.map((u) => u.id)}::bigint[])
    on conflict do nothing`;
  await sql`
    insert into feature_flags (name, enabled) values ('offline_transfer_imports', true), ('offline_transfer_exports', true)
    on conflict (name) do nothing`;
  await sql`
    insert into namespaces (id, name, path, traversal_ids, visibility_level, description)
    values (${LANDING_GROUP.id}, 'Landing', ${LANDING_GROUP.path}, ${[LANDING_GROUP.id]}::bigint[], 20,
            'Where imported groups land')
    on conflict do nothing`;
  await sql`
    insert into routes (source_id, source_type, path, name)
    values (${LANDING_GROUP.id}, 'Namespace', ${LANDING_GROUP.path}, 'Landing') on conflict do nothing`;
  await sql`
    insert into members (user_id, source_id, source_type, access_level)
    values (2, ${LANDING_GROUP.id}, 'Namespace', 50), (3, ${LANDING_GROUP.id}, 'Namespace', 40),
           (4, ${LANDING_GROUP.id}, 'Namespace', 30)
    on conflict do nothing`;
  // Explicit ids above: move the identity sequences past them, so what the import creates never collides.
  for (const table of ['users', 'namespaces', 'routes', 'members', 'personal_access_tokens']) {
    await sql.unsafe(
      `select setval(pg_get_serial_sequence('${table}', 'id'), (select coalesce(max(id), 1) from ${table}))`,
    );
  }
}
