import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { lfsFilePath, type StoragePaths } from '../../contracts/config';
import type { Sql } from '../sql';
import { createRepository, hashedDiskPath, pseudoRandomBytes, type RepositoryPlan } from './git-repositories';

// The source instance's files, seeded beside its rows: a bare repository for every project (a wiki for one in four,
// a design repository for one in ten), upload files for every project and group, LFS objects for half the projects.
// Rows and files are written from the same plan, so each row's size and checksum are those of its file.

export interface FileSeedOptions {
  storage: StoragePaths;
  /** The first this-many projects get a large repository (largeRepositoryMb of incompressible data each). */
  largeRepositories?: number;
  largeRepositoryMb?: number;
  /** git fast-import processes at once. */
  concurrency?: number;
}

export interface FileSeedSummary {
  repositories: number;
  wikis: number;
  designs: number;
  uploads: number;
  lfsObjects: number;
  ms: number;
}

interface UploadRow {
  path: string;
  size: number;
  checksum: string;
  model_type: 'Project' | 'Namespace';
  model_id: number;
  uploader: 'FileUploader' | 'NamespaceFileUploader' | 'AvatarUploader';
  mount_point: string | null;
  secret: string | null;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const secretOf = (seed: string) => createHash('md5').update(seed).digest('hex');

/** Where an upload's file lives under the uploads root (see the uploads table in migration 0006). */
export function uploadFilePath(root: string, u: { path: string; uploader: string; model_id: number }): string {
  if (u.uploader === 'FileUploader') return join(root, hashedDiskPath(u.model_id), u.path);
  if (u.uploader === 'NamespaceFileUploader') return join(root, '-', 'system', 'namespace', String(u.model_id), u.path);
  return join(root, u.path);
}

export const hasWiki = (projectId: number): boolean => projectId % 4 === 1;
export const hasDesign = (projectId: number): boolean => projectId % 10 === 3;
export const hasLfs = (projectId: number): boolean => projectId % 2 === 1;

async function inParallel<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

export async function seedFiles(sql: Sql, options: FileSeedOptions): Promise<FileSeedSummary> {
  const started = Date.now();
  const { storage } = options;
  for (const dir of [storage.repositories, storage.uploads, storage.lfsObjects]) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
  }
  const projects = (await sql<{ id: number }[]>`select id::int from projects order by id`).map((r) => r.id);
  const groups = (await sql<{ id: number }[]>`select id::int from namespaces order by id`).map((r) => r.id);

  const uploads: { row: UploadRow; content: Buffer }[] = [];
  const upload = (row: Omit<UploadRow, 'size' | 'checksum'>, content: Buffer) =>
    uploads.push({ row: { ...row, size: content.length, checksum: sha256(content) }, content });
  for (const id of projects) {
    const secret = secretOf(`upload:project:${id}:1`);
    upload(
      {
        path: `${secret}/notes-${id}.txt`,
        model_type: 'Project',
        model_id: id,
        uploader: 'FileUploader',
        mount_point: null,
        secret,
      },
      Buffer.from(`Notes attached to project ${id}.\n`.repeat(1 + (id % 20))),
    );
    if (id % 3 === 0) {
      const s2 = secretOf(`upload:project:${id}:2`);
      upload(
        {
          path: `${s2}/diagram.png`,
          model_type: 'Project',
          model_id: id,
          uploader: 'FileUploader',
          mount_point: null,
          secret: s2,
        },
        pseudoRandomBytes(`upload:${id}`, 2048 + (id % 1024)),
      );
    }
    if (id % 5 === 0) {
      upload(
        {
          path: `-/system/project/avatar/${id}/avatar.png`,
          model_type: 'Project',
          model_id: id,
          uploader: 'AvatarUploader',
          mount_point: 'avatar',
          secret: null,
        },
        pseudoRandomBytes(`avatar:${id}`, 1500),
      );
    }
  }
  for (const id of groups) {
    const secret = secretOf(`upload:group:${id}`);
    upload(
      {
        path: `${secret}/charter.md`,
        model_type: 'Namespace',
        model_id: id,
        uploader: 'NamespaceFileUploader',
        mount_point: null,
        secret,
      },
      Buffer.from(`# Charter of group ${id}\n`),
    );
  }

