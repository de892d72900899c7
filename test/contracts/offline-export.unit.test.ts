import {
  chunkWorkflowId,
  deadlineError,
  emptyTotals,
  failedError,
  offlineExportWorkflowId,
  truncateError,
  validateChunkInput,
  validateExportInput,
} from '../../contracts/offline-export';

// A resume as the workflow writes it when it continues as new.
const resume = (overrides: Record<string, unknown> = {}) => ({
  afterSelfId: 120,
  limits: {
    maxConcurrentRelations: 16,
    credentialsPurgeDelayMs: 86_400_000,
    portablesPerChunk: 50,
    maxConcurrentChunks: 3,
    chunksPerRun: 200,
  },
  userId: 1,
  exportPrefix: '2026-01-02_03-04-05_export_AbCdEfGh',
  totals: { ...emptyTotals(), portablesTotal: 300, portablesFinished: 100, objectsWritten: 812, bytesWritten: 1 << 20 },
  run: 2,
  portablesHandedOut: 100,
  ...overrides,
});

describe('validateExportInput', () => {
  it('accepts {exportId}, and {exportId, resume} as the workflow continues as new', () => {
    expect(validateExportInput({ exportId: 1 })).toBeUndefined();
    expect(validateExportInput({ exportId: Number.MAX_SAFE_INTEGER })).toBeUndefined();
    expect(validateExportInput({ exportId: 42, resume: resume() })).toBeUndefined();
    expect(validateExportInput({ exportId: 42, resume: resume({ finalChunkSize: 17 }) })).toBeUndefined();
    expect(validateExportInput({ exportId: 42, resume: undefined })).toBeUndefined();
  });

  it.each([undefined, null, 42, '42', [{ exportId: 1 }]])('asks for one object argument when given %j', (input) => {
    expect(validateExportInput(input)).toBe(
      'OfflineExportWorkflow takes one object argument: {"exportId": <id of import_offline_exports>}',
    );
  });

  it.each([
    [{}, 'nothing'],
    [{ exportId: 0 }, '0'],
    [{ exportId: -3 }, '-3'],
    [{ exportId: 1.5 }, '1.5'],
    [{ exportId: '42' }, '"42"'],
    [{ exportId: null }, 'null'],
    [{ exportId: 2 ** 53 }, String(2 ** 53)],
    [{ exportId: Number.NaN }, 'null'],
  ])('refuses %j, echoing what it got', (input, got) => {
    expect(validateExportInput(input)).toBe(`exportId must be a positive whole number (got ${got})`);
  });

  it.each([
    ['null', null],
    ['an array', [resume()]],
    ['no limits', resume({ limits: undefined })],
    ['no totals', resume({ totals: undefined })],
    ['a negative cursor', resume({ afterSelfId: -1 })],
    ['a fractional user id', resume({ userId: 1.5 })],
    ['no run number', resume({ run: undefined })],
    ['no count of portables handed out', resume({ portablesHandedOut: undefined })],
    ['a prefix that is not a string', resume({ exportPrefix: 7 })],
    ['a negative final chunk size', resume({ finalChunkSize: -1 })],
    ['a chunk size of 0', resume({ limits: { ...resume().limits, portablesPerChunk: 0 } })],
    ['no concurrency for relations', resume({ limits: { ...resume().limits, maxConcurrentRelations: 0 } })],
    ['no chunk concurrency', resume({ limits: { ...resume().limits, maxConcurrentChunks: undefined } })],
    ['no chunks per run', resume({ limits: { ...resume().limits, chunksPerRun: '200' } })],
    ['a negative purge delay', resume({ limits: { ...resume().limits, credentialsPurgeDelayMs: -1 } })],
    ['a missing total', resume({ totals: { ...emptyTotals(), recordsWritten: undefined } })],
    ['a fractional total', resume({ totals: { ...emptyTotals(), bytesWritten: 0.5 } })],
  ])('refuses a resume with %s', (_, bad) => {
    expect(validateExportInput({ exportId: 42, resume: bad })).toBe(
      'resume is set by the workflow itself when it continues as new; start an export with {"exportId": <id>} only',
    );
  });

  it('accepts a purge delay of 0 (purge at once)', () => {
    expect(
      validateExportInput({
        exportId: 42,
        resume: resume({ limits: { ...resume().limits, credentialsPurgeDelayMs: 0 } }),
      }),
    ).toBeUndefined();
  });

  it('refuses anything else a caller passes, naming each extra key, so nothing else sits in the history', () => {
    expect(validateExportInput({ exportId: 42, credentials: { secret: 'x' }, entities: [] })).toBe(
      'OfflineExportWorkflow takes only {"exportId": <id>}; remove "credentials", "entities"',
    );
    expect(validateExportInput({ exportId: 42, resume: resume(), userId: 1 })).toBe(
      'OfflineExportWorkflow takes only {"exportId": <id>}; remove "userId"',
    );
  });

  it('checks the export id first, then the resume, then extra keys', () => {
    expect(validateExportInput({ exportId: 0, resume: null, extra: 1 })).toMatch(/^exportId must be/);
    expect(validateExportInput({ exportId: 1, resume: null, extra: 1 })).toMatch(/^resume is set by the workflow/);
  });
});

