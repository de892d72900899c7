import { Command, CommanderError } from 'commander';
import { CliError, ExitCode } from './context';
import { registerBulkUpdateCommands } from './commands/bulk-update';
import { registerExportCommands } from './commands/export';
import { registerOperatorCommands } from './commands/operator';

const program = new Command('gitlab-temporal')
  .description('Offline transfer exports and security-attribute bulk updates on Temporal')
  .exitOverride()
  .addHelpText(
    'after',
    `
Exit codes: 0 done, 1 failed, 2 bad arguments or rejected request, 3 not found, 4 cancelled,
5 a server did not answer, 78 bad configuration.`,
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
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = code;
});