  // One LFS object every LFS project shares (deduplicated by oid, as GitLab stores them) and one of its own, which a
  // project with a wiki also links for its wiki (repository_type 1).
  const shared = Buffer.from('Shared LFS object of the seeded instance.\n'.repeat(40));
  const lfsObjects = new Map<string, Buffer>([[sha256(shared), shared]]);
  const lfsLinks: { oid: string; project_id: number; repository_type: number | null }[] = [];
  const lfsOfProject = new Map<number, { oid: string; size: number }[]>();
  for (const id of projects.filter(hasLfs)) {
    const own = pseudoRandomBytes(`lfs:${id}`, 1024 + (id % 2048));
    const oid = sha256(own);
    lfsObjects.set(oid, own);
    lfsLinks.push(
      { oid: sha256(shared), project_id: id, repository_type: 0 },
      { oid, project_id: id, repository_type: 0 },
    );
    if (hasWiki(id)) lfsLinks.push({ oid, project_id: id, repository_type: 1 });
    lfsOfProject.set(id, [
      { oid: sha256(shared), size: shared.length },
      { oid, size: own.length },
    ]);
  }

  await sql.begin(async (tx) => {
    await tx`truncate project_repositories, uploads, lfs_objects_projects, lfs_objects restart identity`;
    await tx`
      insert into project_repositories (project_id, disk_path)
      select id, '@hashed/' || substr(h, 1, 2) || '/' || substr(h, 3, 2) || '/' || h
      from (select id, encode(sha256(convert_to(id::text, 'UTF8')), 'hex') as h from projects) p`;
    await tx`
      insert into uploads (path, size, checksum, model_type, model_id, uploader, mount_point, secret)
      select path, size, checksum, model_type, model_id, uploader, mount_point, secret
      from jsonb_to_recordset(${tx.json(uploads.map((u) => u.row) as never)}::jsonb)
        as u(path text, size bigint, checksum text, model_type text, model_id bigint, uploader text, mount_point text, secret text)`;
    await tx`
      insert into lfs_objects (oid, size)
      select oid, size from jsonb_to_recordset(${tx.json([...lfsObjects].map(([oid, b]) => ({ oid, size: b.length })))}::jsonb)
        as o(oid text, size bigint) order by oid`;
    await tx`
      insert into lfs_objects_projects (lfs_object_id, project_id, repository_type)
      select o.id, l.project_id, l.repository_type
      from jsonb_to_recordset(${tx.json(lfsLinks)}::jsonb) as l(oid text, project_id bigint, repository_type smallint)
      join lfs_objects o on o.oid = l.oid`;
  });

  await inParallel(uploads, 16, async ({ row, content }) => {
    const path = uploadFilePath(storage.uploads, row);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  });
  await inParallel([...lfsObjects], 16, async ([oid, content]) => {
    const path = lfsFilePath(storage.lfsObjects, oid);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  });

  const large = options.largeRepositories ?? 0;
  const plans: RepositoryPlan[] = [];
  for (const [i, id] of projects.entries()) {
    const base = join(storage.repositories, hashedDiskPath(id));
    plans.push({
      gitDir: `${base}.git`,
      projectId: id,
      kind: 'project',
      lfs: lfsOfProject.get(id),
      largeBytes: i < large ? (options.largeRepositoryMb ?? 200) * 1024 * 1024 : undefined,
    });
    if (hasWiki(id)) plans.push({ gitDir: `${base}.wiki.git`, projectId: id, kind: 'wiki' });
    if (hasDesign(id)) plans.push({ gitDir: `${base}.design.git`, projectId: id, kind: 'design' });
  }
  await inParallel(plans, options.concurrency ?? 4, createRepository);

  return {
    repositories: projects.length,
    wikis: plans.filter((p) => p.kind === 'wiki').length,
    designs: plans.filter((p) => p.kind === 'design').length,
    uploads: uploads.length,
    lfsObjects: lfsObjects.size,
    ms: Date.now() - started,
  };
}
