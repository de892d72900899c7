import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import globalSetup from '../setup/global-setup';
import { applyTestEnv } from '../setup/test-env';
import { startTestWorker } from '../helpers/worker';
import { scenarios } from './scenarios';

import { HISTORIES_DIR } from './histories';
const TEMPORAL_CLI = join(__dirname, '..', '..', process.env.STACK_TOOLS_DIR ?? '.tools', 'bin', 'temporal');

/**
 * Records the histories of real runs (npm run histories:record [scenario ...]): brings the stack and the test
 * database up like the test suite does, runs each scenario on a real worker and writes its history as the same
 * JSON `temporal workflow show --output json` prints.
 */
async function main(): Promise<void> {
  applyTestEnv();
  await globalSetup();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !(name in scenarios));
  if (unknown.length > 0)
    throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  mkdirSync(HISTORIES_DIR, { recursive: true });
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    const tw = await startTestWorker(`history-${name}`, scenario.config);
    try {
      const recordings = await tw.run(() => scenario.run(tw));
      for (const recording of recordings) {
        // The CLI's JSON is the format users keep in CI, and what Worker.runReplayHistories accepts.
        const json = execFileSync(
          TEMPORAL_CLI,
          [
            'workflow',
            'show',
            '--workflow-id',
            recording.workflowId,
            ...(recording.runId ? ['--run-id', recording.runId] : []),
            '--output',
            'json',
            '--address',
            tw.config.TEMPORAL_ADDRESS,
            '--namespace',
            tw.config.TEMPORAL_NAMESPACE,
          ],
          { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
        );
        const events = (JSON.parse(json) as { events: unknown[] }).events.length;
        const file = join(HISTORIES_DIR, `${recording.name}.json`);
        writeFileSync(file, json.endsWith('\n') ? json : `${json}\n`);
        process.stdout.write(`recorded ${recording.name}: ${events} events -> ${file}\n`);
      }
    } finally {
      await tw.close();
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
