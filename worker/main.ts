import { NativeConnection, Runtime } from '@temporalio/worker';
import { hostname } from 'node:os';
import { loadConfigOrExit, redactedConfig } from '../contracts/config';
import { closeDeps, createDeps } from './deps';
import { loadEnvFile } from '../contracts/env-file';
import { createLogger } from '../contracts/logger';
import { temporalConnectionOptions } from '../contracts/temporal';
import { createWorkers } from './workers';

async function main(): Promise<void> {
  loadEnvFile();
  const config = loadConfigOrExit();
  const log = createLogger({ level: config.LOG_LEVEL, component: 'worker' });
  Runtime.install({
    logger: log,
    // The runtime turns SIGINT/SIGTERM into a graceful shutdown of every worker: polling stops, in-flight tasks
    // get shutdownGraceTime to finish, then worker.run() resolves and we close the clients.
    shutdownSignals: ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'],
    telemetryOptions: config.METRICS_PORT
      ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.METRICS_PORT}` } } }
      : undefined,
  });
  log.info('starting worker', { config: redactedConfig(config) });

  const deps = createDeps(config, 'worker');
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  try {
    const workers = await createWorkers({
      deps,
      connection,
      useBundle: process.env.NODE_ENV === 'production' || config.WORKER_PREBUILT_BUNDLE,
      identity: `${process.pid}@${hostname()}`,
    });
    log.info('worker polling', {
      taskQueues: workers.map((w) => w.options.taskQueue),
      namespace: config.TEMPORAL_NAMESPACE,
    });
    await Promise.all(workers.map((w) => w.run()));
    log.info('worker stopped');
  } finally {
    await connection.close();
    await closeDeps(deps);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
