import type { Command } from 'commander';
import type { StackCheckWorkflowType } from '../../../contracts/stack-check';
import { CliError, ExitCode, printJson } from '../errors';

// The database, seed and Temporal modules load inside each action, so that the export and bulk-update commands
// over the API start without them.

const wholeNumber = (value: string) => {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${value} is not a whole number`, ExitCode.USAGE);
  return n;
};

/** The operator's commands: database and worker check (the local stack is `npm run stack:up`, a dev script). */
export function registerOperatorCommands(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (safe to repeat)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const [{ cliConfig }, { createSql }, { migrate }] = await Promise.all([
        import('../context'),
        import('../../../db/sql'),
        import('../../../db/migrate'),
      ]);
      const config = cliConfig();
      const sql = createSql(config.DATABASE_URL, { max: 1 });
      try {
        const result = await migrate(sql);
        if (opts.json) printJson(result);
        else
          process.stdout.write(
            result.applied.length ? `applied ${result.applied.join(', ')}\n` : 'database is up to date\n',
          );
      } finally {
        await sql.end({ timeout: 5 });
      }
    });

  program
    .command('seed')
    .description('fill the database with a deterministic synthetic GitLab instance')
    .option('--projects <n>', 'number of projects', wholeNumber, 100)
    .option('--issues <n>', 'number of issues', wholeNumber, 2000)
    .option('--reset', 'empty the source tables first')
    .option('--json', 'print JSON')
    .action(async (opts: { projects: number; issues: number; reset?: boolean; json?: boolean }) => {
      const [{ cliConfig }, { createSql }, { migrate }, { seedInstance }, { storagePaths }] = await Promise.all([
        import('../context'),
        import('../../../db/sql'),
        import('../../../db/migrate'),
        import('../../../db/seed/generate'),
        import('../../../contracts/config'),
      ]);
      const config = cliConfig();
      const sql = createSql(config.DATABASE_URL, { max: 2 });
      try {
        await migrate(sql);
        const summary = await seedInstance(sql, {
          projects: opts.projects,
          issues: opts.issues,
          reset: opts.reset,
          files: { storage: storagePaths(config) },
        });
        if (opts.json) printJson(summary);
        else
          process.stdout.write(
            `seeded ${summary.groups} groups, ${summary.projects} projects, ${summary.issues} issues ` +
              `(${summary.totalRows} rows in ${(summary.ms / 1000).toFixed(1)} s)\n`,
          );
      } finally {
        await sql.end({ timeout: 5 });
      }
    });

  program
    .command('doctor')
    .description('run a check workflow on a worker and report whether it reaches PostgreSQL, Redis, S3 and SMTP')
    .option('--task-queue <queue>', 'task queue whose worker to check (default: the export queue)')
    .option('--json', 'print JSON')
    .action(async (opts: { taskQueue?: string; json?: boolean }) => {
      const [{ withContext }, { webUiLink }, { STACK_CHECK_WORKFLOW, stackCheckWorkflowId }] = await Promise.all([
        import('../context'),
        import('../../../contracts/temporal'),
        import('../../../contracts/stack-check'),
      ]);
      return withContext(async ({ temporal, config }) => {
        const workflowId = stackCheckWorkflowId(`cli-${Date.now()}`);
        const result = await temporal.workflow.execute<StackCheckWorkflowType>(STACK_CHECK_WORKFLOW, {
          workflowId,
          taskQueue: opts.taskQueue ?? config.TEMPORAL_TASK_QUEUE_EXPORT,
          args: [{ requestedBy: 'cli' }],
          staticSummary: 'Worker dependency check (CLI)',
          workflowExecutionTimeout: '2 minutes',
        });
        if (opts.json) printJson(result);
        else {
          for (const d of result.dependencies)
            process.stdout.write(`${d.name.padEnd(10)} ${d.ok ? 'ok    ' : 'FAILED'} ${d.detail}\n`);
          process.stdout.write(`${webUiLink(config, workflowId)}\n`);
        }
        if (!result.ok) process.exitCode = ExitCode.UNAVAILABLE;
      });
    });
}
