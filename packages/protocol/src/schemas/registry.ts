/** Every named input and output schema: what the build compiles into standalone validators (scripts/compile-schemas.js). */
import type { JsonSchema } from './fields';
import { AuctionBidInput, AuctionRequestInput, AuctionRevealInput, FlowProofInput, MarketParametersInput, MintInput, OfferInput, PacketsInput, ReadingBatchInput, ReadingInput, ReadingItem, RelayedReadingsInput } from './market';
import { EntriesInput, GovernanceParametersInput, JoinInput, VoteInput } from './governance';
import * as O from './outputs';

export const INPUT_SCHEMAS = {
  OfferInput,
  AuctionRequestInput,
  AuctionBidInput,
  AuctionRevealInput,
  MintInput,
  PacketsInput,
  FlowProofInput,
  ReadingInput,
  ReadingItem,
  ReadingBatchInput,
  RelayedReadingsInput,
  VoteInput,
  EntriesInput,
  JoinInput,
  GovernanceParametersInput,
  MarketParametersInput,
} satisfies Record<string, JsonSchema>;

export type InputSchemaName = keyof typeof INPUT_SCHEMAS;

/** What the transactions answer (outputs.ts); the catalogue names one per transaction. */
export const OUTPUT_SCHEMAS = {
  HealthOutput: O.HealthOutput,
  GovernanceParameters: O.GovernanceParameters,
  MeterRecord: O.MeterRecord,
  Participant: O.Participant,
  WhoAmI: O.WhoAmI,
  CommitteeIndexSync: O.CommitteeIndexSync,
  ScoreFold: O.ScoreFold,
  CommitteeIndexBackfill: O.CommitteeIndexBackfill,
  QScoreHistoryPage: O.QScoreHistoryPage,
  LeaderboardPage: O.LeaderboardPage,
  Ballot: O.Ballot,
  LeaderBlock: O.LeaderBlock,
  Vote: O.Vote,
  BallotView: O.BallotView,
  MemberView: O.MemberView,
  AdmissionDecision: O.AdmissionDecision,
  BeaconKey: O.BeaconKey,
  BeaconKeys: O.BeaconKeys,
  BeaconKeyRevocation: O.BeaconKeyRevocation,
  Task: O.Task,
  LeaderSlots: O.LeaderSlots,
  SlotLeader: O.SlotLeader,
  MarketParameters: O.MarketParameters,
  ReadingPosted: O.ReadingPosted,
  ReadingBatchPosted: O.ReadingBatchPosted,
  ReadingsRelayed: O.ReadingsRelayed,
  MeterKey: O.MeterKey,
  Reading: O.Reading,
  FlowProof: O.FlowProof,
  ReadingHash: O.ReadingHash,
  MeterHead: O.MeterHead,
  Wallet: O.Wallet,
  WalletHistoryPage: O.WalletHistoryPage,
  EnergyPacket: O.EnergyPacket,
  EnergyPacketPage: O.EnergyPacketPage,
  EnergyBalance: O.EnergyBalance,
  Offer: O.Offer,
  OfferPage: O.OfferPage,
  Trade: O.Trade,
  TradePage: O.TradePage,
  TradeHistoryPage: O.TradeHistoryPage,
  AuctionRequest: O.AuctionRequest,
  AuctionRequestPage: O.AuctionRequestPage,
  AuctionBid: O.AuctionBid,
  AuctionBidPage: O.AuctionBidPage,
} satisfies Record<string, JsonSchema>;

export type OutputSchemaName = keyof typeof OUTPUT_SCHEMAS;
