import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

// Gitlab::BackgroundOperations::RedisStore: the live view of a background operation that the UI and API read.
// Every write that touches several keys runs as one Lua script, so readers never see a counter without its
// failed item, and every write refreshes the 72-hour expiry of all the operation's keys.

export const KEY_PREFIX = 'background_operation';
export const EXPIRY_SECONDS = 72 * 60 * 60;

export type OperationStatus = 'pending' | 'running';
export type EntityType = 'Project' | 'Group';
export type ErrorCode = 'service_error' | 'unexpected_error';

/** The hash as GitLab's Operation struct exposes it (field names as stored). */
export interface Operation {
  id: string;
  operation_type: string;
  user_id: number;
  parameters: Record<string, unknown>;
  status: OperationStatus;
  total_items: number;
  successful_items: number;
  failed_items: number;
  created_at: string;
}

/** One element of the failed-items list, stored as JSON. */
export interface FailedItem {
  entity_id: number;
  entity_type: EntityType;
  entity_name?: string;
  entity_full_path?: string;
  error_message: string;
  /** The reasons behind error_message (the service response's payload errors), when it gave any. */
  errors?: string[];
  error_code: ErrorCode;
  created_at: string;
}

export interface CreateOperationInput {
  operationType: string;
  userId: number;
  totalItems: number;
  parameters?: Record<string, unknown>;
  /** The id the client minted (contracts/operation-id.ts) when it recorded the request. */
  id: string;
}

/** What a tracked write did: recorded, skipped as already recorded for that entity, or the operation is gone. */
export type WriteResult = 'recorded' | 'duplicate' | 'missing';

export const operationKey = (id: string): string => `${KEY_PREFIX}:${id}`;
export const failedItemsKey = (id: string): string => `${KEY_PREFIX}:${id}:failed_items`;
/** Entities already counted ("Project:42"), so a retried write cannot count one twice. */
export const recordedItemsKey = (id: string): string => `${KEY_PREFIX}:${id}:recorded_items`;

// A second create for the same id (a retried activity) must not reset counters that batches already moved.
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[7])
  return 0
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'operation_type', ARGV[2], 'user_id', ARGV[3], 'parameters', ARGV[4],
  'status', 'pending', 'total_items', ARGV[5], 'successful_items', '0', 'failed_items', '0', 'created_at', ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[7])
return 1`;

// The EXISTS guard keeps a late write (a batch retried after cleanup) from resurrecting a deleted operation.
const REFRESH = `
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[1]) end`;

const INCREMENT_SUCCESSFUL = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if ARGV[3] ~= '' and redis.call('SADD', KEYS[3], ARGV[3]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'successful_items', ARGV[2])
${REFRESH}
return 1`;

const ADD_FAILED_ITEM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('SADD', KEYS[3], ARGV[3]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'failed_items', 1)
${REFRESH}
return 1`;

// A whole batch's outcomes in one script (one round trip): ARGV[2] successful entities, then ARGV[3] pairs of
// (entity, failed item JSON), in the batch's order. Each entity counts at most once, as in the single writes.
const RECORD_OUTCOMES = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local successes = tonumber(ARGV[2])
local failures = tonumber(ARGV[3])
local recorded = 0
local succeeded = 0
local failed = 0
local i = 4
for _ = 1, successes do
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 then succeeded = succeeded + 1 end
  i = i + 1
end
for _ = 1, failures do
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 then
    redis.call('LPUSH', KEYS[2], ARGV[i + 1])
    failed = failed + 1
  end
  i = i + 2
end
if succeeded > 0 then redis.call('HINCRBY', KEYS[1], 'successful_items', succeeded) end
if failed > 0 then redis.call('HINCRBY', KEYS[1], 'failed_items', failed) end
${REFRESH}
return succeeded + failed`;

