import type { Redis } from 'ioredis';
import { tokenDigest } from '../../db/users';
import type { Sql } from '../../db/sql';

// Shared pieces of the hostile-input tests: a seeded PRNG (every run sends the same cases, so a failure can be
// replayed), odd strings, a JSON writer that can produce what JSON.stringify cannot (duplicate keys, __proto__
// keys, lone surrogates), users of our own and the "nothing was written" snapshot.

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}
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
    return `{${Object.entries(value).map(([k, v]) => `${str(k)}:${toJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
function str(s: string): string {
  // JSON.stringify escapes lone surrogates as \udxxx already (well-formed JSON.stringify).
  return JSON.stringify(s);
}

export const nested = (depth: number, inner = '1'): RawJson => new RawJson('['.repeat(depth) + inner + ']'.repeat(depth));
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
  for (const [type, ids] of [['Namespace', memberships.groupIds ?? []], ['Project', memberships.projectIds ?? []]] as const) {
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

export interface Written {
  exports: number;
  configurations: number;
  relations: number;
  operations: number;
}

/** Row counts of every table a request could write. */
export async function writtenRows(sql: Sql): Promise<Written> {
  const [row] = await sql<Written[]>`
    select (select count(*) from import_offline_exports)::int as exports,
           (select count(*) from import_offline_configurations)::int as configurations,
           (select count(*) from bulk_import_exports)::int as relations,
           (select count(*) from background_operations)::int as operations`;
  return row!;
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

/** Polls until check returns a value (not undefined) or the time is up. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 1000);
  }
}
