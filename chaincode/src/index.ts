/**
 * Chaincode entry point: fabric-contract-api starts every class in `contracts`.
 * Other chaincode areas (e.g. the market) append their contract classes to this array.
 */
import { GovernanceContract } from './contracts/governance';
import { HealthContract } from './contracts/health';
import { MetersContract } from './contracts/meters.contract';
import { WalletsContract } from './contracts/wallets.contract';
import { EnergyContract } from './contracts/energy.contract';

export { GovernanceContract, HealthContract };

export const contracts: Array<new () => object> = [HealthContract, GovernanceContract,
  MetersContract,
  WalletsContract,
  EnergyContract,
];
