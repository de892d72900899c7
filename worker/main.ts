import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { hostname } from 'node:os';
import { loadConfigOrExit, redactedConfig } from '../contracts/config';
import { closeDeps, createDeps } from './deps';
import { loadEnvFile } from '../contracts/env-file';
import { chooseLogFormat, createLogger, type Logger } from '../contracts/logger';
import { temporalConnectionOptions } from '../contracts/temporal';
import { startHealthServer, type HealthServer } from './health';
import { createWorkers } from './workers';

let log: Logger | undefined;

async function main(): Promise<void> {
  loadEnvFile();
  const config = loadConfigOrExit();
  log = createLogger({
    level: config.LOG_LEVEL,
    component: 'worker',
    format: chooseLogFormat(config.LOG_FORMAT, process.stdout, config.NODE_ENV),
  });
  Runtime.install({
    logger: log,
    // The runtime turns SIGINT/SIGTERM into a graceful shutdown of every worker: polling stops, in-flight tasks
    // get shutdownGraceTime to finish, then worker.run() resolves and we close the clients.
    shutdownSignals: ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'],
    // The SDK's metrics and ours (worker/business-metrics.ts) on one Prometheus endpoint.
    telemetryOptions: config.METRICS_PORT
      ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.METRICS_PORT}` } } }
      : undefined,
  });
  const identity = `${process.pid}@${hostname()}`;
  log.info('starting worker', { identity, config: redactedConfig(config) });

  // Up before the slow part (connecting, bundling workflows), so a probe sees "starting" rather than nothing.
  let workers: Worker[] = [];
  let health: HealthServer | undefined;
  if (config.WORKER_HEALTH_PORT) {
    health = await startHealthServer({
      port: config.WORKER_HEALTH_PORT,
      states: () => workers.map((w) => ({ taskQueue: w.options.taskQueue, state: w.getState() })),
    });
    log.info('health endpoint listening', {
      port: health.port,
      paths: ['/liveness', '/readiness', '/healthz', '/readyz'],
    });
  }
  const deps = createDeps(config, 'worker');
  try {
    const connection = await NativeConnection.connect(temporalConnectionOptions(config));
    try {
      workers = await createWorkers({
        deps,
        connection,
        useBundle: config.NODE_ENV === 'production' || config.WORKER_PREBUILT_BUNDLE,
        identity,
      });
      const running = Promise.all(workers.map((w) => w.run()));
      log.info('worker polling', {
        taskQueues: workers.map((w) => w.options.taskQueue),
        namespace: config.TEMPORAL_NAMESPACE,
        ...(config.METRICS_PORT ? { metricsPort: config.METRICS_PORT } : {}),
      });
      await running;
      log.info('worker stopped');
    } finally {
      await connection.close();
    }
  } finally {
    await health?.close();
    await closeDeps(deps);
  }
}

main().catch((err: unknown) => {
  if (log) log.error('worker failed', { error: err });
  else process.stderr.write(`worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
