import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Loads variables from ENV_FILE, or from the committed dev.env when NODE_ENV is not "production".
 * Variables already set in the environment win, so a real deployment overrides every dev default.
 */
export function loadEnvFile(root = resolve(__dirname, '..')): string | undefined {
  const explicit = process.env.ENV_FILE;
  const candidates = explicit
    ? [resolve(explicit)]
    : process.env.NODE_ENV === 'production'
      ? []
      : [resolve(root, '.env'), resolve(root, 'dev.env')];
  const found = candidates.filter((file) => existsSync(file));
  if (explicit && found.length === 0) {
    process.stderr.write(`ENV_FILE ${explicit} does not exist\n`);
    process.exit(78);
  }
  // Earlier files win: .env (personal, ignored) before dev.env (committed defaults).
  for (const file of found) process.loadEnvFile(file);
  return found[0];
}
