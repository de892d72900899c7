import { resolve } from 'node:path';
import type { Config } from '../../contracts/config';

export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface StackPaths {
  dataDir: string;
  toolsBin: string;
  logsDir: string;
  pidsDir: string;
}

// Relative directories are taken from the repo root so that `up` from a sub-folder or from jest (whose cwd may
// differ) finds the same data, pid files and binaries.
export function stackPaths(config: Pick<Config, 'STACK_DATA_DIR' | 'STACK_TOOLS_DIR'>): StackPaths {
  const dataDir = resolve(REPO_ROOT, config.STACK_DATA_DIR);
  return {
    dataDir,
    toolsBin: resolve(REPO_ROOT, config.STACK_TOOLS_DIR, 'bin'),
    logsDir: resolve(dataDir, 'logs'),
    pidsDir: resolve(dataDir, 'pids'),
  };
}
