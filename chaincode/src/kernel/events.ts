/**
 * Chaincode events. Fabric keeps only the LAST `setEvent` of a transaction, so a transaction that
 * changes several things (e.g. a vote that also decides an admission) must send them together:
 * every `emit` appends to a per-transaction batch and re-sets ONE event named `gridledger` whose
 * payload is `{"events":[{"name":..., "payload":...}, ...]}` (canonical JSON, in emission order).
 * Listeners filter on the inner `name`.
 */
import { encode } from './codec';
import { GridLedgerContext } from './context';

export const EVENT_NAME = 'gridledger';

export interface EmittedEvent {
  name: string;
  payload: unknown;
}

// Keyed by the transaction's stub: one batch per transaction, garbage-collected with it.
const batches = new WeakMap<object, EmittedEvent[]>();

export function emit(ctx: GridLedgerContext, name: EventName, payload: unknown): void {
  let batch = batches.get(ctx.stub);
  if (!batch) {
    batch = [];
    batches.set(ctx.stub, batch);
  }
  batch.push({ name, payload });
  ctx.stub.setEvent(EVENT_NAME, encode({ events: batch }));
}

/**
 * Every event name the chaincode emits, governance and market alike (stable: the gateway and
 * applications subscribe to them; docs/api.md lists their payloads). `emit` takes only these.
 */
export const EVENTS = {
  // governance
  parametersChanged: 'ParametersChanged',
  meterEnrolled: 'MeterEnrolled',
  participantJoined: 'ParticipantJoined',
  participantAdmitted: 'ParticipantAdmitted',
  participantRejected: 'ParticipantRejected',
  participantSuspended: 'ParticipantSuspended',
  participantReinstated: 'ParticipantReinstated',
  participantBanned: 'ParticipantBanned',
  participantPenalised: 'ParticipantPenalised',
  qScoreChanged: 'QScoreChanged',
  beaconKeyRegistered: 'BeaconKeyRegistered',
  taskOpened: 'TaskOpened',
  entropyContributed: 'EntropyContributed',
  committeeDrawn: 'CommitteeDrawn',
  leaderEntryRecorded: 'LeaderEntryRecorded',
  voteRecorded: 'VoteRecorded',
  ballotDecided: 'BallotDecided',
  taskCancelled: 'TaskCancelled',
  // market
  auctionBid: 'AuctionBid',
  auctionClaimed: 'AuctionClaimed',
  auctionClosed: 'AuctionClosed',
  auctionFailed: 'AuctionFailed',
  auctionReawarded: 'AuctionReawarded',
  auctionRequested: 'AuctionRequested',
  auctionRevealed: 'AuctionRevealed',
  auctionTraded: 'AuctionTraded',
  energyMinted: 'EnergyMinted',
  marketParametersChanged: 'MarketParametersChanged',
  offerAccepted: 'OfferAccepted',
  offerClosed: 'OfferClosed',
  offerCreated: 'OfferCreated',
  readingRecorded: 'ReadingRecorded',
  tradeClosed: 'TradeClosed',
  tradeCreated: 'TradeCreated',
  tradeDeliveryEvidenced: 'TradeDeliveryEvidenced',
  tradeEnergyEscrowed: 'TradeEnergyEscrowed',
  tradeStageAdvanced: 'TradeStageAdvanced',
  walletCredited: 'WalletCredited',
} as const;

export type EventName = (typeof EVENTS)[keyof typeof EVENTS];
