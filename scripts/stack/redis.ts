import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Config } from '../../contracts/config';
import { formatHostPort, isLoopback, sleep, tcpAnswers, urlHostPort } from './net';
import type { StackPaths } from './paths';
import { alive, logFile, pidFile, readPidFile, run } from './process';
import { errorMessage, type Probe, type Service } from './service';

function writableDir(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function redisService(config: Config, paths: StackPaths): Service {
  const target = urlHostPort(config.REDIS_URL, 6379);
  // The system's Redis folders when they exist (as on CI images), else the stack's own data dir.
  const dir = writableDir('/var/lib/redis') ? '/var/lib/redis' : join(paths.dataDir, 'redis');
  const log = writableDir('/var/log/redis') ? '/var/log/redis/ci.log' : logFile(paths, 'redis');
  const pidPath = pidFile(paths, 'redis');

  return {
    name: 'redis',
    address: formatHostPort(target),
    configVar: 'REDIS_URL',
    local: isLoopback(target.host),
    commandToken: 'redis-server',
    logFile: log,
    readyTimeoutMs: 15_000,
    // redis-server daemonizes itself, so the recorded pid is the daemon's, not a child of ours.
    groupLeader: false,

    async probe(): Promise<Probe> {
      const client = new Redis(config.REDIS_URL, {
        lazyConnect: true,
        connectTimeout: 1500,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      // Without a listener ioredis prints every connection error itself.
      client.on('error', () => {});
      try {
        await client.connect();
        await client.ping();
        return { state: 'up' };
      } catch (err) {
        if (!(await tcpAnswers(target))) return { state: 'down' };
        return { state: 'foreign', detail: `answers but not as the Redis in REDIS_URL: ${errorMessage(err)}` };
      } finally {
        client.disconnect();
      }
    },

    async start() {
      const tool = await run('sh', ['-c', 'command -v redis-server']);
      if (tool.code !== 0) {
        throw new Error(
          `Redis does not answer at ${formatHostPort(target)} and redis-server is not installed here. ` +
            'Install it (apt-get install redis-server) or set REDIS_URL to a Redis server that runs.',
        );
      }
      if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
      mkdirSync(paths.pidsDir, { recursive: true });
      const args = [
        '--daemonize',
        'yes',
        // "-" makes the IPv6 loopback optional, for machines without IPv6.
        '--bind',
        '127.0.0.1',
        '-::1',
        '--port',
        String(target.port),
        // A cache for development: nothing is written to disk.
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--logfile',
        log,
        // Redis writes (and on shutdown removes) its own pid file, which doubles as the stack's record.
        '--pidfile',
        pidPath,
      ];
      const result = await run('redis-server', args);
      if (result.code !== 0) throw new Error(`redis-server failed to start: ${result.output}`);
      for (let i = 0; i < 40; i++) {
        const written = readPidFile(pidPath);
        if (written) return { pid: written.pid, exitedWith: () => (alive(written.pid) ? undefined : 'exited') };
        await sleep(50);
      }
      throw new Error(`redis-server started but wrote no pid file ${pidPath}`);
    },
  };
}
