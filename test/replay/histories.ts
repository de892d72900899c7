import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const HISTORIES_DIR = join(__dirname, '..', 'histories');

export interface RecordedHistory {
  name: string;
  workflowId: string;
  history: unknown;
}

/** Every committed history (test/histories/*.json), in the JSON the Temporal CLI prints. */
export function loadHistories(dir = HISTORIES_DIR): RecordedHistory[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      name: file.replace(/\.json$/, ''),
      workflowId: file.replace(/\.json$/, ''),
      history: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown,
    }));
}
