import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../../contracts/config';

const ROOT = join(__dirname, '..', '..');
const CHECK = join(ROOT, process.env.STACK_TOOLS_DIR ?? '.tools', 'bin', 'compose-check');
const FILE = join(ROOT, 'docker-compose.yml');

interface ComposeProject {
  services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      environment?: Record<string, string | null>;
      depends_on?: Record<string, unknown>;
    }
  >;
}

/** docker-compose.yml checked by the Compose Specification's reference loader (compose-go), no Docker needed. */
describe('docker-compose.yml', () => {
  const env = { PATH: process.env.PATH ?? '', ENCRYPTION_KEY: 'ZGV2LXN0YWNrLW9ubHktZW5jcnlwdGlvbi1rZXktMDA=' };
  const load = (): ComposeProject =>
    JSON.parse(execFileSync(CHECK, ['--json', FILE], { env, encoding: 'utf8' })) as ComposeProject;

  it('is a valid Compose file with every part of the system', () => {
    const project = load();
    expect(Object.keys(project.services).sort()).toEqual([
      'api',
      'mail',
      'migrate',
      'minio',
      'minio-bucket',
      'postgresql',
      'redis',
      'temporal',
      'temporal-postgresql',
      'temporal-search-attributes',
      'temporal-ui',
      'worker',
    ]);
    expect(project.services.worker?.build).toBeDefined();
    expect(Object.keys(project.services.worker?.depends_on ?? {}).sort()).toEqual([
      'mail',
      'migrate',
      'minio-bucket',
      'redis',
      'temporal-search-attributes',
    ]);
  });

  it('configures the worker and the migration job through the same variables the config schema accepts', () => {
    const project = load();
    for (const name of ['worker', 'migrate', 'api']) {
      const environment = Object.fromEntries(
        Object.entries(project.services[name]?.environment ?? {}).map(([k, v]) => [k, v ?? undefined]),
      );
      expect(() => loadConfig(environment)).not.toThrow();
    }
  });

  it('refuses to start without an encryption key, naming it', () => {
    const result = spawnSync(CHECK, [FILE], { env: { PATH: env.PATH }, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ENCRYPTION_KEY/);
  });
});
