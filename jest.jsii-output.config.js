/**
 * The construct tests (test/constructs) run against the jsii-built library in dist/lib instead of
 * the TypeScript sources: every import of lib/ from a test resolves to dist/lib/. Build first:
 * `npm run test:jsii-output` runs `npm run jsii` and then these tests.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/constructs'],
  moduleNameMapper: {
    '^(?:\\.\\./)+lib(/.*)?$': '<rootDir>/dist/lib$1',
  },
  setupFilesAfterEnv: [...base.setupFilesAfterEnv, '<rootDir>/test/setup/jsii-output.js'],
};
