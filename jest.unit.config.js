const stack = require('./jest.config');

/**
 * The unit tier (npm run test:unit): *.unit.test.ts files, placed next to the stack tests of their feature, test
 * pure rules only. No global setup, no env file, no stack, no database: the whole tier runs in seconds.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.unit.test.ts'],
  transform: stack.transform,
  testTimeout: 10_000,
};
