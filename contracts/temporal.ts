import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { Config } from './config';

export interface TemporalConnectionOptions {
  address: string;
  tls?: object | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/**
 * Connection settings shared by the worker's NativeConnection and every client Connection, resolved the way every
 * Temporal SDK and the CLI resolve them (envconfig: TEMPORAL_ADDRESS, TEMPORAL_API_KEY, TEMPORAL_TLS_*, an optional
 * TOML profile from TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE), so the same processes run unchanged against the local
 * dev server, a self-hosted cluster or Temporal Cloud. The variables come from the validated config, not process.env.
 */
export function temporalConnectionOptions(config: Config): TemporalConnectionOptions {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (
      key.startsWith('TEMPORAL_') &&
      value !== undefined &&
      (typeof value === 'string' || typeof value === 'boolean')
    ) {
      env[key] = String(value);
    }
  }
  const { connectionOptions } = loadClientConnectConfig({
    profile: config.TEMPORAL_PROFILE,
    configSource: config.TEMPORAL_CONFIG_FILE ? { path: config.TEMPORAL_CONFIG_FILE } : undefined,
    disableFile: !config.TEMPORAL_CONFIG_FILE,
    overrideEnvVars: env,
  });
  return {
    ...(connectionOptions as TemporalConnectionOptions),
    // The validated address always wins over a profile's, so what the config check accepted is what is used.
    address: config.TEMPORAL_ADDRESS,
  };
}

/** Link to a workflow in the Web UI of the local dev server. */
export function webUiLink(config: Config, workflowId: string, runId?: string): string {
  const base = `http://127.0.0.1:${config.TEMPORAL_UI_PORT}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}`;
  return `${base}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
}
