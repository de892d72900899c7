/**
 * The stack tier: tests that run against the real local stack (the global setup starts whatever is not running and
 * recreates the test database). The unit tier (*.unit.test.ts: pure rules, no stack) has its own configuration,
 * jest.unit.config.js, and is left out here so it never runs twice.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts', '!**/*.unit.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  setupFiles: ['<rootDir>/test/setup/env.ts'],
  testTimeout: 120_000,
  // Each test file starts its own worker on its own task queue against the shared stack.
  maxWorkers: 1,
};
