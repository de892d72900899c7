import type { Redis } from 'ioredis';
import { tokenDigest } from '../../db/users';
import type { Sql } from '../../db/sql';
import type { prng } from '../helpers/random';

// Shared pieces of the hostile-input tests: odd strings, a JSON writer that can produce what JSON.stringify cannot
// (duplicate keys, __proto__ keys, lone surrogates) and users of our own. The cases come from the seeded PRNG of
// test/helpers/random.ts (every run sends the same cases, so a failure can be replayed); the "nothing was written"
// snapshot is writtenRows in test/helpers/database.ts.

export type Rng = ReturnType<typeof prng>;

/** Strings that break naive code: control characters, lone surrogates, bidi overrides, emoji, combining marks. */
export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'gitlab-org\u0000',
  '\u0000gitlab-org',
  '\ud800',
  'a\udfffb',
  '\udbff\udfff',
  '\u202egro-baltig',
  '\u200f\u200egitlab-org',
  '\ufeffgitlab-org',
  'gitlab-org\u200b',
  '👩‍👩‍👧‍👦',
  '🚀/🚀',
  'e\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301',
  'Z̴̡̛̗͓̈́a̵͓̍l̸̰̊g̷̣̈ő̶̱',
  '\r\nX-Injected: 1',
  '\t\n\v\f\r',
  '../../etc/passwd',
  'gitlab-org/../org-2',
  '%2e%2e%2f',
  '<script>alert(1)</script>',
  "'; drop table users; --",
  '${jndi:ldap://x}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'GITLAB-ORG',
  'gitlab-org/',
  '/gitlab-org',
  'gitlab-org//backend',
  '\\\\host\\share',
  'ａｂｃ',
  'İstanbul',
  'ß',
  '\u0085\u2028\u2029',
  '\x7f\x1b[31m',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
];

/** A JSON object with explicit pairs, so duplicate keys and "__proto__" can be written. */
export class Pairs {
  constructor(readonly pairs: [string, unknown][]) {}
}
/** Text spliced into the JSON as is (invalid JSON on purpose, or huge literals). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON text of a value; lone surrogates are written as \\u escapes, which JSON allows and JSON.parse keeps. */
export function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof Pairs) return `{${value.pairs.map(([k, v]) => `${str(k)}:${toJson(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (typeof value === 'string') return str(value);
  if (value === undefined) return 'null';
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${str(k)}:${toJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
function str(s: string): string {
  // JSON.stringify escapes lone surrogates as \udxxx already (well-formed JSON.stringify).
  return JSON.stringify(s);
}

export const nested = (depth: number, inner = '1'): RawJson =>
  new RawJson('['.repeat(depth) + inner + ']'.repeat(depth));
export const nestedObject = (depth: number): RawJson => new RawJson('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));

/** A user of our own (ids far above the seed's), with a token, member of the given groups at the given level. */
export async function createUser(
  sql: Sql,
  user: { id: number; username: string; name?: string; email?: string; state?: 'active' | 'blocked'; admin?: boolean },
  memberships: { groupIds?: number[]; projectIds?: number[]; level?: number } = {},
): Promise<string> {
  const token = `glpat-security-${user.username}`;
  await sql`
    insert into users (id, username, name, email, state, admin)
    values (${user.id}, ${user.username}, ${user.name ?? user.username}, ${user.email ?? `${user.username}@security.example.test`},
            ${user.state ?? 'active'}, ${user.admin ?? false})
    on conflict (id) do nothing`;
  await sql`
    insert into personal_access_tokens (user_id, name, token_digest)
    select ${user.id}, 'security tests', ${tokenDigest(token)}
    where not exists (select 1 from personal_access_tokens where token_digest = ${tokenDigest(token)})`;
  for (const [type, ids] of [
    ['Namespace', memberships.groupIds ?? []],
    ['Project', memberships.projectIds ?? []],
  ] as const) {
    for (const id of ids) {
      await sql`
        insert into members (user_id, source_id, source_type, access_level)
        values (${user.id}, ${id}, ${type}, ${memberships.level ?? 50}) on conflict do nothing`;
    }
  }
  return token;
}

export async function rootGroupIds(sql: Sql): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`select id from namespaces where parent_id is null order by id`;
  return rows.map((r) => Number(r.id));
}

/** Redis keys of this user's background operations (operation ids carry the user id). */
export async function operationKeys(redis: Redis, userId: number): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `background_operation:*_${userId}_*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}
