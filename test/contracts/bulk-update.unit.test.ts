import {
  bulkUpdateBatchRangeWorkflowId,
  bulkUpdateWorkflowId,
  checkBulkUpdateBatchInput,
  checkBulkUpdateWorkflowInput,
  nextRangeSize,
  OPERATION_ID_PATTERN,
  type BulkUpdateRunState,
} from '../../contracts/bulk-update';

const ID = 'attribute_update_2_1712345678_a1b2c3d4';

describe('nextRangeSize (guided self-scheduling of batch ranges)', () => {
  it.each([
    // left, window, maxPerChild, expected
    [100, 10, 10, 10], // plenty left: the cap
    [250, 10, 10, 10],
    [60, 10, 10, 6], // the batches left shared among the window
    [25, 10, 10, 3], // rounded up
    [9, 10, 10, 1], // fewer left than children: one each
    [1, 10, 10, 1],
    [7, 1, 10, 7], // a window of one takes everything up to the cap
    [30, 1, 10, 10],
    [5, 3, 1, 1], // one batch per child
  ])('left %i, window %i, at most %i per child -> %i', (left, window, maxPerChild, expected) => {
    expect(nextRangeSize(left, window, maxPerChild)).toBe(expected);
  });

  it('never returns less than one, nor more than the batches left (when any are left)', () => {
    expect(nextRangeSize(0, 10, 10)).toBe(1);
    expect(nextRangeSize(3, 0, 10)).toBe(3); // a window of 0 counts as 1
    expect(nextRangeSize(3, -5, 10)).toBe(3);
    expect(nextRangeSize(4, 1, 0)).toBe(1); // a cap below one still makes progress
  });

  it('hands out every batch exactly once, in shrinking ranges, whatever the sizes', () => {
    for (const [total, window, maxPerChild] of [
      [1, 1, 1],
      [1000, 10, 10],
      [1001, 7, 10],
      [37, 5, 100],
      [300, 300, 10],
      [12345, 13, 25],
    ] as const) {
      const ranges: number[] = [];
      for (let left = total; left > 0;) {
        const size = nextRangeSize(left, window, maxPerChild);
        ranges.push(size);
        left -= size;
      }
      expect(ranges.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...ranges)).toBeLessThanOrEqual(maxPerChild);
      expect(Math.min(...ranges)).toBeGreaterThanOrEqual(1);
      // Non-increasing: the window's last children get the smallest ranges and finish close together.
      expect(ranges.every((size, i) => i === 0 || size <= ranges[i - 1]!)).toBe(true);
    }
  });
});

describe('bulk-update workflow ids', () => {
  it('name the parent and each range child after the operation', () => {
    expect(bulkUpdateWorkflowId(ID)).toBe(`bulk-update:${ID}`);
    expect(bulkUpdateBatchRangeWorkflowId(ID, 10, 19)).toBe(`bulk-update:${ID}/batches:10-19`);
    expect(bulkUpdateBatchRangeWorkflowId(ID, 0, 0)).toBe(`bulk-update:${ID}/batches:0-0`);
  });
});

describe('OPERATION_ID_PATTERN', () => {
  it.each([ID, 'attribute_update_1_0_00000000', 'attribute_update_1234567890123456789_999999999999_ffffffff'])(
    'accepts %s',
    (id) => {
      expect(OPERATION_ID_PATTERN.test(id)).toBe(true);
    },
  );

  it.each([
    'attribute_update_0_1712345678_a1b2c3d4', // user 0
    'attribute_update_02_1712345678_a1b2c3d4', // leading zero
    'attribute_update_12345678901234567890_1712345678_a1b2c3d4', // 20-digit user
    'attribute_update_2_1234567890123_a1b2c3d4', // 13-digit seconds
    'attribute_update_2_1712345678_A1B2C3D4', // upper-case hex
    'attribute_update_2_1712345678_a1b2c3d', // 7 hex
    'attribute_update_2_1712345678_a1b2c3d4e', // 9 hex
    'attribute_update_2_1712345678_a1b2c3g4',
    'profile_attach_2_1712345678_a1b2c3d4',
    ` ${ID}`,
    `${ID}\n`,
    '',
  ])('refuses %j', (id) => {
    expect(OPERATION_ID_PATTERN.test(id)).toBe(false);
  });
});

const runState = (overrides: Partial<Record<keyof BulkUpdateRunState, unknown>> = {}): Record<string, unknown> => ({
  phase: 'processing',
  userId: 2,
  batchSize: 50,
  maxConcurrentBatches: 10,
  maxBatchesPerRun: 300,
  maxBatchesPerChild: 10,
  afterProjectId: 1234,
  collected: 500,
  tracked: true,
  totalItems: 500,
  batchCount: 10,
  nextBatch: 4,
  batchesDone: 3,
  successfulItems: 140,
  failedItems: 10,
  runs: 1,
  ...overrides,
});

