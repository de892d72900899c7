import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../contracts/config';
import { closeDeps, createDeps, type Deps } from '../../worker/deps';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { createWorkers } from '../../worker/workers';

let runtimeInstalled = false;

export interface TestWorker {
  config: Config;
  deps: Deps;
  client: Client;
  taskQueue: string;
  worker: Worker;
  /** Makes sure the worker is polling (it keeps polling until close()), then awaits fn. Callable many times. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A real worker on a task queue of its own, against the stack's Temporal server. */
export async function startTestWorker(name: string, configOverrides: Partial<Config> = {}): Promise<TestWorker> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const config = { ...loadConfig(), ...configOverrides };
  const taskQueue = `test-${name}-${randomUUID().slice(0, 8)}`;
  const deps = createDeps(config, `test-${name}`);
  const nativeConnection = await NativeConnection.connect(temporalConnectionOptions(config));
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const [worker] = await createWorkers({ deps, connection: nativeConnection, taskQueues: [taskQueue] });
  let running: Promise<void> | undefined;
  return {
    config,
    deps,
    client,
    taskQueue,
    worker: worker!,
    async run(fn) {
      running ??= worker!.run();
      // A worker that dies makes fn's wait pointless: fail with the worker's error instead of hanging.
      return Promise.race([fn(), running.then(() => Promise.reject(new Error('the test worker stopped')))]);
    },
    async close() {
      if (running) {
        worker!.shutdown();
        await running.catch(() => undefined);
      }
      await connection.close();
      await nativeConnection.close();
      await closeDeps(deps);
    },
  };
}
