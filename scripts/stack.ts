import { Command } from 'commander';
import { loadConfigOrExit } from '../contracts/config';
import { loadEnvFile } from '../contracts/env-file';
import { formatStatus, StackError, stackDown, stackStatus, stackUp } from './stack/index';

// Local development stack: Temporal dev server, MinIO, maildev, plus checks of PostgreSQL and Redis.

function config() {
  loadEnvFile();
  return loadConfigOrExit();
}

function fail(err: unknown): void {
  const lines = err instanceof StackError ? err.lines : [err instanceof Error ? err.message : String(err)];
  for (const line of lines) process.stderr.write(`stack: ${line}\n`);
  process.exitCode = 1;
}

const program = new Command('stack').description('Start, stop and inspect the local development stack');

program
  .command('up')
  .description('start what is not running and wait until every service answers')
  .action(async () => {
    await stackUp(config()).catch(fail);
  });

program
  .command('down')
  .description('stop what `up` started; leave other servers alone')
  .action(async () => {
    await stackDown(config()).catch(fail);
  });

program
  .command('status')
  .description('one line per service; exit code 1 unless all are up')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const statuses = await stackStatus(config());
    if (opts.json) process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
    else for (const line of formatStatus(statuses)) process.stdout.write(`stack: ${line}\n`);
    process.exitCode = statuses.every((s) => s.up) ? 0 : 1;
  });

program.parseAsync().catch(fail);
