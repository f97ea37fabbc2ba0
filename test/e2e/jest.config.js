/** @type {import('jest').Config} */
// End-to-end suites: they talk to a running network described by $GRIDLEDGER_HOME/network.json
// (written by whichever tier started it: the devnet or Fabric). They never fork by tier.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testMatch: ['<rootDir>/conformance/**/*.test.ts', '<rootDir>/rest/**/*.test.ts', '<rootDir>/dashboard/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', isolatedModules: true }] },
  testTimeout: 120000,
};