describe('validateChunkInput', () => {
  const chunk = { exportId: 42, afterSelfId: 100, lastSelfId: 150, maxConcurrentRelations: 16 };

  it('accepts the input the parent writes, including a first chunk after self id 0', () => {
    expect(validateChunkInput(chunk)).toBeUndefined();
    expect(validateChunkInput({ ...chunk, afterSelfId: 0, lastSelfId: 1 })).toBeUndefined();
  });

  it.each([undefined, null, 'chunk', [chunk]])('asks for one object argument when given %j', (input) => {
    expect(validateChunkInput(input)).toBe(
      'OfflineExportChunkWorkflow takes one object argument, as its parent starts it',
    );
  });

  it.each(['exportId', 'lastSelfId', 'maxConcurrentRelations'])('needs a positive whole %s', (key) => {
    for (const bad of [undefined, 0, -1, 2.5, '3', null, 2 ** 53]) {
      expect(validateChunkInput({ ...chunk, [key]: bad })).toBe(`${key} must be a positive whole number`);
    }
  });

  it('needs a cursor of 0 or more, below the last self id', () => {
    for (const bad of [undefined, -1, 0.5, '0', null]) {
      expect(validateChunkInput({ ...chunk, afterSelfId: bad })).toBe('afterSelfId must be a whole number (0 or more)');
    }
    expect(validateChunkInput({ ...chunk, afterSelfId: 150 })).toBe('afterSelfId must be below lastSelfId');
    expect(validateChunkInput({ ...chunk, afterSelfId: 151 })).toBe('afterSelfId must be below lastSelfId');
  });

  it('refuses keys it does not take, naming them', () => {
    expect(validateChunkInput({ ...chunk, portableType: 'project', credentials: 'x' })).toBe(
      'OfflineExportChunkWorkflow does not take "portableType", "credentials"',
    );
  });
});

describe('offline-export workflow ids', () => {
  it('name the export and its chunk children by their self rows', () => {
    expect(offlineExportWorkflowId(42)).toBe('offline-export:42');
    expect(chunkWorkflowId(42, 101, 150)).toBe('offline-export:42/portables:101-150');
  });
});

describe('truncateError', () => {
  it("keeps messages within GitLab's 255-character column, marking the cut", () => {
    expect(truncateError('')).toBe('');
    expect(truncateError('short')).toBe('short');
    expect(truncateError('x'.repeat(255))).toBe('x'.repeat(255));
    const cut = truncateError('y'.repeat(256));
    expect(cut).toHaveLength(255);
    expect(cut).toBe(`${'y'.repeat(252)}...`);
    expect(truncateError('z'.repeat(10_000))).toHaveLength(255);
  });
});

describe('deadlineError and failedError', () => {
  it('say how long the export had, in the largest unit that fits', () => {
    expect(deadlineError(7 * 24 * 3_600_000)).toBe(
      'Export failed: it did not complete within 168 hours (EXPORT_DEADLINE_MS)',
    );
    expect(deadlineError(90 * 60_000)).toBe('Export failed: it did not complete within 1.5 hours (EXPORT_DEADLINE_MS)');
    expect(deadlineError(2 * 60_000)).toBe('Export failed: it did not complete within 2 minutes (EXPORT_DEADLINE_MS)');
    expect(deadlineError(1_500)).toBe('Export failed: it did not complete within 1.5 seconds (EXPORT_DEADLINE_MS)');
  });

  it('prefix the failure with what GitLab users read in the export error', () => {
    expect(failedError('the bucket is gone')).toBe('Export failed: the bucket is gone');
  });
});
