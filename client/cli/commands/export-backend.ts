import type { ApiClient } from '../api-client';
import type { ExportRelation, OfflineExportEntity } from '../api-shapes';
import type { ProgressFrame } from '../progress';

export type ExportStatusName = OfflineExportEntity['status'];

/**
 * What the export commands need, over the API (the default) or directly on PostgreSQL and Temporal (--direct).
 * Both answer the API's snake_case entities; `extra` carries what only the direct mode knows (workflow, Web UI).
 */
export interface ExportBackend {
  start(body: unknown): Promise<{ entity: OfflineExportEntity; extra: Record<string, unknown> }>;
  show(id: number): Promise<{ entity: OfflineExportEntity; extra: Record<string, unknown> }>;
  /** The entity once the export is finished or failed, or a progress frame while it runs. */
  poll(id: number): Promise<{ final?: OfflineExportEntity; frame?: ProgressFrame }>;
  list(options: { status?: ExportStatusName; limit: number }): Promise<OfflineExportEntity[]>;
  cancel(id: number): Promise<void>;
  /** Pages of the export's relations (one row per portable and relation), ordered by path and relation. */
  relations(id: number, status?: ExportRelation['status']): AsyncGenerator<ExportRelation[]>;
  /** The unit the progress bar counts. */
  unit: string;
}

export const ended = (e: OfflineExportEntity) => e.status === 'finished' || e.status === 'failed';

export function apiExportBackend(api: ApiClient): ExportBackend {
  const relationsPath = (id: number) => `offline_exports/${id}/relations`;
  return {
    unit: 'relations',
    async start(body) {
      return { entity: await api.post<OfflineExportEntity>('offline_exports', body), extra: {} };
    },
    async show(id) {
      return { entity: await api.get<OfflineExportEntity>(`offline_exports/${id}`), extra: {} };
    },
    async poll(id) {
      const entity = await api.get<OfflineExportEntity>(`offline_exports/${id}`);
      if (ended(entity)) return { final: entity };
      // Three counts, not the list: an export of thousands of portables has tens of thousands of relations.
      const [total, finished, failed] = await Promise.all([
        api.count(relationsPath(id)),
        api.count(relationsPath(id), { status: 'finished' }),
        api.count(relationsPath(id), { status: 'failed' }),
      ]);
      return {
        frame: {
          done: finished + failed,
          total,
          label: `${entity.status}${failed ? `, ${failed} failed` : ''}`,
        },
      };
    },
    async list({ status, limit }) {
      return api.list<OfflineExportEntity>('offline_exports', { status }, limit);
    },
    async cancel(id) {
      await api.post(`offline_exports/${id}/cancel`);
    },
    relations(id, status) {
      return api.pages<ExportRelation>(relationsPath(id), { status });
    },
  };
}
