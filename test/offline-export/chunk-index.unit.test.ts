import {
  chunkPortableStatus,
  keywordListWithin,
  validatePurgeInput,
  type ChunkPortable,
} from '../../contracts/offline-export';
import { SEARCH_ATTRIBUTE_VALUE_LIMIT_BYTES as LIMIT } from '../../contracts/search-attributes';

// The pure parts of the chunk's portable index and of the purge workflow's input check.

describe('keywordListWithin (what PortableFullPaths can hold)', () => {
  it('keeps every path when the JSON list fits the 2 KB value limit', () => {
    const paths = Array.from({ length: 50 }, (_, i) => `gitlab-org/subgroup-${i}/project-${i}`);
    expect(keywordListWithin(paths)).toEqual(paths);
    expect(Buffer.byteLength(JSON.stringify(paths))).toBeLessThanOrEqual(LIMIT);
  });

  it('keeps the first paths that fit, counted in UTF-8 bytes of the JSON list, and drops duplicates', () => {
    const long = Array.from({ length: 100 }, (_, i) => `größe/${'x'.repeat(30)}-${i}`);
    const kept = keywordListWithin([long[0]!, long[0]!, ...long.slice(1)]);
    expect(kept).toEqual(long.slice(0, kept.length));
    expect(Buffer.byteLength(JSON.stringify(kept))).toBeLessThanOrEqual(LIMIT);
    // One more would not have fitted.
    expect(Buffer.byteLength(JSON.stringify(long.slice(0, kept.length + 1)))).toBeGreaterThan(LIMIT);
  });

  it('measures exactly at the limit', () => {
    expect(keywordListWithin(['abc'], 7)).toEqual(['abc']); // ["abc"] is 7 bytes
    expect(keywordListWithin(['abc'], 6)).toEqual([]);
    expect(keywordListWithin(['a', 'b'], 9)).toEqual(['a', 'b']); // ["a","b"]
    expect(keywordListWithin(['a', 'b'], 8)).toEqual(['a']);
    expect(LIMIT).toBe(2048);
  });
});

describe('chunkPortableStatus', () => {
  const portable = (total: number, finished: number, failed: number): ChunkPortable => ({
    portableType: 'project',
    portableId: 1,
    fullPath: 'g/p',
    relations: { total, finished, failed },
  });
  it.each([
    ['not begun', portable(1, 0, 0), false, 'pending'],
    ['being exported', portable(28, 3, 1), true, 'exporting'],
    ['done with one relation finished', portable(28, 1, 27), false, 'finished'],
    ['done, every relation failed', portable(28, 0, 28), false, 'failed'],
    ['refused (its self row failed, no other rows)', portable(1, 0, 1), true, 'failed'],
  ])('%s', (_what, p, running, status) => {
    expect(chunkPortableStatus(p, running)).toBe(status);
  });
});

describe('validatePurgeInput', () => {
  it.each([
    [{ exportId: 1, delayMs: 0 }, undefined],
    [{ exportId: 1, delayMs: 86_400_000 }, undefined],
    [null, 'OfflineExportCredentialsPurgeWorkflow takes {"exportId": <id>, "delayMs": <ms>}'],
    [{ exportId: 0, delayMs: 1 }, 'exportId must be a positive whole number'],
    [{ exportId: 1, delayMs: -1 }, 'delayMs must be a whole number of milliseconds (0 or more)'],
    [
      { exportId: 1, delayMs: 1, credentials: 'x' },
      'OfflineExportCredentialsPurgeWorkflow does not take "credentials"',
    ],
  ])('%j', (input, error) => {
    expect(validatePurgeInput(input)).toBe(error);
  });
});
