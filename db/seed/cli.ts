import { Command, InvalidArgumentError } from 'commander';
import { loadConfigOrExit, storagePaths } from '../../contracts/config';
import { loadEnvFile } from '../../contracts/env-file';
import { migrate } from '../migrate';
import { createSql, databaseName } from '../sql';
import { SeedRefusedError, seedInstance } from './generate';

const count = (name: string) => (value: string) => {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};

interface SeedCliOptions {
  projects: number;
  issues: number;
  notesPerIssue: number;
  reset: boolean;
  json: boolean;
  files: boolean;
  largeRepositories: number;
  largeRepositoryMb: number;
}

const program = new Command('seed')
  .description('Fill the database with a deterministic synthetic GitLab instance (groups, projects, issues, ...)')
  .option('--projects <n>', 'number of projects', count('--projects'), 100)
  .option('--issues <n>', 'number of issues, spread evenly over the projects', count('--issues'), 2000)
  .option('--notes-per-issue <n>', 'notes on each issue', count('--notes-per-issue'), 2)
  .option('--reset', 'empty the source tables first (otherwise a non-empty database is refused)', false)
  .option('--no-files', 'no repositories, uploads or LFS objects on disk (rows only)')
  .option('--large-repositories <n>', 'the first n projects get a large repository', count('--large-repositories'), 0)
  .option('--large-repository-mb <n>', 'size of each large repository in MB', count('--large-repository-mb'), 300)
  .option('--json', 'print the summary as JSON', false)
  .action(async (opts: SeedCliOptions) => {
    loadEnvFile();
    const config = loadConfigOrExit();
    const sql = createSql(config.DATABASE_URL, { max: 2, applicationName: 'gitlab-temporal-seed' });
    try {
      await migrate(sql);
      const summary = await seedInstance(sql, {
        projects: opts.projects,
        issues: opts.issues,
        notesPerIssue: opts.notesPerIssue,
        reset: opts.reset,
        files: opts.files
          ? {
              storage: storagePaths(config),
              largeRepositories: opts.largeRepositories,
              largeRepositoryMb: opts.largeRepositoryMb,
            }
          : undefined,
        onProgress: opts.json
          ? undefined
          : (step, rows, ms) =>
              process.stdout.write(
                `seed: ${step.padEnd(32)} ${String(rows).padStart(9)} rows ${String(ms).padStart(7)} ms\n`,
              ),
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } else {
        const perSecond = Math.round(summary.totalRows / (summary.ms / 1000));
        process.stdout.write(
          `seed: ${databaseName(config.DATABASE_URL)}: ${summary.users} users, ${summary.groups} groups ` +
            `(${summary.rootGroups} root), ${summary.projects} projects, ${summary.issues} issues, ` +
            `${summary.mergeRequests} merge requests, ${summary.notes} notes\n` +
            `seed: ${summary.totalRows} rows in ${(summary.ms / 1000).toFixed(1)} s (${perSecond} rows/s)\n`,
        );
      }
    } catch (err) {
      if (err instanceof SeedRefusedError) {
        process.stderr.write(`seed: ${err.message}\n`);
        process.exitCode = 2;
        return;
      }
      throw err;
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`seed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
