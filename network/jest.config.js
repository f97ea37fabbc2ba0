/** @type {import('jest').Config} */
// Unit tests of the network scripts' JavaScript helpers (network/fabric/lib/*.js, network/scripts/*.js):
// plain CommonJS, no network. The devnet workspace (network/devnet) has its own jest config.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/fabric', '<rootDir>/scripts'],
  testMatch: ['**/*.test.js'],
};
