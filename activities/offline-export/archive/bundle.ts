import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { insideStorage, unsafeSource, type ArchiveContext, type Archiver, type ArchiverSpec } from './archiver';
import { TAR_END, tarHeader, tarPadding } from './tar';

const STDERR_KEEP = 2048;

/**
 * GitLab's RepositoryBundleExportService inside FileExportService's tar: `<relation>.tar` holding
 * `<relation>.bundle`, a bundle of every ref (`git bundle create --all`). git writes the bundle to a pipe straight
 * into the gzip stream and the multipart upload: no temporary file, memory bounded by the writer's parts. The tar
 * header, which holds the bundle's size, is written last as the object's head (deferHead). A repository that does
 * not exist, or has no refs, gives an archive with no entry (GitLab skips it the same way).
 */
export function bundleArchiver(relation: string): ArchiverSpec {
  return {
    deferHead: true,
    create(context: ArchiveContext): Archiver {
      let size: number | undefined;
      return {
        async add(lines) {
          if (lines.length > 1) throw new Error(`${relation}: more than one repository row`);
          const line = lines[0];
          if (line === undefined) return 0;
          const { disk_path: diskPath } = JSON.parse(line) as { disk_path: string };
          const gitDir = insideStorage(context.storage.repositories, `${diskPath}.git`, `the ${relation} repository`);
          const found = await stat(gitDir).catch(() => undefined);
          if (!found?.isDirectory()) return 0;
          size = await streamBundle(context, gitDir, relation);
          return size === undefined ? 0 : 1;
        },
        async end() {
          if (size === undefined) {
            await context.sink.write(TAR_END);
            return undefined;
          }
          await context.sink.write(tarPadding(size));
          await context.sink.write(TAR_END);
          return tarHeader({ name: `./${relation}.bundle`, size });
        },
      };
    },
  };
}

/** Pipes `git bundle create - --all` into the sink; its size, or undefined for a repository without refs. */
async function streamBundle(context: ArchiveContext, gitDir: string, relation: string): Promise<number | undefined> {
  const child = spawn('git', ['--git-dir', gitDir, 'bundle', 'create', '--quiet', '-', '--all'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Only the repository's own config: no system or user config (or its hooks and helpers) takes part.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
    },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < STDERR_KEEP) stderr += d;
  });
  const closed = (once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>).catch((err: unknown) => {
    // Retryable: another worker may have git. The worker's host needs Debian's git package.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('git is not installed on this worker');
    throw err;
  });
  closed.catch(() => undefined);
  const kill = () => child.kill('SIGKILL');
  context.signal.addEventListener('abort', kill, { once: true });
  let size = 0;
  try {
    for await (const chunk of child.stdout) {
      if (context.signal.aborted) throw new Error('archiving stopped: the attempt was cancelled');
      size += (chunk as Buffer).length;
      await context.sink.write(chunk as Buffer);
    }
  } catch (err) {
    kill();
    throw err;
  } finally {
    context.signal.removeEventListener('abort', kill);
  }
  const [code, signal] = await closed;
  if (code === 0) return size;
  if (size === 0 && /empty bundle/i.test(stderr)) return undefined;
  const why = stderr.trim().split('\n')[0] || `exit ${code ?? signal}`;
  throw unsafeSource(`git bundle create of the ${relation} repository failed: ${why}`);
}
