import { healthOf, startHealthServer, type HealthServer, type WorkerState } from '../../worker/health';

describe('worker health', () => {
  it('is ready only while there are workers and every one is RUNNING', () => {
    const running: WorkerState[] = [
      { taskQueue: 'offline-export', state: 'RUNNING' },
      { taskQueue: 'security-bulk-update', state: 'RUNNING' },
    ];
    expect(healthOf(running)).toEqual({
      live: { status: 'ok', workers: running },
      ready: { status: 'ok', workers: running },
    });
    expect(healthOf([])).toMatchObject({ live: { status: 'ok' }, ready: { status: 'starting' } });
    for (const state of ['INITIALIZED', 'STOPPING', 'DRAINING', 'DRAINED', 'STOPPED'] as const) {
      const one = [running[0]!, { taskQueue: 'security-bulk-update', state }];
      expect([state, healthOf(one).live.status, healthOf(one).ready.status]).toEqual([state, 'ok', 'not ready']);
    }
    const failed = [running[0]!, { taskQueue: 'security-bulk-update', state: 'FAILED' as const }];
    expect(healthOf(failed)).toMatchObject({ live: { status: 'failed' }, ready: { status: 'failed' } });
  });

  describe('its HTTP endpoint', () => {
    let states: WorkerState[] = [];
    let server: HealthServer;
    const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
    beforeAll(async () => {
      server = await startHealthServer({ port: 0, host: '127.0.0.1', states: () => states });
    });
    afterAll(() => server?.close());

    it('answers /healthz and /readyz from the states at the time of the request', async () => {
      states = [];
      let res = await fetch(url('/readyz'));
      expect([res.status, await res.json()]).toEqual([503, { status: 'starting', workers: [] }]);
      res = await fetch(url('/healthz'));
      expect(res.status).toBe(200);

      states = [{ taskQueue: 'q', state: 'RUNNING' }];
      res = await fetch(url('/readyz?verbose=1'));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({ status: 'ok', workers: [{ taskQueue: 'q', state: 'RUNNING' }] });

      states = [{ taskQueue: 'q', state: 'STOPPING' }];
      expect((await fetch(url('/readyz'))).status).toBe(503);
      expect((await fetch(url('/healthz'))).status).toBe(200);
      expect((await fetch(url('/healthz'), { method: 'HEAD' })).status).toBe(200);
    });

    it("answers GitLab's Sidekiq probe paths (/liveness, /readiness) the same way", async () => {
      states = [{ taskQueue: 'q', state: 'RUNNING' }];
      expect(await (await fetch(url('/readiness'))).json()).toEqual(await (await fetch(url('/readyz'))).json());
      expect((await fetch(url('/liveness'))).status).toBe(200);
      states = [{ taskQueue: 'q', state: 'DRAINING' }];
      expect((await fetch(url('/readiness'))).status).toBe(503);
      expect((await fetch(url('/liveness'))).status).toBe(200);
      states = [{ taskQueue: 'q', state: 'FAILED' }];
      expect((await fetch(url('/liveness'))).status).toBe(503);
    });

    it('refuses other paths and methods', async () => {
      expect((await fetch(url('/metrics'))).status).toBe(404);
      expect((await fetch(url('/readyz/x'))).status).toBe(404);
      const res = await fetch(url('/readyz'), { method: 'POST' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    });
  });

  it('fails to start on a port already taken', async () => {
    const first = await startHealthServer({ port: 0, host: '127.0.0.1', states: () => [] });
    try {
      await expect(startHealthServer({ port: first.port, host: '127.0.0.1', states: () => [] })).rejects.toThrow(
        /EADDRINUSE/,
      );
    } finally {
      await first.close();
    }
  });
});
