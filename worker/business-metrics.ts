import type { Context } from '@temporalio/activity';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import type { ActivityInterceptors } from '@temporalio/worker';

// Business counters on the worker's Prometheus endpoint, through the SDK's metric meter (the same registry as the
// SDK's own temporal_* metrics). They are read from the results of the activities that report what was done, by an
// interceptor, so the activities stay free of metrics code. Each of these results is read back from PostgreSQL and
// covers its whole chunk or range whatever the number of attempts, and only a completed execution is counted, so a
// chunk or range counts once: by the activity that did it, or by the one that failed it for good. (An activity whose
// completion never reached the server is retried and counted again; Temporal gives at-least-once here, not more.)

export interface BusinessMetric {
  name: string;
  description: string;
  unit?: string;
}

// Prometheus counter names end in _total (the SDK's exporter adds no suffix of its own).
export const BUSINESS_METRICS = {
  relationsExported: {
    name: 'gitlab_offline_export_relations_exported_total',
    description: 'Relations of offline exports finished (a relation of one group or project)',
  },
  relationsFailed: {
    name: 'gitlab_offline_export_relations_failed_total',
    description: 'Relations of offline exports recorded failed',
  },
  records: { name: 'gitlab_offline_export_records_total', description: 'Records written by finished relations' },
  bytes: { name: 'gitlab_offline_export_bytes_total', description: 'Bytes uploaded by finished relations', unit: 'By' },
  objects: {
    name: 'gitlab_offline_export_objects_total',
    description: 'Objects (files) written by finished relations',
  },
  projectsUpdated: {
    name: 'gitlab_bulk_update_projects_updated_total',
    description: 'Projects a bulk update succeeded on',
  },
  projectsFailed: {
    name: 'gitlab_bulk_update_projects_failed_total',
    description: 'Projects a bulk update failed on (failed items)',
  },
} as const satisfies Record<string, BusinessMetric>;

type MetricKey = keyof typeof BUSINESS_METRICS;
type Counts = Partial<Record<MetricKey, number>>;

/** What one completed activity adds to the counters, from its result; nothing for the other activities. */
export function countsOf(activityType: string, result: unknown): Counts {
  const r = (result ?? {}) as Record<string, unknown>;
  switch (activityType) {
    // OfflineExportChunkWorkflow's activity, or the one failing a chunk that gave up (ChunkExportResult).
    case 'exportPortableChunk':
    case 'failPortableChunk':
      return {
        relationsExported: count(r.relationsFinished),
        relationsFailed: count(r.relationsFailed),
        records: count(r.recordsWritten),
        bytes: count(r.bytesWritten),
        objects: count(r.objectsWritten),
      };
    // A range of batches processed, or failed for good (BulkUpdateBatchResult, FailedRangeResult).
    case 'processBulkUpdateBatches':
    case 'failUnprocessedBulkUpdateBatches':
      return { projectsUpdated: count(r.successful), projectsFailed: count(r.failed) };
    default:
      return {};
  }
}

/** A count from a result field; anything else (a shape this code does not know) is reported, not added. */
function count(value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
  throw new TypeError(`expected a count, got ${JSON.stringify(value)}`);
}

export function recordCounts(meter: MetricMeter, counts: Counts): void {
  for (const [key, value] of Object.entries(counts) as [MetricKey, number][]) {
    const metric: BusinessMetric = BUSINESS_METRICS[key];
    // Zeros too, so every series exists from the first chunk or range on (rates and alerts need the series).
    meter.createCounter(metric.name, metric.unit, metric.description).add(value);
  }
}

/**
 * Label names as the SDK's own metrics on the same endpoint spell them (task_queue, activity_type), rather than the
 * activity meter's camelCase, so one query groups both by task queue.
 */
export function snakeCaseTags(tags: MetricTags): MetricTags {
  return Object.fromEntries(
    Object.entries(tags).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}

/** The worker's activity interceptors (WorkerOptions.interceptors.activity). */
export function businessMetricsInterceptors(ctx: Context): ActivityInterceptors {
  return {
    inbound: {
      async execute(input, next) {
        const result = await next(input);
        try {
          recordCounts(ctx.metricMeter, countsOf(ctx.info.activityType, result));
        } catch (err) {
          // A metric must never fail the work it measures.
          ctx.log.warn('business metrics not recorded', { activityType: ctx.info.activityType, error: err });
        }
        return result;
      },
    },
    outbound: {
      getMetricTags: (tags, next) => snakeCaseTags(next(tags)),
    },
  };
}
