import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

// The layer rules of eslint.config.mjs (eslint.layers.cjs) refuse every import against the arrows and let the
// allowed ones through: proven here by linting small files placed in each folder.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const layerRules = require('../../eslint.layers.cjs') as Linter.Config[];

const eslint = new ESLint({
  cwd: `${__dirname}/../..`,
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser },
      plugins: { '@typescript-eslint': tseslint.plugin },
    },
    ...layerRules,
  ],
});

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('the layer rules', () => {
  it.each([
    ['contracts/x.ts', "import { createSql } from '../db/sql';"],
    ['db/x.ts', "import { createActivities } from '../activities/index';"],
    [
      'db/offline-export/x.ts',
      "import { OfflineExportWorkflow } from '../../workflows/offline-export/export.workflow';",
    ],
    [
      'activities/offline-export/x.ts',
      "import { startOfflineExportWorkflow } from '../../client/offline-export/start-workflow';",
    ],
    ['activities/x.ts', "import { createDeps } from '../worker/deps';"],
    ['workflows/offline-export/x.ts', "import { findExport } from '../../db/offline-export/export-state';"],
    ['workflows/offline-export/x.ts', "import type { Sql } from '../../db/sql';"],
    ['workflows/x.ts', "import { createActivities } from '../activities/index';"],
    ['workflows/x.ts', "import { readFileSync } from 'node:fs';"],
    ['workflows/x.ts', "import { S3Client } from '@aws-sdk/client-s3';"],
    ['worker/x.ts', "import { startBulkUpdate } from '../client/bulk-update/start-bulk-update';"],
    ['client/cli/x.ts', "import { stackUp } from '../../scripts/stack/index';"],
    ['client/x.ts', "import { createActivities } from '../activities/index';"],
    ['client/x.ts', "import type { BulkUpdateWorkflow } from '../workflows/bulk-update/bulk-update.workflow';"],
    ['client/x.ts', "import { startTestWorker } from '../test/helpers/worker';"],
  ])('refuses in %s: %s', async (file, code) => {
    expect(await problems(file, `${code}\n`)).toEqual([
      expect.stringMatching(/^@typescript-eslint\/no-restricted-imports: /),
    ]);
  });

  it.each([
    ['db/x.ts', "import { loadConfig } from '../contracts/config';"],
    ['activities/offline-export/x.ts', "import { findExport } from '../../db/offline-export/export-state';"],
    ['activities/x.ts', "import { createBulkUpdateActivities } from './bulk-update/index';"],
    ['workflows/x.ts', "import type { Activities } from '../activities/index';"],
    ['workflows/offline-export/x.ts', "import { offlineExportWorkflowId } from '../../contracts/offline-export';"],
    ['worker/x.ts', "import { createActivities } from '../activities/index';"],
    ['client/x.ts', "import { findOfflineExportForUser } from '../db/offline-export/exports-read';"],
    ['scripts/x.ts', "import { createDeps } from '../worker/deps';"],
    ['test/x.ts', "import { OfflineExportWorkflow } from '../workflows/offline-export/export.workflow';"],
  ])('allows in %s: %s', async (file, code) => {
    expect(await problems(file, `${code}\n`)).toEqual([]);
  });
});
