/** @type {import('jest').Config} */
// Fabric-only end-to-end tests (orderer and peer faults), run by `npm run test:fabric` after the
// shared suites. The devnet run never matches these files: ../jest.config.js only matches
// conformance/** and rest/**.
const path = require('node:path');

module.exports = {
  rootDir: path.join(__dirname, '..'),
  testEnvironment: 'node',
  roots: ['<rootDir>/fabric'],
  testMatch: ['<rootDir>/fabric/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', isolatedModules: true }] },
  testTimeout: 600000,
};
