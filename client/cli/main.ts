import { Command, CommanderError } from 'commander';
import { chooseLogFormat, createLogger } from '../../contracts/logger';
import { CliError, ExitCode } from './errors';
import { registerBulkUpdateCommands } from './commands/bulk-update';
import { registerExportCommands } from './commands/export';
import { registerOperatorCommands } from './commands/operator';
import { packageVersion } from './version';

const program = new Command('gitlab-temporal')
  .description('Offline transfer exports and security-attribute bulk updates on Temporal')
  .version(packageVersion(), '-V, --version')
  .exitOverride()
  .addHelpText(
    'after',
    `
The export and bulk-update commands talk to the REST API with a personal access token:
  GITLAB_TEMPORAL_URL (or --url, default http://127.0.0.1:3000) and GITLAB_TEMPORAL_TOKEN (or --token).
Administrators with database and Temporal access can act as a user directly: --direct --user <username>
(--user alone implies --direct); migrate, seed and doctor always work directly.
-o json (or --json) prints the API's JSON (snake_case); progress goes to stderr.

Exit codes: 0 done, 1 failed (or finished with failures), 2 bad arguments or rejected request, 3 not found,
4 cancelled, 5 a server did not answer (or rate limit), 77 no token or token refused, 78 bad configuration.`,
  );
registerExportCommands(program);
registerBulkUpdateCommands(program);
registerOperatorCommands(program);

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    return;
  }
  const code = err instanceof CliError ? err.exitCode : ExitCode.FAILED;
  // A refusal the CLI explains stays one line; anything unexpected is logged with its stack and causes.
  if (err instanceof CliError) process.stderr.write(`error: ${err.message}\n`);
  else
    createLogger({
      component: 'cli',
      destination: 2,
      format: chooseLogFormat('auto', process.stderr, undefined),
    }).error(err instanceof Error ? err.message : String(err), { error: err });
  process.exitCode = code;
});
