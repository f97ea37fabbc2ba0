/** @type {import('jest').Config} */
// End-to-end check of a RUNNING network started WITH the community (start.sh, GRIDLEDGER_COMMUNITY=1):
// reads $GRIDLEDGER_HOME/gateways.json and the community's status file. Not part of `npm test`, whose
// network is started without a community (test.sh sets GRIDLEDGER_COMMUNITY=0). See community/README.md.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/e2e'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', isolatedModules: true }] },
  testTimeout: 20 * 60_000,
};
