import { loadConfig } from '../../contracts/config';
import { SEARCH_ATTRIBUTES, stackStatus, stackUp } from '../../scripts/stack/index';
import { Connection } from '@temporalio/client';
import { temporalConnectionOptions } from '../../contracts/temporal';

describe('local stack', () => {
  const config = loadConfig();

  it('reports every service up after the global setup', async () => {
    const statuses = await stackStatus(config);
    expect(statuses.map((s) => [s.name, s.up])).toEqual(
      expect.arrayContaining([
        ['postgres', true],
        ['redis', true],
        ['minio', true],
        ['maildev', true],
        ['temporal', true],
      ]),
    );
    expect(statuses.find((s) => s.name === 'temporal')?.url).toBe(`http://127.0.0.1:${config.TEMPORAL_UI_PORT}`);
  });

  it('treats a second up as a no-op that changes no process', async () => {
    const before = await stackStatus(config);
    const lines: string[] = [];
    await stackUp(config, { log: (line) => lines.push(line) });
    const after = await stackStatus(config);
    expect(after.map((s) => [s.name, s.pid])).toEqual(before.map((s) => [s.name, s.pid]));
    expect(lines.filter((l) => /already running/.test(l))).toHaveLength(before.length);
  });

  it('registers the project search attributes on the dev server', async () => {
    const connection = await Connection.connect(temporalConnectionOptions(config));
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({
        namespace: config.TEMPORAL_NAMESPACE,
      });
      for (const sa of SEARCH_ATTRIBUTES) expect(Object.keys(customAttributes ?? {})).toContain(sa.name);
    } finally {
      await connection.close();
    }
  });
});
