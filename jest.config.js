/** Unit tests (construct templates) and runtime tests against real servers started by the tests. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // jose ships ESM only; ts-jest turns it into CommonJS for the test runtime.
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  snapshotSerializers: ['<rootDir>/test/setup/asset-hash-serializer.js'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  testTimeout: 60000,
  // Real servers share the machine's 2 cores; suites pick their own ports, so they may run in parallel.
  maxWorkers: 2,
};
