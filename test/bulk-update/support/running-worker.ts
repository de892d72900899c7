import type { Config } from '../../../contracts/config';
import { startTestWorker, type TestWorker } from '../../helpers/worker';

export interface RunningWorker extends TestWorker {
  stop(): Promise<void>;
}

/**
 * A test worker that polls for the whole test file (a Worker runs once: runUntil per test would leave later
 * tests without one). stop() shuts it down and closes its clients.
 */
export async function startRunningWorker(name: string, overrides: Partial<Config> = {}): Promise<RunningWorker> {
  const tw = await startTestWorker(name, overrides);
  const running = tw.worker.run();
  return {
    ...tw,
    async stop() {
      if (tw.worker.getState() === 'RUNNING') tw.worker.shutdown();
      await running;
      await tw.close();
    },
  };
}
