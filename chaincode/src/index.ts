/**
 * Chaincode entry point: fabric-contract-api starts every class in `contracts`. The contracts of
 * each bounded context live in `<context>/contracts/` (docs/architecture.md "Chaincode layout").
 */
import { AdmissionsContract } from './governance/contracts/admissions.contract';
import { CommitteesContract } from './governance/contracts/committees.contract';
import { GovernanceContract } from './governance/contracts/governance.contract';
import { HealthContract } from './health.contract';
import { ParticipantsContract } from './governance/contracts/participants.contract';
import { MetersContract } from './market/contracts/meters.contract';
import { WalletsContract } from './market/contracts/wallets.contract';
import { EnergyContract } from './market/contracts/energy.contract';
import { OffersContract } from './market/contracts/offers.contract';
import { TradesContract } from './market/contracts/trades.contract';
import { AuctionsContract } from './market/contracts/auctions.contract';
import { MarketContract } from './market/contracts/market.contract';
import { describeTransactions, lightenArgumentMarshalling } from './kernel/metadata';
import { skipDisabledShimLogs } from './kernel/shimLogging';
import { memoiseShimCertificates } from './kernel/shimIdentity';
import { admissionEntry, admissionSubject, ADMISSION_KIND, registerEntryKind, registerSubjectKind } from './governance';
import { tradeEntry, tradeSubject } from './market/services/settlement';
import { TRADE_TASK_KIND } from '@gridledger/protocol';

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

// What a slot leader records for each kind of committee task (committees:recordEntries). Registered here
// because governance never imports the market (docs/architecture.md "Chaincode layout").
registerEntryKind(ADMISSION_KIND, admissionEntry);
registerEntryKind(TRADE_TASK_KIND, tradeEntry);
// …and what a member's view of a task shows of its subject (committees:getMemberView with withSubject).
registerSubjectKind(ADMISSION_KIND, admissionSubject);
registerSubjectKind(TRADE_TASK_KIND, tradeSubject);

// GetMetadata describes every transaction's arguments from the one catalogue (kernel/metadata.ts).
describeTransactions(contracts as never);
// …without handing those schemas to the shim's per-argument checks (a quarter of the chaincode's CPU; kernel/metadata.ts).
lightenArgumentMarshalling();
// …nor format the shim's debug lines that are never printed (kernel/shimLogging.ts).
skipDisabledShimLogs();
// …nor parse the same caller certificate again on every invocation (kernel/shimIdentity.ts).
memoiseShimCertificates();
