// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import eslintConfigPrettier from 'eslint-config-prettier/flat';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O clients, and activity
// implementations only as types (proxyActivities gives the calls).
const forbiddenInWorkflows = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'postgres',
  'ioredis',
  'nodemailer',
  '@temporalio/activity',
  '@temporalio/worker',
  '@temporalio/client',
  '@temporalio/testing',
];

// The layers, bottom up: contracts (config, logger, workflow contracts) <- db (every SQL statement, the stores) <-
// activities <- workflows (contracts and activity types only) ; worker composes them ; client uses contracts and db.
// Product code never imports scripts/ or test/. Each folder lists what it may not import; relative specifiers are
// matched by the top-level folder they climb to ('../../db/sql' -> db).
const LAYERS = ['contracts', 'db', 'activities', 'workflows', 'worker', 'client', 'scripts', 'test'];
const upward = (from, forbidden, typeOnly = []) => ({
  files: [`${from}/**/*.ts`],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      /** @type {const} */ ('error'),
      {
        paths:
          from === 'workflows' ? forbiddenInWorkflows.map((name) => ({ name, message: WORKFLOW_DETERMINISM })) : [],
        patterns: [
          ...(from === 'workflows' ? [{ group: ['@aws-sdk/*'], message: WORKFLOW_DETERMINISM }] : []),
          ...(forbidden.length > 0
            ? [
                {
                  regex: `^(\\.\\./)+(${forbidden.join('|')})(/|$)`,
                  message: `${from}/ may not import ${forbidden.join(', ')} (see the layers in eslint.config.mjs).`,
                },
              ]
            : []),
          ...(typeOnly.length > 0
            ? [
                {
                  regex: `^(\\.\\./)+(${typeOnly.join('|')})(/|$)`,
                  allowTypeImports: true,
                  message: `${from}/ may import ${typeOnly.join(', ')} only with \`import type\`.`,
                },
              ]
            : []),
        ],
      },
    ],
  },
});
const WORKFLOW_DETERMINISM =
  'Workflow code must stay deterministic: do I/O in an activity and call it through proxyActivities.';
const except = (...allowed) => LAYERS.filter((l) => !allowed.includes(l));

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'coverage/', 'test/artifacts/', 'test/histories/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs', '*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // Async functions without await are common and harmless in activity/service factories.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Jest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any` by design.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  upward('contracts', except('contracts')),
  upward('db', except('contracts', 'db')),
  upward('activities', except('contracts', 'db', 'activities')),
  upward('workflows', except('contracts', 'workflows', 'activities'), ['activities']),
  upward('worker', except('contracts', 'db', 'activities', 'workflows', 'worker')),
  upward('client', except('contracts', 'db', 'client')),
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Last: turns off the rules that Prettier's formatting makes unnecessary or would fight.
  eslintConfigPrettier,
);
