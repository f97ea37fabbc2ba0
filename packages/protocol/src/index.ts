/**
 * @gridledger/protocol — the one definition of every shape that crosses a workspace boundary
 * (docs/architecture.md "Wire contract"). Chaincode, gateway, devnet, community and the e2e suite
 * import these; none of them re-declares a shape defined here.
 *
 * This module must stay dependency-light and deterministic: the chaincode imports it, so nothing here
 * may read the clock, the environment or randomness.
 */
export const PROTOCOL_VERSION = '0.1.0';
export * from './errors';
export * from './events';
export * from './beacon';
export * from './concurrency';
export * from './reading';
export * from './tasks';
export * from './trade';
export * from './network';
export * from './schemas';
export * from './status';
