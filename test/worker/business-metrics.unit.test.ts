import type { MetricCounter, MetricMeter, MetricTags } from '@temporalio/common';
import { BUSINESS_METRICS, countsOf, recordCounts, snakeCaseTags } from '../../worker/business-metrics';

/** A meter that remembers what was added to which counter (the real one is exercised by the stack test). */
function recordingMeter() {
  const added: { name: string; unit?: string; description?: string; value: number }[] = [];
  const meter = {
    createCounter(name: string, unit?: string, description?: string) {
      return {
        name,
        unit,
        description,
        kind: 'counter',
        valueType: 'int',
        add: (value: number) => added.push({ name, unit, description, value }),
        withTags: () => {
          throw new Error('not used');
        },
      } as MetricCounter;
    },
  } as unknown as MetricMeter;
  return { meter, added };
}

const chunkResult = {
  portablesFinished: 2,
  portablesFailed: 1,
  relationsFinished: 40,
  relationsFailed: 3,
  objectsWritten: 57,
  bytesWritten: 123_456,
  recordsWritten: 900,
};

describe('business metrics', () => {
  it('count what a chunk export, or the failing of a chunk, reports', () => {
    const expected = { relationsExported: 40, relationsFailed: 3, records: 900, bytes: 123_456, objects: 57 };
    expect(countsOf('exportPortableChunk', chunkResult)).toEqual(expected);
    expect(countsOf('failPortableChunk', chunkResult)).toEqual(expected);
  });

  it('count what a range of batches, or the failing of a range, reports', () => {
    const range = {
      batchNumber: 0,
      lastBatchNumber: 9,
      batches: 10,
      projects: 12,
      successful: 9,
      failed: 3,
      appliedNow: 9,
    };
    expect(countsOf('processBulkUpdateBatches', range)).toEqual({ projectsUpdated: 9, projectsFailed: 3 });
    const failed = { batchNumber: 0, lastBatchNumber: 0, projects: 5, successful: 1, failed: 4, failedNow: 4 };
    expect(countsOf('failUnprocessedBulkUpdateBatches', failed)).toEqual({ projectsUpdated: 1, projectsFailed: 4 });
  });

  it('count nothing for the other activities', () => {
    expect(countsOf('nextPortableChunk', chunkResult)).toEqual({});
    expect(countsOf('notifyBulkUpdateFailures', { successful: 3 })).toEqual({});
    expect(countsOf('finishBulkUpdate', undefined)).toEqual({});
  });

  it('refuse a result of another shape rather than count it wrong', () => {
    expect(() => countsOf('exportPortableChunk', { ...chunkResult, bytesWritten: -1 })).toThrow(/expected a count/);
    expect(() => countsOf('processBulkUpdateBatches', { successful: 1.5, failed: 0 })).toThrow(/expected a count/);
    expect(() => countsOf('processBulkUpdateBatches', null)).toThrow(/expected a count, got undefined/);
    // A bigint column read as text is still a count.
    expect(countsOf('failPortableChunk', { ...chunkResult, bytesWritten: '9007199254740991' }).bytes).toBe(
      9_007_199_254_740_991,
    );
  });

  it('add each count, zeros included, to its documented Prometheus counter', () => {
    const { meter, added } = recordingMeter();
    recordCounts(meter, countsOf('exportPortableChunk', { ...chunkResult, relationsFailed: 0 }));
    expect(added).toEqual([
      expect.objectContaining({ name: 'gitlab_offline_export_relations_exported_total', value: 40 }),
      expect.objectContaining({ name: 'gitlab_offline_export_relations_failed_total', value: 0 }),
      expect.objectContaining({ name: 'gitlab_offline_export_records_total', value: 900 }),
      expect.objectContaining({ name: 'gitlab_offline_export_bytes_total', value: 123_456, unit: 'By' }),
      expect.objectContaining({ name: 'gitlab_offline_export_objects_total', value: 57 }),
    ]);
    for (const metric of Object.values(BUSINESS_METRICS)) {
      expect(metric.name).toMatch(/^gitlab_(offline_export|bulk_update)_[a-z_]+_total$/);
      expect(metric.description.length).toBeGreaterThan(10);
    }
  });

  it('label series as the SDK labels its own (task_queue, activity_type)', () => {
    const tags: MetricTags = { namespace: 'default', taskQueue: 'offline-export', activityType: 'exportPortableChunk' };
    expect(snakeCaseTags(tags)).toEqual({
      namespace: 'default',
      task_queue: 'offline-export',
      activity_type: 'exportPortableChunk',
    });
  });
});
