// @ts-check
// The import rules that keep the layers one way, per folder; used by eslint.config.mjs and by
// test/lint/layers.unit.test.ts, which lints imports against the arrows and expects each to be refused.
const { builtinModules } = require('node:module');

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
                  message: `${from}/ may not import ${forbidden.join(', ')} (see the layers in eslint.layers.cjs).`,
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

module.exports = [
  upward('contracts', except('contracts')),
  upward('db', except('contracts', 'db')),
  upward('activities', except('contracts', 'db', 'activities')),
  upward('workflows', except('contracts', 'workflows', 'activities'), ['activities']),
  upward('worker', except('contracts', 'db', 'activities', 'workflows', 'worker')),
  upward('client', except('contracts', 'db', 'client')),
];
