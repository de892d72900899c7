import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { lfsFilePath, storagePaths } from '../../contracts/config';
import {
  OFFLINE_EXPORT_WORKFLOW,
  offlineExportWorkflowId,
  type OfflineExportResult,
} from '../../contracts/offline-export';
import { RelationStatus } from '../../db/offline-export/statuses';
import { hasDesign, hasWiki, uploadFilePath } from '../../db/seed/files';
import { createStackS3Client } from '../../worker/deps';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { getObject, insertExport, listKeys, openUploadsUnder } from './fixture';

// The file relations on the real stack: the seeded instance's bare repositories, wikis, designs, uploads and LFS
// objects exported to the dev bucket, then read back with the real tools: GNU tar extracts each archive, `git bundle
// verify` checks each bundle, and a mirror clone of it has exactly the source repository's refs and commit ids.

const ALICE = 2;
const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('file relations: repositories, wikis, designs, uploads, LFS objects', () => {
  let tw: TestWorker;
  let s3: S3Client;
  let work: string;
  beforeAll(async () => {
    tw = await startTestWorker('file-relations', { EXPORT_BATCH_SIZE: 20, EXPORT_CREDENTIALS_PURGE_DELAY_MS: 1_000 });
    s3 = createStackS3Client(tw.config);
    work = mkdtempSync(join(tmpdir(), 'file-relations-'));
  });
  afterAll(async () => {
    s3?.destroy();
    await tw?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const runExport = async (paths: string[]) => {
    const created = await insertExport(tw.deps.sql, tw.config, ALICE, paths);
    const result = await tw.run(
      () =>
        tw.client.workflow.execute(OFFLINE_EXPORT_WORKFLOW, {
          workflowId: offlineExportWorkflowId(created.exportId),
          taskQueue: tw.taskQueue,
          args: [{ exportId: created.exportId }],
        }) as Promise<OfflineExportResult>,
    );
    return { ...created, result };
  };

  /** Downloads one archive and extracts it with GNU tar into a fresh directory. */
  const extract = async (key: string): Promise<string> => {
    const dir = mkdtempSync(join(work, 'x-'));
    writeFileSync(join(dir, 'archive.tar.gz'), await getObject(s3, tw.config.S3_BUCKET, key));
    mkdirSync(join(dir, 'out'));
    execFileSync('tar', ['-xzf', join(dir, 'archive.tar.gz'), '-C', join(dir, 'out')]);
    return join(dir, 'out');
  };

  const refsOf = (gitDir: string) =>
    git('--git-dir', gitDir, 'for-each-ref', '--format=%(objectname) %(refname)').trim().split('\n').sort();

  it('exports every file relation of every project and group, identical to the source', async () => {
    const { sql } = tw.deps;
    const storage = storagePaths(tw.config);
    const { exportPrefix, exportId, result } = await runExport(['gitlab-org']);
    expect(result).toMatchObject({ status: 'finished', hasFailures: false });
    const keys = new Set(await listKeys(s3, tw.config.S3_BUCKET, exportPrefix));

    const projects = await sql<{ id: number; disk_path: string }[]>`
      select r.project_id::int as id, pr.disk_path
      from bulk_import_exports r join project_repositories pr on pr.project_id = r.project_id
      where r.offline_export_id = ${exportId} and r.relation = 'self' order by 1`;
    expect(projects).toHaveLength(30);
    let wikis = 0;
    let designs = 0;
    for (const p of projects) {
      const base = `${exportPrefix}/project_${p.id}`;
      for (const [relation, suffix, present] of [
        ['repository', '', true],
        ['wiki', '.wiki', hasWiki(p.id)],
        ['design', '.design', hasDesign(p.id)],
      ] as const) {
        const key = `${base}/${relation}.tar.gz`;
        expect(keys.has(key)).toBe(true);
        const out = await extract(key);
        const bundle = join(out, `${relation}.bundle`);
        if (!present) {
          // No such repository: an archive with no entry, as GitLab's export leaves it.
          expect(readdirSync(out)).toEqual([]);
          continue;
        }
        if (relation === 'wiki') wikis++;
        if (relation === 'design') designs++;
        git('bundle', 'verify', '--quiet', bundle);
        const clone = join(out, 'clone.git');
        git('clone', '--quiet', '--mirror', bundle, clone);
        const source = join(storage.repositories, `${p.disk_path}${suffix}.git`);
        expect(refsOf(clone)).toEqual(refsOf(source));
      }
    }
    expect(wikis).toBeGreaterThan(3);
    expect(designs).toBeGreaterThan(0);

    // Uploads of projects and groups: each file under its secret (or avatar/), byte for byte the source's.
    const uploads = await sql<
      { id: number; model_type: string; model_id: number; path: string; uploader: string; secret: string | null }[]
    >`
      select u.id, u.model_type, u.model_id::int as model_id, u.path, u.uploader, u.secret
      from uploads u join bulk_import_exports r on r.offline_export_id = ${exportId} and r.relation = 'self'
        and ((u.model_type = 'Project' and u.model_id = r.project_id) or (u.model_type = 'Namespace' and u.model_id = r.group_id))
      order by u.id`;
    expect(uploads.length).toBeGreaterThan(40);
    const extracted = new Map<string, string>();
    for (const u of uploads) {
      const entity = `${u.model_type === 'Project' ? 'project' : 'group'}_${u.model_id}`;
      const key = `${exportPrefix}/${entity}/uploads/batch_1.tar.gz`;
      expect(keys.has(key)).toBe(true);
      if (!extracted.has(key)) extracted.set(key, await extract(key));
      const name = u.uploader === 'AvatarUploader' ? `avatar/avatar.png` : `${u.secret}/${u.path.split('/').pop()}`;
      expect(readFileSync(join(extracted.get(key)!, name))).toEqual(readFileSync(uploadFilePath(storage.uploads, u)));
    }

    // LFS objects: one file per oid plus lfs_objects.json of oid to repository types.
    const lfs = await sql<{ project_id: number; oid: string; types: (number | null)[] }[]>`
      select lop.project_id::int as project_id, o.oid, array_agg(distinct lop.repository_type) as types
      from lfs_objects_projects lop join lfs_objects o on o.id = lop.lfs_object_id
      where lop.project_id in ${sql(projects.map((p) => p.id))}
      group by lop.project_id, o.oid`;
    expect(lfs.length).toBeGreaterThan(10);
    const byProject = new Map<number, (typeof lfs)[number][]>();
    for (const l of lfs) byProject.set(l.project_id, [...(byProject.get(l.project_id) ?? []), l]);
    for (const [projectId, objects] of byProject) {
      const out = await extract(`${exportPrefix}/project_${projectId}/lfs_objects/batch_1.tar.gz`);
      const json = JSON.parse(readFileSync(join(out, 'lfs_objects.json'), 'utf8')) as Record<string, unknown[]>;
      expect(Object.keys(json).sort()).toEqual(objects.map((o) => o.oid).sort());
      for (const o of objects) {
        expect(json[o.oid]!.slice().sort()).toEqual(o.types.slice().sort());
        expect(readFileSync(join(out, o.oid))).toEqual(readFileSync(lfsFilePath(storage.lfsObjects, o.oid)));
      }
    }
    // A project without LFS objects has no lfs_objects object (no batch), and its row is finished with 0 objects.
    const rows = await sql<{ relation: string; status: number; total_objects_count: number }[]>`
      select relation, status, total_objects_count from bulk_import_exports
      where offline_export_id = ${exportId} and relation in ('repository', 'wiki', 'design', 'uploads', 'lfs_objects')`;
    expect(rows.every((r) => r.status === RelationStatus.FINISHED)).toBe(true);
    expect(rows.filter((r) => r.relation === 'repository').every((r) => r.total_objects_count === 1)).toBe(true);
  });

  it('fails only the relation whose source is hostile or broken, writing nothing outside the export prefix', async () => {
    const { sql } = tw.deps;
    const storage = storagePaths(tw.config);
    const projectAt = async (path: string) => {
      const [p] = await sql<{ id: number; disk_path: string }[]>`
        select p.id::int as id, pr.disk_path from routes r join projects p on r.source_type = 'Project' and r.source_id = p.id
        join project_repositories pr on pr.project_id = p.id where r.path = ${path}`;
      return p!;
    };
    // Project A: a repository path that climbs out of storage (its wiki and design paths derive from it) and an
    // upload whose name climbs out of its directory. Project B: a broken repository (a ref to a missing commit).
    const a = await projectAt('org-2/project-2');
    const b = await projectAt('org-2/backend/project-4');
    const [upload] = await sql<{ id: number; path: string }[]>`
      select id, path from uploads where model_type = 'Project' and model_id = ${a.id} order by id limit 1`;
    const outside = join(storage.repositories, '..', 'outside.git');
    const real = join(storage.repositories, `${b.disk_path}.git`);
    const aside = `${real}.aside`;
    try {
      execFileSync('git', ['init', '--quiet', '--bare', outside]);
      await sql`update project_repositories set disk_path = '../outside' where project_id = ${a.id}`;
      await sql`update uploads set path = ${`${upload!.path.split('/')[0]}/../../../../../etc/passwd`} where id = ${upload!.id}`;
      renameSync(real, aside);
      mkdirSync(join(real, 'refs', 'heads'), { recursive: true });
      mkdirSync(join(real, 'objects'), { recursive: true });
      writeFileSync(join(real, 'HEAD'), 'ref: refs/heads/main\n');
      writeFileSync(join(real, 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = true\n');
      writeFileSync(join(real, 'refs', 'heads', 'main'), `${'1'.repeat(40)}\n`);

      const { exportPrefix, exportId, result } = await runExport(['org-2/project-2', 'org-2/backend/project-4']);
      expect(result).toMatchObject({ status: 'finished', hasFailures: true });
      const failed = await sql<{ project_id: number; relation: string; error: string }[]>`
        select project_id::int, relation, error from bulk_import_exports
        where offline_export_id = ${exportId} and status = ${RelationStatus.FAILED} order by project_id, relation`;
      const errorOf = (projectId: number, relation: string) =>
        failed.find((f) => f.project_id === projectId && f.relation === relation)?.error;
      expect(failed.map((f) => `${f.project_id}:${f.relation}`).sort()).toEqual(
        [`${a.id}:design`, `${a.id}:repository`, `${a.id}:uploads`, `${a.id}:wiki`, `${b.id}:repository`].sort(),
      );
      expect(errorOf(a.id, 'repository')).toBe(
        'the repository repository has a path that leaves its storage: "../outside.git"',
      );
      expect(errorOf(a.id, 'wiki')).toMatch(/the wiki repository has a path that leaves its storage/);
      expect(errorOf(a.id, 'uploads')).toMatch(new RegExp(`^upload ${upload!.id} has a path that leaves its storage`));
      expect(errorOf(b.id, 'repository')).toMatch(/^git bundle create of the repository repository failed: /);
      // Everything written is under the prefix; the failed relations left no object and no open upload.
      const all = await listKeys(s3, tw.config.S3_BUCKET, exportPrefix);
      for (const f of failed) expect(all.some((k) => k.includes(`/project_${f.project_id}/${f.relation}`))).toBe(false);
      expect(all.some((k) => k.endsWith(`/project_${b.id}/wiki.tar.gz`))).toBe(true);
      expect(await openUploadsUnder(s3, tw.config.S3_BUCKET, exportPrefix)).toEqual([]);
    } finally {
      await sql`update project_repositories set disk_path = ${a.disk_path} where project_id = ${a.id}`;
      await sql`update uploads set path = ${upload!.path} where id = ${upload!.id}`;
      rmSync(outside, { recursive: true, force: true });
      if (existsSync(aside)) {
        rmSync(real, { recursive: true, force: true });
        renameSync(aside, real);
      }
    }
  });
});
