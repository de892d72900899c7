import { emptyTotals } from '../../contracts/offline-export';
import {
  addTotals,
  formatBytes,
  newProgress,
  nextChunkSize,
  progressDetails,
  updateProgress,
} from '../../workflows/offline-export/export-progress';

describe('nextChunkSize', () => {
  it('gives full chunks while more than one round of the window is left', () => {
    expect(nextChunkSize(200, 50, 3, undefined)).toEqual({ size: 50 });
    expect(nextChunkSize(151, 50, 3, undefined)).toEqual({ size: 50 });
  });

  it('shares the last round equally among the window, so its chunks end together', () => {
    expect(nextChunkSize(150, 50, 3, undefined)).toEqual({ size: 50, finalSize: 50 });
    expect(nextChunkSize(100, 50, 3, undefined)).toEqual({ size: 34, finalSize: 34 });
    expect(nextChunkSize(2, 50, 3, undefined)).toEqual({ size: 1, finalSize: 1 });
  });

  it('keeps the last round size once chosen, whatever is left', () => {
    expect(nextChunkSize(66, 50, 3, 34)).toEqual({ size: 34, finalSize: 34 });
    expect(nextChunkSize(500, 50, 3, 34)).toEqual({ size: 34, finalSize: 34 });
  });

  it('never asks for fewer than one portable', () => {
    expect(nextChunkSize(0, 50, 3, undefined).size).toBe(1);
  });
});

describe('export progress', () => {
  it('adds chunk results and counts the portables of running chunks as running, not pending', () => {
    const totals = { ...emptyTotals(), portablesTotal: 10 };
    addTotals(totals, {
      portablesFinished: 3,
      portablesFailed: 1,
      relationsFinished: 9,
      relationsFailed: 2,
      objectsWritten: 12,
      bytesWritten: 2048,
      recordsWritten: 40,
    });
    const progress = newProgress(42, 2);
    progress.phase = 'exporting';
    updateProgress(progress, totals, new Map([['offline-export:42/portables:5-7', 3]]));
    expect(progress.portables).toEqual({ total: 10, running: 3, finished: 3, failed: 1, pending: 3 });
    expect(progress.relations).toEqual({ finished: 9, failed: 2 });
    expect(progress.running).toEqual(['offline-export:42/portables:5-7']);
    expect(progressDetails(progress)).toBe(
      '**exporting** (run 2)\n\n' +
        '- portables: 4 of 10 done (1 failed), 3 running\n' +
        '- relations: 9 finished, 2 failed\n' +
        '- written: 40 records in 12 objects, 2.0 KiB',
    );
  });

  it('formats bytes in B, KiB and MiB', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
  });
});
