import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../contracts/config';
import { cliSearchAttributeFlags } from '../../scripts/stack/search-attributes';
import {
  COMPOSE_ENV,
  COMPOSE_FILE,
  dockerfileImages,
  firstProgram,
  loadCompose,
  pulledImages,
  reviewedImages,
  ROOT,
  runtimeImage,
  unreviewedImages,
} from '../helpers/compose';

const COMPOSE_CHECK = join(ROOT, process.env.STACK_TOOLS_DIR ?? '.tools', 'bin', 'compose-check');

const seconds = (duration: string | undefined): number => {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration ?? '');
  if (!duration || !match) throw new Error(`not a duration: ${String(duration)}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
};

/** docker-compose.yml checked by the Compose Specification's reference loader (compose-go), no Docker needed. */
describe('docker-compose.yml', () => {
  const project = loadCompose();
  const service = (name: string) => {
    const found = project.services[name];
    if (!found) throw new Error(`no service ${name}`);
    return found;
  };
  const dependsOn = (name: string) =>
    Object.fromEntries(Object.entries(service(name).depends_on ?? {}).map(([k, v]) => [k, v.condition]));

  it('is a valid Compose file with every part of the system', () => {
    expect(Object.keys(project.services).sort()).toEqual([
      'api',
      'mail',
      'minio',
      'postgresql',
      'redis',
      'setup',
      'temporal',
      'temporal-postgresql',
      'temporal-schema',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
  });

  it('starts each part after what it needs: health for servers, successful completion for the one-shot jobs', () => {
    expect(dependsOn('temporal-schema')).toEqual({ 'temporal-postgresql': 'service_healthy' });
    expect(dependsOn('temporal')).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    expect(dependsOn('temporal-setup')).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn('setup')).toEqual({ postgresql: 'service_healthy', minio: 'service_healthy' });
    expect(dependsOn('worker')).toEqual({
      setup: 'service_completed_successfully',
      'temporal-setup': 'service_completed_successfully',
      redis: 'service_healthy',
      minio: 'service_healthy',
      mail: 'service_healthy',
    });
    expect(dependsOn('api')).toEqual({
      setup: 'service_completed_successfully',
      'temporal-setup': 'service_completed_successfully',
      redis: 'service_healthy',
    });
    // Every service waited on for health has a health check to pass.
    const unchecked = Object.values(project.services).flatMap((s) =>
      Object.entries(s.depends_on ?? {})
        .filter(([dependency, d]) => d.condition === 'service_healthy' && !service(dependency).healthcheck?.test)
        .map(([dependency]) => dependency),
    );
    expect(unchecked).toEqual([]);
  });

  it('has every one-shot job waited for by a long-running service, so `docker compose up --wait` can succeed', () => {
    // compose up --wait counts an exited container as a failure unless a running service depends on its completion.
    const jobs = Object.keys(project.services).filter((name) => service(name).restart === 'no');
    expect(jobs.sort()).toEqual(['setup', 'temporal-schema', 'temporal-setup']);
    for (const job of jobs) {
      const adopters = Object.entries(project.services).filter(
        ([name, s]) => !jobs.includes(name) && s.depends_on?.[job]?.condition === 'service_completed_successfully',
      );
      expect({ job, adopted: adopters.length > 0 }).toEqual({ job, adopted: true });
    }
  });

  it('configures the worker, the API and the setup job through the variables the config schema accepts', () => {
    for (const name of ['worker', 'setup', 'api']) {
      const environment = Object.fromEntries(
        Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, v ?? undefined]),
      );
      expect(() => loadConfig(environment)).not.toThrow();
    }
  });

  it("gives the worker longer to stop than its activities' shutdown grace", () => {
    const grace = /shutdownGraceTime:\s*'(\d+) seconds'/.exec(readFileSync(join(ROOT, 'worker', 'workers.ts'), 'utf8'));
    expect(grace?.[1]).toBeDefined();
    expect(seconds(service('worker').stop_grace_period)).toBeGreaterThan(Number(grace?.[1]));
  });

  it("registers exactly the contract's search attributes, with their types", () => {
    const listed = (service('temporal-setup').environment?.SEARCH_ATTRIBUTES ?? '').trim().split(/\s+/).sort();
    // The local stack's list (contracts/search-attributes.ts, in the Temporal CLI's spelling of the types).
    const contract = cliSearchAttributeFlags().filter((flag) => flag !== '--search-attribute');
    expect(listed).toEqual(contract.sort());
  });

  it('builds the S3 server from the same MinIO commit as the local stack', () => {
    const tools = /^MINIO_VERSION="([^"]+)"/m.exec(readFileSync(join(ROOT, 'scripts', 'build-tools.sh'), 'utf8'));
    const image = /^ARG MINIO_VERSION=(\S+)/m.exec(readFileSync(join(ROOT, 'docker', 'minio', 'Dockerfile'), 'utf8'));
    expect(tools?.[1]).toMatch(/^v0\.0\.0-\d{14}-[0-9a-f]{12}$/);
    expect(image?.[1]).toBe(tools?.[1]);
  });

  it('runs the app on Node.js 24', () => {
    expect(dockerfileImages(join(ROOT, 'Dockerfile'))).toEqual(['node:24-bookworm-slim', 'node:24-bookworm-slim']);
  });

  it('uses only reviewed images, each with where it was confirmed', () => {
    const reviewed = reviewedImages();
    expect(unreviewedImages(pulledImages(project), reviewed)).toEqual([]);
    for (const entry of reviewed) {
      expect(entry.image).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/);
      expect(entry.confirmed).toMatch(/https:\/\/\S+/);
      expect(entry.reviewed).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    // Nothing listed that nothing uses: the list stays the review of what is pulled today.
    const used = new Set(pulledImages(project).map((ref) => ref.image));
    expect(reviewed.map((entry) => entry.image).filter((image) => !used.has(image))).toEqual([]);
  });

  it('runs health checks and entrypoints only with programs its image is known to have', () => {
    const reviewed = new Map(reviewedImages().map((entry) => [entry.image, entry.binaries]));
    const missing: string[] = [];
    for (const [name, s] of Object.entries(project.services)) {
      const image = runtimeImage(s);
      for (const program of [firstProgram(s.healthcheck?.test), firstProgram(s.entrypoint)]) {
        if (program && !(reviewed.get(image ?? '') ?? []).includes(program)) {
          missing.push(`${name}: ${program} in ${String(image)}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('fails the image check on an image that is not in the reviewed list', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-images-'));
    try {
      const file = join(dir, 'docker-compose.yml');
      // The removed Docker Hub image, as the file named it before; and one Dockerfile FROM of an unlisted image.
      writeFileSync(
        file,
        readFileSync(COMPOSE_FILE, 'utf8')
          .replace(/\bbuild: \.\/docker\/minio\n\s+image: gitlab-temporal\/minio:local/, 'image: minio/minio:latest')
          .replace(
            /^x-app: &app\n {2}build: \./m,
            `x-app: &app\n  build:\n    context: ${ROOT}\n    dockerfile: ${dir}/Dockerfile`,
          ),
      );
      writeFileSync(join(dir, 'Dockerfile'), 'FROM node:20-bookworm-slim AS build\nFROM build\n');
      const refs = pulledImages(loadCompose(file));
      expect(unreviewedImages(refs, reviewedImages())).toEqual([
        { image: 'minio/minio:latest', where: 'docker-compose.yml service minio' },
        { image: 'node:20-bookworm-slim', where: join(dir, 'Dockerfile') },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start without an encryption key, naming it', () => {
    const result = spawnSync(COMPOSE_CHECK, [COMPOSE_FILE], { env: { PATH: COMPOSE_ENV.PATH }, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ENCRYPTION_KEY/);
  });
});
