/** @type {import('jest').Config} */
// End-to-end suites: they talk to a running network described by $GRIDLEDGER_HOME/network.json
// (written by whichever tier started it: the devnet or Fabric). They never fork by tier.
//
// conformance/peercli.test.ts drives Fabric's `peer` CLI, so it runs only where the project finds
// Fabric's binaries (network/scripts/lib.sh find_fabric_bin); elsewhere (CI) it is left out and this
// says so on every run, and test.sh's summary repeats it: never a silent pass.
const { findFabricBin, PEER_CLI_NOT_RUN } = require('./support/fabricBinaries');

const withoutPeer = findFabricBin() === undefined;
if (withoutPeer) process.stderr.write(`[gridledger] ${PEER_CLI_NOT_RUN}\n`);

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testPathIgnorePatterns: ['/node_modules/', ...(withoutPeer ? ['<rootDir>/conformance/peercli\\.test\\.ts$'] : [])],
  testMatch: ['<rootDir>/conformance/**/*.test.ts', '<rootDir>/rest/**/*.test.ts', '<rootDir>/dashboard/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', isolatedModules: true }] },
  testTimeout: 120000,
};
