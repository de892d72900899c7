import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../contracts/config';
import { formatHostPort, httpGet, isLoopback, tcpAnswers } from './net';
import { REPO_ROOT, type StackPaths } from './paths';
import { logFile, spawnDetached } from './process';
import type { Probe, Service } from './service';

// maildev's package "exports" hide package.json from require.resolve, so read its bin entry from disk.
function maildevBin(): string {
  const dir = join(REPO_ROOT, 'node_modules', 'maildev');
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) throw new Error('maildev is not installed; run npm install');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.maildev;
  if (!bin) throw new Error('node_modules/maildev has no maildev bin');
  return join(dir, bin);
}

export function maildevService(config: Config, paths: StackPaths): Service {
  const smtp = { host: config.SMTP_HOST, port: config.SMTP_PORT };
  const webUrl = `http://127.0.0.1:${config.MAILDEV_WEB_PORT}`;

  return {
    name: 'maildev',
    address: formatHostPort(smtp),
    url: webUrl,
    configVar: 'SMTP_HOST / SMTP_PORT',
    local: isLoopback(smtp.host),
    commandToken: 'maildev',
    logFile: logFile(paths, 'maildev'),
    readyTimeoutMs: 20_000,
    groupLeader: true,

    async probe(): Promise<Probe> {
      const [api, smtpUp] = await Promise.all([httpGet(`${webUrl}/api/email`), tcpAnswers(smtp)]);
      // maildev 3 lists mail as a JSON array at /api/email (v2 used /email), which tells it from other servers.
      const isMaildev = api?.status === 200 && api.body.trimStart().startsWith('[');
      if (isMaildev && smtpUp) return { state: 'up' };
      if (api && !isMaildev) return { state: 'foreign', detail: `${webUrl}/api/email answers HTTP ${api.status}` };
      if (isMaildev) return { state: 'down', detail: `web answers but SMTP ${formatHostPort(smtp)} does not` };
      return smtpUp
        ? { state: 'foreign', detail: `SMTP port answers but ${webUrl}/api/email does not` }
        : { state: 'down' };
    },

    async start() {
      const mailDir = join(paths.dataDir, 'maildev');
      mkdirSync(mailDir, { recursive: true });
      const args = [
        maildevBin(),
        '--smtp',
        String(smtp.port),
        '--ip',
        '127.0.0.1',
        '--web',
        String(config.MAILDEV_WEB_PORT),
        '--web-ip',
        '127.0.0.1',
        '--mail-directory',
        mailDir,
      ];
      return spawnDetached(process.execPath, args, logFile(paths, 'maildev'));
    },
  };
}
