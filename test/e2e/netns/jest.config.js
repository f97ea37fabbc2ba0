/** @type {import('jest').Config} */
// Separate hosts on one machine (network/fabric/lib/netns.sh): checks that each org runs in its own
// network namespace behind its firewall. Run by `GRIDLEDGER_NETNS=1 npm run test:fabric` after the
// shared suites (which run unchanged against the namespaced network); ../jest.config.js never matches it.
const path = require('node:path');

module.exports = {
  rootDir: path.join(__dirname, '..'),
  testEnvironment: 'node',
  roots: ['<rootDir>/netns'],
  testMatch: ['<rootDir>/netns/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', isolatedModules: true }] },
  testTimeout: 120000,
};
