import { OPERATION_ID_PATTERN, OPERATION_TYPE_ATTRIBUTE_UPDATE } from '../../contracts/bulk-update';
import { generateOperationId } from '../../contracts/operation-id';

// GitLab's RedisStore ids: <operation type>_<user id>_<unix seconds>_<8 hex characters>.

describe('generateOperationId', () => {
  const now = new Date('2024-04-05T19:14:38.999Z'); // 1712344478.999 s

  it('is <type>_<user>_<unix seconds, rounded down>_<8 lowercase hex>', () => {
    const id = generateOperationId(OPERATION_TYPE_ATTRIBUTE_UPDATE, 42, now);
    expect(id).toMatch(/^attribute_update_42_1712344478_[0-9a-f]{8}$/);
  });

  it('mints ids that the workflows accept (OPERATION_ID_PATTERN)', () => {
    for (const userId of [1, 2, 42, 999_999_999, Number.MAX_SAFE_INTEGER]) {
      const id = generateOperationId(OPERATION_TYPE_ATTRIBUTE_UPDATE, userId);
      expect({ id, ok: OPERATION_ID_PATTERN.test(id) }).toEqual({ id, ok: true });
    }
    expect(OPERATION_ID_PATTERN.test(generateOperationId(OPERATION_TYPE_ATTRIBUTE_UPDATE, 7, new Date(0)))).toBe(true);
  });

  it('uses the current time when no time is given', () => {
    const before = Math.floor(Date.now() / 1000);
    const id = generateOperationId(OPERATION_TYPE_ATTRIBUTE_UPDATE, 3);
    const after = Math.floor(Date.now() / 1000);
    const seconds = Number(/^attribute_update_3_(\d+)_[0-9a-f]{8}$/.exec(id)?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(before);
    expect(seconds).toBeLessThanOrEqual(after);
  });

  it('differs for two requests of the same user in the same second (random suffix)', () => {
    const ids = new Set(
      Array.from({ length: 200 }, () => generateOperationId(OPERATION_TYPE_ATTRIBUTE_UPDATE, 5, now)),
    );
    expect(ids.size).toBe(200);
    const suffixes = [...ids].map((id) => id.slice(-8)).join('');
    // All sixteen hex digits show up across 1,600 random ones: the suffix is random bytes, not a counter.
    expect(new Set(suffixes).size).toBe(16);
  });

  it('keeps the operation type, so other operations get their own prefix (and are not bulk-update ids)', () => {
    const id = generateOperationId('profile_attach', 9, now);
    expect(id).toMatch(/^profile_attach_9_1712344478_[0-9a-f]{8}$/);
    expect(OPERATION_ID_PATTERN.test(id)).toBe(false);
  });
});
