import type { State } from '@temporalio/worker';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// The worker's probe endpoint. The SDK's Prometheus server is its own (it serves /metrics only), so this is a small
// server of ours on WORKER_HEALTH_PORT, with the paths of GitLab's Sidekiq health check server (/liveness,
// /readiness) and the Kubernetes-style ones (/healthz, /readyz) for the same answers:
//   liveness   200 while no worker has FAILED (a failed worker ends the process soon after anyway)
//   readiness  200 only while there are workers and every one is RUNNING (polling its task queue);
//              503 while starting (connecting, bundling workflows), draining or stopping
// Both answer JSON: {"status": ..., "workers": [{"taskQueue": ..., "state": ...}]}.

export interface WorkerState {
  taskQueue: string;
  state: State;
}

export interface HealthReport {
  status: 'ok' | 'starting' | 'not ready' | 'failed';
  workers: WorkerState[];
}

/** Liveness and readiness from the workers' states (none yet: the process is starting). */
export function healthOf(workers: WorkerState[]): { live: HealthReport; ready: HealthReport } {
  const failed = workers.some((w) => w.state === 'FAILED');
  const ready = workers.length > 0 && workers.every((w) => w.state === 'RUNNING');
  const notReady = failed ? 'failed' : workers.length === 0 ? 'starting' : 'not ready';
  return {
    live: { status: failed ? 'failed' : 'ok', workers },
    ready: { status: ready ? 'ok' : notReady, workers },
  };
}

const PATHS: Record<string, 'live' | 'ready' | undefined> = {
  '/liveness': 'live',
  '/healthz': 'live',
  '/readiness': 'ready',
  '/readyz': 'ready',
};

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Serves /healthz and /readyz from `states`, read at each request; resolves once listening. */
export function startHealthServer(options: {
  port: number;
  host?: string;
  states: () => WorkerState[];
}): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const probe = PATHS[(req.url ?? '/').split('?')[0]!];
    if (!probe) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":"not found: try /readiness or /liveness"}');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' }).end('{"error":"GET only"}');
      return;
    }
    const { live, ready } = healthOf(options.states());
    const report = probe === 'live' ? live : ready;
    const body = JSON.stringify(report);
    res
      .writeHead(report.status === 'ok' ? 200 : 503, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body),
      })
      .end(req.method === 'HEAD' ? undefined : body);
  });
  // Probes must not keep a stopping worker alive.
  server.keepAliveTimeout = 1_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
