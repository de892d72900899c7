import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Bare Git repositories for the seeded instance, written by `git fast-import` from a generated stream: one process
// per repository, no working tree, no `git init`, so ten thousand small repositories take a minute or two. Every
// name, date and byte derives from the project id: the same seed always gives the same commit ids.

/** What goes into one repository. */
export interface RepositoryPlan {
  /** Absolute path of the bare repository (ends in .git). */
  gitDir: string;
  /** Seeds names and contents. */
  projectId: number;
  kind: 'project' | 'wiki' | 'design';
  /** LFS pointers committed under assets/ (project repositories only). */
  lfs?: { oid: string; size: number }[];
  /** Bytes of incompressible content spread over several commits, to make a large repository. */
  largeBytes?: number;
}

const EPOCH = 1_735_689_600; // 2025-01-01T00:00:00Z

/** GitLab's hashed storage path of a project (Storage::Hashed): "@hashed/ab/cd/<sha256 of the id>". */
export function hashedDiskPath(projectId: number): string {
  const hash = createHash('sha256').update(String(projectId)).digest('hex');
  return `@hashed/${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`;
}

/** Deterministic incompressible bytes: AES-CTR's keystream under a key derived from the seed. */
export function pseudoRandomBytes(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

/** The text of a Git LFS pointer file. */
export const lfsPointer = (oid: string, size: number): string =>
  `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n`;

async function writeSkeleton(gitDir: string): Promise<void> {
  await mkdir(join(gitDir, 'objects', 'pack'), { recursive: true });
  await mkdir(join(gitDir, 'refs', 'heads'), { recursive: true });
  await mkdir(join(gitDir, 'refs', 'tags'), { recursive: true });
  await writeFile(join(gitDir, 'HEAD'), 'ref: refs/heads/main\n');
  await writeFile(join(gitDir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n');
}

/** Writes the fast-import stream of one repository, piece by piece, into `out`. */
async function streamRepository(plan: RepositoryPlan, out: (piece: string | Buffer) => Promise<void>): Promise<void> {
  const id = plan.projectId;
  let mark = 0;
  let time = EPOCH + id * 60;
  const who = (n: number) => `User ${n} <user${n}@example.test>`;
  const data = async (content: string | Buffer) => {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    await out(`data ${bytes.length}\n`);
    await out(bytes);
    await out('\n');
  };
  const blob = async (content: string | Buffer) => {
    const m = ++mark;
    await out(`blob\nmark :${m}\n`);
    await data(content);
    return m;
  };
  const commit = async (ref: string, message: string, files: [string, number][], from?: number) => {
    const m = ++mark;
    time += 3600;
    const author = who(1 + ((id + m) % 8));
    await out(`commit ${ref}\nmark :${m}\nauthor ${author} ${time} +0000\ncommitter ${author} ${time} +0000\n`);
    await data(`${message}\n`);
    if (from !== undefined) await out(`from :${from}\n`);
    for (const [path, blobMark] of files) await out(`M 100644 :${blobMark} ${path}\n`);
    return m;
  };

  if (plan.kind === 'wiki') {
    const home = await blob(`# Home\n\nWiki of project ${id}.\n`);
    const first = await commit('refs/heads/main', 'Create home', [['home.md', home]]);
    const setup = await blob(`# Setup\n\nRun \`make\` in project ${id}.\n`);
    await commit('refs/heads/main', 'Add setup page', [['setup.md', setup]], first);
    return;
  }
  if (plan.kind === 'design') {
    const png = await blob(pseudoRandomBytes(`design:${id}`, 512));
    await commit('refs/heads/main', 'Upload designs', [['designs/issue-1/mockup.png', png]]);
    return;
  }

  const readme = await blob(`# Project ${id}\n\nSeeded repository of project ${id}.\n`);
  const c1 = await commit('refs/heads/main', 'Initial commit', [['README.md', readme]]);
  const app = await blob(`export const project = ${id};\n`);
  const c2 = await commit('refs/heads/main', 'Add the application', [['src/app.ts', app]], c1);
  const lfsFiles: [string, number][] = [];
  if (plan.lfs?.length) {
    lfsFiles.push(['.gitattributes', await blob('assets/*.bin filter=lfs diff=lfs merge=lfs -text\n')]);
    for (const [i, o] of plan.lfs.entries())
      lfsFiles.push([`assets/blob-${i + 1}.bin`, await blob(lfsPointer(o.oid, o.size))]);
  }
  const notes = await blob(`Release notes of project ${id}\n`);
  let head = await commit('refs/heads/main', 'Add release notes', [['CHANGELOG.md', notes], ...lfsFiles], c2);
  for (let left = plan.largeBytes ?? 0, part = 1; left > 0; part++) {
    const size = Math.min(left, 32 * 1024 * 1024);
    const big = await blob(pseudoRandomBytes(`large:${id}:${part}`, size));
    head = await commit('refs/heads/main', `Add data part ${part}`, [[`data/part-${part}.bin`, big]], head);
    left -= size;
  }
  const feature = await blob(`export const feature = ${id};\n`);
  await commit('refs/heads/feature/1', 'Start feature 1', [['src/feature.ts', feature]], c2);
  time += 60;
  await out(`tag v1.0.0\nfrom :${c2}\ntagger ${who(1)} ${time} +0000\n`);
  await data('Release 1.0');
}

/** Creates one bare repository with `git fast-import` (Debian's git). */
export async function createRepository(plan: RepositoryPlan): Promise<void> {
  await writeSkeleton(plan.gitDir);
  const child = spawn('git', ['fast-import', '--quiet', '--done'], {
    env: { ...process.env, GIT_DIR: plan.gitDir },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(child, 'close') as Promise<[number | null]>;
  const spawned = once(child, 'spawn');
  await Promise.race([spawned, exited]);
  const out = async (piece: string | Buffer) => {
    if (!child.stdin.write(piece)) await Promise.race([once(child.stdin, 'drain'), exited]);
  };
  try {
    await streamRepository(plan, out);
    await out('done\n');
  } finally {
    child.stdin.end();
  }
  const [code] = await exited;
  if (code !== 0) throw new Error(`git fast-import of ${plan.gitDir} failed (${code}): ${stderr.trim()}`);
}
