import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  createRedisStore,
  EXPIRY_SECONDS,
  failedItemsKey,
  operationKey,
  recordedItemsKey,
  type RedisStore,
} from '../../db/bulk-update/redis-store';
import { loadConfig } from '../../contracts/config';
import { generateOperationId } from '../../contracts/operation-id';

// One case per statement of the seed's "Redis data structure" section, against the stack's real Redis.

describe('RedisStore (Gitlab::BackgroundOperations::RedisStore)', () => {
  let redis: Redis;
  let store: RedisStore;
  const created: string[] = [];
  const userId = 900_000 + Math.floor(Math.random() * 99_999);

  beforeAll(() => {
    redis = new Redis(loadConfig().REDIS_URL);
    store = createRedisStore(redis);
  });
  afterAll(async () => {
    for (const id of created) await store.deleteOperation(id);
    await redis.quit();
  });

  const create = async (totalItems = 3) => {
    const id = await store.createOperation({
      id: generateOperationId('attribute_update', userId),
      operationType: 'attribute_update',
      userId,
      totalItems,
      parameters: { attribute_ids: [1, 2], mode: 'ADD' },
    });
    created.push(id);
    return id;
  };

  it('creates an id of the form attribute_update_<user>_<unix seconds>_<8 hex>', async () => {
    const before = Math.floor(Date.now() / 1000);
    const id = await create();
    const match = new RegExp(`^attribute_update_${userId}_(\\d+)_([a-f0-9]{8})$`).exec(id);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThanOrEqual(before);
    expect(Number(match![1])).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('stores the operation as a hash at background_operation:{id} with every field of the seed', async () => {
    const id = await create(7);
    expect(await redis.type(`background_operation:${id}`)).toBe('hash');
    const hash = await redis.hgetall(operationKey(id));
    expect(Object.keys(hash).sort()).toEqual(
      [
        'created_at',
        'failed_items',
        'id',
        'operation_type',
        'parameters',
        'status',
        'successful_items',
        'total_items',
        'user_id',
      ].sort(),
    );
    expect(hash).toMatchObject({
      id,
      operation_type: 'attribute_update',
      user_id: String(userId),
      status: 'pending',
      total_items: '7',
      successful_items: '0',
      failed_items: '0',
    });
    expect(JSON.parse(hash.parameters!)).toEqual({ attribute_ids: [1, 2], mode: 'ADD' });
    expect(new Date(hash.created_at!).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('returns the operation with typed fields (ints, parsed parameters)', async () => {
    const id = await create(5);
    const operation = await store.getOperation(id);
    expect(operation?.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(operation).toEqual({
      id,
      operation_type: 'attribute_update',
      user_id: userId,
      parameters: { attribute_ids: [1, 2], mode: 'ADD' },
      status: 'pending',
      total_items: 5,
      successful_items: 0,
      failed_items: 0,
      created_at: operation?.created_at,
    });
  });

  it('expires the hash after 72 hours', async () => {
    const id = await create();
    const ttl = await redis.ttl(operationKey(id));
    expect(EXPIRY_SECONDS).toBe(72 * 3600);
    expect(ttl).toBeGreaterThan(72 * 3600 - 10);
    expect(ttl).toBeLessThanOrEqual(72 * 3600);
  });

  it('refreshes the expiry of both keys on every write', async () => {
    const id = await create();
    await store.addFailedItem(id, {
      entity_id: 1,
      entity_type: 'Project',
      error_message: 'x',
      error_code: 'service_error',
    });
    await redis.expire(operationKey(id), 100);
    await redis.expire(failedItemsKey(id), 100);
    await store.incrementSuccessful(id);
    expect(await redis.ttl(operationKey(id))).toBeGreaterThan(72 * 3600 - 10);
    expect(await redis.ttl(failedItemsKey(id))).toBeGreaterThan(72 * 3600 - 10);
    await redis.expire(operationKey(id), 100);
    await redis.expire(failedItemsKey(id), 100);
    await store.addFailedItem(id, {
      entity_id: 2,
      entity_type: 'Project',
      error_message: 'y',
      error_code: 'service_error',
    });
    expect(await redis.ttl(operationKey(id))).toBeGreaterThan(72 * 3600 - 10);
    expect(await redis.ttl(failedItemsKey(id))).toBeGreaterThan(72 * 3600 - 10);
  });

  it('increments successful_items', async () => {
    const id = await create();
    await store.incrementSuccessful(id);
    await store.incrementSuccessful(id, { count: 2 });
    expect((await store.getOperation(id))?.successful_items).toBe(3);
  });

  it('counts a success for an entity at most once however often it is recorded', async () => {
    const id = await create();
    expect(await store.incrementSuccessful(id, { entity: { type: 'Project', id: 42 } })).toBe('recorded');
    expect(await store.incrementSuccessful(id, { entity: { type: 'Project', id: 42 } })).toBe('duplicate');
    expect((await store.getOperation(id))?.successful_items).toBe(1);
    expect(await redis.ttl(recordedItemsKey(id))).toBeGreaterThan(72 * 3600 - 10);
  });

  it('stores failed items as a list of JSON objects with the seed fields, newest first (LPUSH)', async () => {
    const id = await create();
    await store.addFailedItem(id, {
      entity_id: 11,
      entity_type: 'Project',
      entity_name: 'First <b>',
      entity_full_path: 'org/first',
      error_message: 'Permission denied',
      error_code: 'service_error',
    });
    await store.addFailedItem(id, {
      entity_id: 5,
      entity_type: 'Group',
      entity_name: 'A group',
      entity_full_path: 'org',
      error_message: 'boom',
      error_code: 'unexpected_error',
    });
    expect(await redis.type(`background_operation:${id}:failed_items`)).toBe('list');
    const raw = await redis.lrange(failedItemsKey(id), 0, -1);
    expect(raw.map((s) => Object.keys(JSON.parse(s) as object).sort())).toEqual([
      ['created_at', 'entity_full_path', 'entity_id', 'entity_name', 'entity_type', 'error_code', 'error_message'],
      ['created_at', 'entity_full_path', 'entity_id', 'entity_name', 'entity_type', 'error_code', 'error_message'],
    ]);
    const items = await store.getFailedItems(id);
    expect(items.map((i) => [i.entity_type, i.entity_id, i.error_code])).toEqual([
      ['Group', 5, 'unexpected_error'],
      ['Project', 11, 'service_error'],
    ]);
    expect(items[1]).toMatchObject({
      entity_name: 'First <b>',
      entity_full_path: 'org/first',
      error_message: 'Permission denied',
    });
    expect(new Date(items[0]!.created_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect((await store.getOperation(id))?.failed_items).toBe(2);
    const ttl = await redis.ttl(failedItemsKey(id));
    expect(ttl).toBeGreaterThan(72 * 3600 - 10);
  });

  it('adds a failed item and its counter together, once per entity', async () => {
    const id = await create();
    const item = {
      entity_id: 9,
      entity_type: 'Project' as const,
      error_message: 'm',
      error_code: 'service_error' as const,
    };
    expect(await store.addFailedItem(id, item)).toBe('recorded');
    expect(await store.addFailedItem(id, item)).toBe('duplicate');
    expect((await store.getOperation(id))?.failed_items).toBe(1);
    expect(await store.getFailedItems(id)).toHaveLength(1);
  });

  it("records a batch's outcomes in one script exactly as the single writes do, each entity once", async () => {
    const failed = (entityId: number, message: string) => ({
      entity_id: entityId,
      entity_type: 'Project' as const,
      entity_name: `p${entityId}`,
      error_message: message,
      errors: message === 'Invalid attributes' ? ['Cannot add multiple attributes from the same category 3'] : [],
      error_code: 'service_error' as const,
      created_at: '2026-01-01T00:00:00.000Z',
    });
    const one = await create(5);
    await store.incrementSuccessful(one, { entity: { type: 'Project', id: 1 } });
    await store.incrementSuccessful(one, { entity: { type: 'Project', id: 2 } });
    await store.addFailedItem(one, failed(3, 'Invalid attributes'));
    await store.addFailedItem(one, failed(4, 'Too many attributes'));
    const batch = await create(5);
    const outcomes = {
      successful: [
        { type: 'Project' as const, id: 1 },
        { type: 'Project' as const, id: 2 },
      ],
      failed: [failed(3, 'Invalid attributes'), failed(4, 'Too many attributes')],
    };
    expect(await store.recordOutcomes(batch, outcomes)).toBe(4);
    // A retried batch (and an entity counted by a single write before) adds nothing.
    await store.incrementSuccessful(batch, { entity: { type: 'Project', id: 5 } });
    expect(
      await store.recordOutcomes(batch, {
        ...outcomes,
        successful: [...outcomes.successful, { type: 'Project', id: 5 }],
      }),
    ).toBe(0);
    await store.incrementSuccessful(one, { entity: { type: 'Project', id: 5 } });
    const strip = (op: Awaited<ReturnType<RedisStore['getOperation']>>) => ({ ...op, id: '', created_at: '' });
    expect(strip(await store.getOperation(batch))).toEqual(strip(await store.getOperation(one)));
    expect(await store.getFailedItems(batch)).toEqual(await store.getFailedItems(one));
    expect((await redis.smembers(recordedItemsKey(batch))).sort()).toEqual(
      (await redis.smembers(recordedItemsKey(one))).sort(),
    );
    expect(await redis.ttl(recordedItemsKey(batch))).toBeGreaterThan(EXPIRY_SECONDS - 60);
    await store.deleteOperation(batch);
    expect(await store.recordOutcomes(batch, outcomes)).toBe('missing');
    expect(await redis.exists(operationKey(batch), failedItemsKey(batch), recordedItemsKey(batch))).toBe(0);
  });

  it('moves the status from pending to running', async () => {
    const id = await create();
    await store.markRunning(id);
    expect((await store.getOperation(id))?.status).toBe('running');
  });

  it('returns nothing for an unknown id, and no failed items', async () => {
    const unknown = `attribute_update_${userId}_1_${randomBytes(4).toString('hex')}`;
    expect(await store.getOperation(unknown)).toBeUndefined();
    expect(await store.getFailedItems(unknown)).toEqual([]);
  });

  it('does not resurrect a deleted operation through a late write', async () => {
    const id = await create();
    await store.deleteOperation(id);
    expect(await store.incrementSuccessful(id)).toBe('missing');
    expect(
      await store.addFailedItem(id, {
        entity_id: 1,
        entity_type: 'Project',
        error_message: 'x',
        error_code: 'service_error',
      }),
    ).toBe('missing');
    expect(await redis.exists(operationKey(id), failedItemsKey(id), recordedItemsKey(id))).toBe(0);
  });

  it('does not reset counters when creating an existing operation again', async () => {
    const id = await create(4);
    await store.incrementSuccessful(id);
    await store.createOperation({ id, operationType: 'attribute_update', userId, totalItems: 4 });
    expect((await store.getOperation(id))?.successful_items).toBe(1);
  });

  it('deletes both keys (and the de-duplication set)', async () => {
    const id = await create();
    await store.incrementSuccessful(id, { entity: { type: 'Project', id: 1 } });
    await store.addFailedItem(id, {
      entity_id: 2,
      entity_type: 'Project',
      error_message: 'x',
      error_code: 'service_error',
    });
    expect(await redis.exists(operationKey(id), failedItemsKey(id), recordedItemsKey(id))).toBe(3);
    await store.deleteOperation(id);
    expect(await redis.exists(operationKey(id), failedItemsKey(id), recordedItemsKey(id))).toBe(0);
    expect(await store.getOperation(id)).toBeUndefined();
  });
});
