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

/**
 * The Web UI's base URL: TEMPORAL_UI_URL (a remote server's UI, Temporal Cloud's https://cloud.temporal.io), else the
 * local dev server's UI on TEMPORAL_UI_PORT.
 */
export function webUiUrl(config: Pick<Config, 'TEMPORAL_UI_URL' | 'TEMPORAL_UI_PORT'>): string {
  return config.TEMPORAL_UI_URL ?? `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`;
}

/** The namespace's workflow list in the Web UI (every UI, Cloud's too, has /namespaces/<namespace>/workflows). */
export function webUiWorkflowsLink(
  config: Pick<Config, 'TEMPORAL_UI_URL' | 'TEMPORAL_UI_PORT' | 'TEMPORAL_NAMESPACE'>,
): string {
  return `${webUiUrl(config)}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows`;
}

/** Link to a workflow (and one run of it) in the Web UI. */
export function webUiLink(
  config: Pick<Config, 'TEMPORAL_UI_URL' | 'TEMPORAL_UI_PORT' | 'TEMPORAL_NAMESPACE'>,
  workflowId: string,
  runId?: string,
): string {
  return `${webUiWorkflowsLink(config)}/${encodeURIComponent(workflowId)}${runId ? `/${encodeURIComponent(runId)}` : ''}`;
}
