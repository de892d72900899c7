import type { Config } from './config';

/** Connection settings shared by the worker's NativeConnection and every client Connection. */
export function temporalConnectionOptions(config: Config): { address: string; tls?: object; apiKey?: string } {
  return {
    address: config.TEMPORAL_ADDRESS,
    tls: config.TEMPORAL_TLS || config.TEMPORAL_API_KEY ? {} : undefined,
    apiKey: config.TEMPORAL_API_KEY,
  };
}

/** Link to a workflow in the Web UI of the local dev server. */
export function webUiLink(config: Config, workflowId: string, runId?: string): string {
  const base = `http://127.0.0.1:${config.TEMPORAL_UI_PORT}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}`;
  return `${base}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
}
