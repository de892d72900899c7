import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions, webUiLink } from '../../contracts/temporal';
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
});