const MARK_RUNNING = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'status') == 'pending' then redis.call('HSET', KEYS[1], 'status', 'running') end
${REFRESH}
return 1`;

export type NewFailedItem = Omit<FailedItem, 'created_at'> & { created_at?: string };

/** The failed item as stored: optional fields only when present, errors only when there are some. */
const storedItem = (item: NewFailedItem): FailedItem => ({
  entity_id: item.entity_id,
  entity_type: item.entity_type,
  ...(item.entity_name !== undefined ? { entity_name: item.entity_name } : {}),
  ...(item.entity_full_path !== undefined ? { entity_full_path: item.entity_full_path } : {}),
  error_message: item.error_message,
  ...(item.errors !== undefined && item.errors.length > 0 ? { errors: item.errors } : {}),
  error_code: item.error_code,
  created_at: item.created_at ?? new Date().toISOString(),
});

const writeResult = (n: unknown): WriteResult => (n === 1 ? 'recorded' : n === 0 ? 'duplicate' : 'missing');

export function createRedisStore(redis: Redis) {
  const shas = new Map<string, string>();
  // EVALSHA first (the script text is sent once per connection), EVAL when the server does not know it yet.
  const run = async (script: string, keys: string[], args: (string | number)[]): Promise<unknown> => {
    let sha = shas.get(script);
    if (!sha) {
      sha = createHash('sha1').update(script).digest('hex');
      shas.set(script, sha);
    }
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(script, keys.length, ...keys, ...args);
    }
  };
  const allKeys = (id: string) => [operationKey(id), failedItemsKey(id), recordedItemsKey(id)];

  return {
    /** Creates the operation hash (status pending, counters 0); a no-op returning the same id if it exists. */
    async createOperation(input: CreateOperationInput): Promise<string> {
      const id = input.id;
      await run(
        CREATE,
        [operationKey(id)],
        [
          id,
          input.operationType,
          input.userId,
          JSON.stringify(input.parameters ?? {}),
          input.totalItems,
          new Date().toISOString(),
          EXPIRY_SECONDS,
        ],
      );
      return id;
    },

    /** HINCRBY successful_items; with an entity, at most once per entity however often it is called. */
    async incrementSuccessful(
      id: string,
      options: { count?: number; entity?: { type: EntityType; id: number } } = {},
    ): Promise<WriteResult> {
      const entity = options.entity ? `${options.entity.type}:${options.entity.id}` : '';
      return writeResult(await run(INCREMENT_SUCCESSFUL, allKeys(id), [EXPIRY_SECONDS, options.count ?? 1, entity]));
    },

    /** LPUSH the item and HINCRBY failed_items together, at most once per entity. */
    async addFailedItem(id: string, item: NewFailedItem): Promise<WriteResult> {
      const stored = storedItem(item);
      return writeResult(
        await run(ADD_FAILED_ITEM, allKeys(id), [
          EXPIRY_SECONDS,
          JSON.stringify(stored),
          `${item.entity_type}:${item.entity_id}`,
        ]),
      );
    },

    /**
     * Many outcomes at once (a batch's): the same records as incrementSuccessful with an entity and addFailedItem,
     * in the given order, in one script. Returns how many were recorded now, or 'missing' when the operation is gone.
     */
    async recordOutcomes(
      id: string,
      outcomes: { successful: { type: EntityType; id: number }[]; failed: NewFailedItem[] },
    ): Promise<number | 'missing'> {
      if (outcomes.successful.length === 0 && outcomes.failed.length === 0) return 0;
      const args: (string | number)[] = [EXPIRY_SECONDS, outcomes.successful.length, outcomes.failed.length];
      for (const e of outcomes.successful) args.push(`${e.type}:${e.id}`);
      for (const item of outcomes.failed) {
        args.push(`${item.entity_type}:${item.entity_id}`, JSON.stringify(storedItem(item)));
      }
      const n = await run(RECORD_OUTCOMES, allKeys(id), args);
      return n === -1 ? 'missing' : Number(n);
    },

    /** pending -> running, once the first batch starts. */
    async markRunning(id: string): Promise<WriteResult> {
      return writeResult(await run(MARK_RUNNING, allKeys(id), [EXPIRY_SECONDS]));
    },

    /** The operation, or undefined when it never existed, expired or was deleted. */
    async getOperation(id: string): Promise<Operation | undefined> {
      const h = await redis.hgetall(operationKey(id));
      if (!h.id) return undefined;
      let parameters: Record<string, unknown> = {};
      try {
        const parsed: unknown = JSON.parse(h.parameters ?? '{}');
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          parameters = parsed as Record<string, unknown>;
      } catch {
        // GitLab falls back to {} for unreadable parameters; so do we.
      }
      return {
        id: h.id,
        operation_type: h.operation_type ?? '',
        user_id: Number(h.user_id),
        parameters,
        status: h.status === 'running' ? 'running' : 'pending',
        total_items: Number(h.total_items ?? 0),
        successful_items: Number(h.successful_items ?? 0),
        failed_items: Number(h.failed_items ?? 0),
        created_at: h.created_at ?? '',
      };
    },

    /** Every failed item, newest first (the list is LPUSHed, as in GitLab). */
    async getFailedItems(id: string): Promise<FailedItem[]> {
      const raw = await redis.lrange(failedItemsKey(id), 0, -1);
      return raw.map((s) => JSON.parse(s) as FailedItem);
    },

    /** Deletes the hash, the failed-items list and the de-duplication set. */
    async deleteOperation(id: string): Promise<void> {
      await redis.del(...allKeys(id));
    },
  };
}

export type RedisStore = ReturnType<typeof createRedisStore>;
