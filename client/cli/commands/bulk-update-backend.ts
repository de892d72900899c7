import type { ApiClient } from '../api-client';
import {
  OPERATION_DONE,
  type BackgroundOperation,
  type BackgroundOperationSummary,
  type FailedItem,
} from '../api-shapes';

export interface BulkUpdateRequest {
  group_ids: number[];
  project_ids: number[];
  attribute_ids: number[];
  mode: string;
}

/** What the bulk-update commands need, over the API (the default) or directly (--direct), in the API's shapes. */
/** POST /security/attributes/bulk_update's answer. */
export interface BulkUpdateStarted {
  message: string;
  operation_id: string;
  workflow_id: string;
  errors: string[];
}

export interface BulkUpdateBackend {
  start(request: BulkUpdateRequest): Promise<BulkUpdateStarted>;
  show(id: string): Promise<{ operation: BackgroundOperation; extra: Record<string, unknown> }>;
  list(limit: number): Promise<BackgroundOperationSummary[]>;
  cancel(id: string): Promise<void>;
  failures(id: string): AsyncGenerator<FailedItem[]>;
}

export const operationDone = (o: BackgroundOperation) => OPERATION_DONE.includes(o.status);

const operationPath = (id: string) => `security/background_operations/${encodeURIComponent(id)}`;

export function apiBulkUpdateBackend(api: ApiClient): BulkUpdateBackend {
  return {
    async start(request) {
      return api.post<BulkUpdateStarted>('security/attributes/bulk_update', request);
    },
    async show(id) {
      return { operation: await api.get<BackgroundOperation>(operationPath(id)), extra: {} };
    },
    async list(limit) {
      return api.list<BackgroundOperationSummary>('security/background_operations', {}, limit);
    },
    async cancel(id) {
      await api.post(`${operationPath(id)}/cancel`);
    },
    failures(id) {
      return api.pages<FailedItem>(`${operationPath(id)}/failed_items`);
    },
  };
}
