import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from './log';
import { REPO_ROOT } from './paths';
import { run } from './process';
import { StackError, type Service } from './service';

/**
 * Builds the Temporal CLI / MinIO when a service that needs one must be started and the binary is missing.
 * A server that already answers (say, from another checkout) needs no binary, so no multi-minute build.
 */
export async function ensureTools(services: Service[], log: Logger): Promise<void> {
  const missing: Service[] = [];
  for (const service of services) {
    if (!service.toolBinary || existsSync(service.toolBinary) || !service.local) continue;
    if ((await service.probe()).state !== 'up') missing.push(service);
  }
  const first = missing[0]?.toolBinary;
  if (!first) return;
  log(`missing ${missing.map((s) => basename(s.toolBinary ?? s.name)).join(', ')}; running scripts/build-tools.sh`);
  const result = await run('bash', [join(REPO_ROOT, 'scripts', 'build-tools.sh')], {
    stream: true,
    env: { STACK_TOOLS_DIR: dirname(dirname(first)) },
  });
  if (result.code !== 0) throw new StackError([`scripts/build-tools.sh failed (exit ${result.code})`]);
}
