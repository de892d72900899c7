import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
export const REVIEWED_IMAGES_FILE = join(ROOT, 'docker', 'images.reviewed.json');
const COMPOSE_CHECK = join(ROOT, process.env.STACK_TOOLS_DIR ?? '.tools', 'bin', 'compose-check');
/** The only variable the Compose file requires (ENCRYPTION_KEY has no default, on purpose). */
export const COMPOSE_ENV = {
  PATH: process.env.PATH ?? '',
  ENCRYPTION_KEY: 'ZGV2LXN0YWNrLW9ubHktZW5jcnlwdGlvbi1rZXktMDA=',
};

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[] };
  entrypoint?: string[];
  command?: string[];
  stop_grace_period?: string;
  restart?: string;
  volumes?: { type: string; source?: string; target: string }[];
}

export interface ComposeProject {
  services: Record<string, ComposeService>;
}

/** The file as `docker compose config` sees it: the Compose Specification's reference loader (compose-go). */
export function loadCompose(file = COMPOSE_FILE): ComposeProject {
  return JSON.parse(
    execFileSync(COMPOSE_CHECK, ['--json', file], { env: COMPOSE_ENV, encoding: 'utf8' }),
  ) as ComposeProject;
}

export interface ReviewedImage {
  image: string;
  binaries: string[];
  confirmed: string;
  reviewed: string;
}

export function reviewedImages(file = REVIEWED_IMAGES_FILE): ReviewedImage[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { images: ReviewedImage[] }).images;
}

/** An image we build (never pulled): the tag every built service of the Compose file carries. */
export const isLocalImage = (image: string): boolean => /^gitlab-temporal\/[a-z0-9-]+:local$/.test(image);

/** The images a Dockerfile pulls: every FROM's image, leaving out references to its own earlier stages. */
export function dockerfileImages(file: string): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!match?.[1]) continue;
    if (!stages.has(match[1].toLowerCase())) images.push(match[1]);
    if (match[2]) stages.add(match[2].toLowerCase());
  }
  return images;
}

/** The Dockerfile a built service uses (build.context and build.dockerfile, relative to the context). */
export function serviceDockerfile(service: ComposeService): string | undefined {
  if (!service.build) return undefined;
  return resolve(service.build.context, service.build.dockerfile ?? 'Dockerfile');
}

/** Where an image reference was found, for the error message. */
export interface ImageReference {
  image: string;
  where: string;
}

/** Every image the Compose file and the Dockerfiles of its built services pull. */
export function pulledImages(project: ComposeProject): ImageReference[] {
  const refs: ImageReference[] = [];
  const dockerfiles = new Set<string>();
  for (const [name, service] of Object.entries(project.services)) {
    const dockerfile = serviceDockerfile(service);
    if (dockerfile) dockerfiles.add(dockerfile);
    if (service.image && !(dockerfile && isLocalImage(service.image))) {
      refs.push({ image: service.image, where: `docker-compose.yml service ${name}` });
    }
  }
  for (const file of dockerfiles) {
    for (const image of dockerfileImages(file)) refs.push({ image, where: file.replace(`${ROOT}/`, '') });
  }
  return refs;
}

/** The references that are not in the reviewed list: the check fails on any. */
export function unreviewedImages(refs: ImageReference[], reviewed: ReviewedImage[]): ImageReference[] {
  const known = new Set(reviewed.map((r) => r.image));
  return refs.filter((ref) => !known.has(ref.image));
}

/**
 * The image whose programs a service's container has: its own image, or for a service we build, the base image of its
 * Dockerfile's last stage (what the container runs on).
 */
export function runtimeImage(service: ComposeService): string | undefined {
  const dockerfile = serviceDockerfile(service);
  if (dockerfile) return dockerfileImages(dockerfile).at(-1);
  return service.image;
}

/** The program a health check or entrypoint runs first: CMD's first word, or a CMD-SHELL line's first word. */
export function firstProgram(words: string[] | undefined): string | undefined {
  if (!words || words.length === 0) return undefined;
  const [kind, ...rest] = words;
  const first = kind === 'CMD' ? rest[0] : kind === 'CMD-SHELL' ? rest[0]?.trim().split(/\s+/)[0] : kind;
  return first === undefined ? undefined : first.split('/').at(-1);
}
