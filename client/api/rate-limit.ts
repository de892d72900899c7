import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { Redis } from 'ioredis';
import { tooManyRequests } from './errors';

// Per-user rate limits the way GitLab's Gitlab::ApplicationRateLimiter counts them: a counter per user in Redis for
// fixed periods aligned to the clock (now divmod interval), so every client sees the same reset time. Responses
// carry the RateLimit-* headers GitLab's throttles send (Gitlab::RackAttack::RequestThrottleData): Name, Limit,
// Observed, Remaining and Reset on every counted request, plus RateLimit-ResetTime and Retry-After on a 429.
// @fastify/rate-limit counts in windows that start at a user's first request and cannot report the observed count,
// which those headers need.

export interface RateLimit {
  /** RateLimit-Name (GitLab's rate limit key, such as offline_export). */
  name: string;
  threshold: number;
  intervalSeconds: number;
}

export const RATE_LIMIT_KEY_PREFIX = 'api_rate_limit:';

/** A preHandler that counts the request against the limit, sets the headers and refuses it past the threshold. */
export function rateLimited(redis: Redis, limit: RateLimit): preHandlerHookHandler {
  // Callback style: Fastify's route options type preHandler as a hook that returns nothing.
  return (request, reply, done) => {
    countRequest(redis, limit, request, reply).then(() => done(), done);
  };
}

async function countRequest(
  redis: Redis,
  limit: RateLimit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const who = request.user ? `user:${request.user.id}` : `ip:${request.ip}`;
  // One counter per route and user, created with the rest of the current period as its lifetime, so that it is
  // gone exactly when the period ends (GitLab puts the period's number in the key instead; the effect is the same).
  // Keys are named as @fastify/rate-limit named them here before, so whatever clears them keeps working.
  const key = `${RATE_LIMIT_KEY_PREFIX}${request.method}${request.routeOptions.url ?? ''}-${who}`;
  const intervalMs = limit.intervalSeconds * 1000;
  const nowMs = Date.now();
  const leftMs = intervalMs - (nowMs % intervalMs);
  const results = await redis.multi().set(key, '0', 'PX', leftMs, 'NX').incr(key).exec();
  const [setError] = results?.[0] ?? [null];
  const [incrError, observed] = results?.[1] ?? [new Error(`rate limit counter ${key}: no answer`), 0];
  if (setError) throw setError;
  if (incrError) throw incrError;
  const observedCount = Number(observed);
  const retryAfter = Math.ceil(leftMs / 1000);
  const resetAt = Math.round((nowMs + leftMs) / 1000);
  reply.headers({
    'RateLimit-Name': limit.name,
    // GitLab states the limit per 60 seconds whatever the period ("rounded_limit").
    'RateLimit-Limit': String(Math.ceil((limit.threshold * 60) / limit.intervalSeconds)),
    'RateLimit-Observed': String(observedCount),
    'RateLimit-Remaining': String(Math.max(0, limit.threshold - observedCount)),
    'RateLimit-Reset': String(resetAt),
  });
  if (observedCount > limit.threshold) {
    reply.headers({
      'RateLimit-ResetTime': new Date(resetAt * 1000).toUTCString(),
      'Retry-After': String(retryAfter),
    });
    throw tooManyRequests();
  }
}
