import { createHash } from 'node:crypto';
import type { Db } from './sql';

export interface AuthenticatedUser {
  id: number;
  username: string;
  name: string;
  email: string;
  admin: boolean;
}

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The active user owning a valid (not revoked, not expired) personal access token with the api scope. */
export async function userByToken(sql: Db, token: string): Promise<AuthenticatedUser | undefined> {
  const [row] = await sql<(AuthenticatedUser & { token_id: number })[]>`
    select u.id, u.username, u.name, u.email, u.admin, t.id as token_id
    from personal_access_tokens t join users u on u.id = t.user_id
    where t.token_digest = ${tokenDigest(token)}
      and not t.revoked
      and (t.expires_at is null or t.expires_at > current_date)
      and 'api' = any(t.scopes)
      and u.state = 'active'`;
  if (!row) return undefined;
  // Like GitLab, last_used_at is only refreshed now and then, not on every request.
  await sql`
    update personal_access_tokens set last_used_at = now()
    where id = ${row.token_id} and (last_used_at is null or last_used_at < now() - interval '10 minutes')`;
  const { token_id: _ignored, ...user } = row;
  return user;
}

export async function userByUsername(sql: Db, username: string): Promise<AuthenticatedUser | undefined> {
  const [row] = await sql<AuthenticatedUser[]>`
    select id, username, name, email, admin from users where lower(username) = lower(${username}) and state = 'active'`;
  return row;
}
