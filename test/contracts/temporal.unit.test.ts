import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions, webUiLink, webUiUrl, webUiWorkflowsLink } from '../../contracts/temporal';
import { valid } from './valid-env';

describe('Temporal connection settings', () => {
  it('follow Temporal envconfig: API key and TLS from the standard variables, address from the config', () => {
    const local = temporalConnectionOptions(loadConfig(valid));
    expect(local).toMatchObject({ address: '127.0.0.1:7233' });
    expect(local.apiKey).toBeUndefined();

    const cloud = temporalConnectionOptions(
      loadConfig({ ...valid, TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'key-123' }),
    );
    expect(cloud).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', apiKey: 'key-123' });
    // envconfig turns TLS on whenever an API key is given.
    expect(cloud.tls).toBeTruthy();
  });

  it('turn TLS on or off as TEMPORAL_TLS says', () => {
    expect(temporalConnectionOptions(loadConfig({ ...valid, TEMPORAL_TLS: 'true' })).tls).toBeTruthy();
    expect(temporalConnectionOptions(loadConfig({ ...valid, TEMPORAL_TLS: 'false' })).tls).toBeFalsy();
  });
});

describe('webUiLink', () => {
  it('links to the workflow in the local Web UI, encoding the namespace and the workflow id', () => {
    const config = loadConfig({ ...valid, TEMPORAL_UI_PORT: '18233', TEMPORAL_NAMESPACE: 'team a' });
    expect(webUiLink(config, 'bulk-update:attribute_update_2_1712345678_a1b2c3d4/batches:1-10')).toBe(
      'http://127.0.0.1:18233/namespaces/team%20a/workflows/bulk-update%3Aattribute_update_2_1712345678_a1b2c3d4%2Fbatches%3A1-10',
    );
    expect(webUiLink(loadConfig(valid), 'offline-export:42', 'run-1')).toBe(
      'http://127.0.0.1:8233/namespaces/default/workflows/offline-export%3A42/run-1',
    );
  });

  it('links to the Web UI TEMPORAL_UI_URL names (a remote server, Temporal Cloud), whatever TEMPORAL_UI_PORT says', () => {
    const cloud = loadConfig({
      ...valid,
      TEMPORAL_UI_URL: 'https://cloud.temporal.io/',
      TEMPORAL_UI_PORT: '18233',
      TEMPORAL_NAMESPACE: 'gitlab-prod.a1b2c',
    });
    expect(webUiUrl(cloud)).toBe('https://cloud.temporal.io');
    expect(webUiLink(cloud, 'offline-export:42')).toBe(
      'https://cloud.temporal.io/namespaces/gitlab-prod.a1b2c/workflows/offline-export%3A42',
    );
    const behindProxy = loadConfig({ ...valid, TEMPORAL_UI_URL: 'https://ops.example.com/temporal' });
    expect(webUiLink(behindProxy, 'bulk-update:op/batches:0-9', 'run-2')).toBe(
      'https://ops.example.com/temporal/namespaces/default/workflows/bulk-update%3Aop%2Fbatches%3A0-9/run-2',
    );
    expect(webUiWorkflowsLink(behindProxy)).toBe('https://ops.example.com/temporal/namespaces/default/workflows');
    expect(webUiUrl(loadConfig(valid))).toBe('http://127.0.0.1:8233');
  });
});