describe('checkBulkUpdateWorkflowInput', () => {
  it('accepts an operation id, with or without the state a continue-as-new carries', () => {
    expect(checkBulkUpdateWorkflowInput({ operationId: ID })).toBeUndefined();
    expect(checkBulkUpdateWorkflowInput({ operationId: ID, state: runState() })).toBeUndefined();
    // The first run's state may still hold zeros.
    expect(
      checkBulkUpdateWorkflowInput({
        operationId: ID,
        state: runState({
          phase: 'starting',
          userId: 0,
          batchSize: 0,
          maxConcurrentBatches: 0,
          maxBatchesPerRun: 0,
          maxBatchesPerChild: 0,
        }),
      }),
    ).toBeUndefined();
    for (const phase of ['starting', 'collecting', 'planning', 'processing', 'notifying', 'finished']) {
      expect(checkBulkUpdateWorkflowInput({ operationId: ID, state: runState({ phase }) })).toBeUndefined();
    }
  });

  it.each([undefined, null, 'attribute_update_2_1712345678_a1b2c3d4', 42, [{ operationId: ID }]])(
    'asks for one object argument when given %j',
    (input) => {
      expect(checkBulkUpdateWorkflowInput(input)).toBe(
        'BulkUpdateWorkflow expects one object argument such as {"operationId": "attribute_update_2_1712345678_a1b2c3d4"}',
      );
    },
  );

  it('says what an operation id looks like and echoes what it got', () => {
    const expected = (got: string) =>
      `operationId must be an id returned by startBulkUpdate, like attribute_update_2_1712345678_a1b2c3d4 (got ${got})`;
    expect(checkBulkUpdateWorkflowInput({})).toBe(expected('nothing'));
    expect(checkBulkUpdateWorkflowInput({ operationId: 42 })).toBe(expected('42'));
    expect(checkBulkUpdateWorkflowInput({ operationId: null })).toBe(expected('null'));
    expect(checkBulkUpdateWorkflowInput({ operationId: 'op-1' })).toBe(expected('"op-1"'));
    expect(checkBulkUpdateWorkflowInput({ operationId: ID.toUpperCase() })).toBe(
      expected(JSON.stringify(ID.toUpperCase())),
    );
  });

  it('echoes at most 80 characters of a long bad id', () => {
    const message = checkBulkUpdateWorkflowInput({ operationId: 'x'.repeat(10_000) })!;
    expect(message).toContain(`(got "${'x'.repeat(79)})`);
    expect(message.length).toBeLessThan(200);
  });

  it('refuses a hand-made state, saying why', () => {
    const refuse = (why: string) =>
      `state is written by BulkUpdateWorkflow when it continues as new; leave it out when starting one (${why})`;
    const check = (state: unknown) => checkBulkUpdateWorkflowInput({ operationId: ID, state });
    expect(check(null)).toBe(refuse('not an object'));
    expect(check([runState()])).toBe(refuse('not an object'));
    expect(check('processing')).toBe(refuse('not an object'));
    expect(check(runState({ phase: 'done' }))).toBe(refuse('unknown phase'));
    expect(check(runState({ phase: undefined }))).toBe(refuse('unknown phase'));
    expect(check(runState({ totalItems: -1 }))).toBe(refuse('totalItems is not a whole number'));
    expect(check(runState({ nextBatch: 1.5 }))).toBe(refuse('nextBatch is not a whole number'));
    expect(check(runState({ runs: '1' }))).toBe(refuse('runs is not a whole number'));
    expect(check(runState({ collected: 2 ** 53 }))).toBe(refuse('collected is not a whole number'));
    expect(check(runState({ failedItems: undefined }))).toBe(refuse('failedItems is not a whole number'));
    const positive = refuse(
      'userId, batchSize, maxConcurrentBatches, maxBatchesPerRun, maxBatchesPerChild must be positive',
    );
    for (const key of ['userId', 'batchSize', 'maxConcurrentBatches', 'maxBatchesPerRun', 'maxBatchesPerChild']) {
      expect(check(runState({ [key]: 0 }))).toBe(positive);
    }
    expect(check(runState({ maxBatchesPerRun: undefined }))).toBe(refuse('maxBatchesPerRun is not a whole number'));
    expect(check(runState({ maxBatchesPerChild: 2.5 }))).toBe(refuse('maxBatchesPerChild is not a whole number'));
    expect(check(runState({ maxBatchesPerChild: null }))).toBe(refuse('maxBatchesPerChild is not a whole number'));
    expect(check(runState({ tracked: 'yes' }))).toBe(refuse('tracked is not true or false'));
    expect(check(runState({ tracked: undefined }))).toBe(refuse('tracked is not true or false'));
  });

  it('checks the operation id before the state', () => {
    expect(checkBulkUpdateWorkflowInput({ operationId: 'bad', state: null })).toMatch(/^operationId must be/);
  });
});

describe('checkBulkUpdateBatchInput', () => {
  it('accepts a range of batches, one batch long or more', () => {
    expect(checkBulkUpdateBatchInput({ operationId: ID, batchNumber: 0, lastBatchNumber: 0 })).toBeUndefined();
    expect(checkBulkUpdateBatchInput({ operationId: ID, batchNumber: 7, lastBatchNumber: 7 })).toBeUndefined();
    expect(checkBulkUpdateBatchInput({ operationId: ID, batchNumber: 7, lastBatchNumber: 16 })).toBeUndefined();
  });

  it('reports the workflow checks under its own name', () => {
    expect(checkBulkUpdateBatchInput('x')).toBe(
      'BulkUpdateBatchWorkflow expects one object argument such as {"operationId": "attribute_update_2_1712345678_a1b2c3d4"}',
    );
    expect(checkBulkUpdateBatchInput({ operationId: 'nope', batchNumber: 1, lastBatchNumber: 1 })).toMatch(
      /^operationId must be an id returned by startBulkUpdate, .* \(got "nope"\)$/,
    );
  });

  it.each([undefined, -1, 1.5, '1', null, Number.NaN])('refuses the batch number %j', (batchNumber) => {
    expect(checkBulkUpdateBatchInput({ operationId: ID, batchNumber, lastBatchNumber: 10 })).toBe(
      'batchNumber must be a whole number of at least 0',
    );
  });

  it.each([undefined, 6, 7.5, '8', null, 2 ** 53])(
    'refuses the last batch number %j for a range starting at 7',
    (lastBatchNumber) => {
      expect(checkBulkUpdateBatchInput({ operationId: ID, batchNumber: 7, lastBatchNumber })).toBe(
        'lastBatchNumber must be a whole number of at least batchNumber',
      );
    },
  );
});
