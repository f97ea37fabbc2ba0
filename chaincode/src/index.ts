/**
 * Chaincode entry point: fabric-contract-api starts every class in `contracts`.
 * Other chaincode areas (e.g. the market) append their contract classes to this array.
 */
import { GovernanceContract } from './contracts/governance';
import { HealthContract } from './contracts/health';

export { GovernanceContract, HealthContract };

export const contracts: Array<new () => object> = [HealthContract, GovernanceContract];
