/**
 * Chaincode entry point: fabric-contract-api starts every class in `contracts`.
 * Other chaincode areas (e.g. the market) append their contract classes to this array.
 */
import { AdmissionsContract } from './contracts/admissions';
import { CommitteesContract } from './contracts/committees';
import { GovernanceContract } from './contracts/governance';
import { HealthContract } from './contracts/health';
import { ParticipantsContract } from './contracts/participants';
import { MetersContract } from './contracts/meters.contract';
import { WalletsContract } from './contracts/wallets.contract';
import { EnergyContract } from './contracts/energy.contract';
import { OffersContract } from './contracts/offers.contract';
import { TradesContract } from './contracts/trades.contract';
import { AuctionsContract } from './contracts/auctions.contract';
import { MarketContract } from './contracts/market.contract';

export { AdmissionsContract, CommitteesContract, GovernanceContract, HealthContract, ParticipantsContract };

export const contracts: Array<new () => object> = [HealthContract, GovernanceContract,
  ParticipantsContract,
  CommitteesContract,
  AdmissionsContract,
  MetersContract,
  WalletsContract,
  EnergyContract,
  OffersContract,
  TradesContract,
  AuctionsContract,
  MarketContract,
];
