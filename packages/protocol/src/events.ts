/**
 * Chaincode events as they cross the wire. Fabric keeps only the LAST `setEvent` of a transaction,
 * so the chaincode sends every event of a transaction together: ONE chaincode event named
 * `CHAINCODE_EVENT_NAME` whose payload is the canonical JSON of an `EventBatch`,
 * `{"events":[{"name":..., "payload":...}, ...]}`, in emission order (chaincode/src/kernel/events.ts).
 * Listeners (the gateway's event stream, beacon contributor, agents and analytics; the e2e suites)
 * unpack it with `unpackEvents` and switch on the inner `name`, one of `EVENTS` (docs/api.md "Events").
 *
 * `GET /api/v1/events` forwards each inner event as one Server-Sent Event whose `id` is `eventId(...)`
 * and whose `data` is an `EventEnvelope`.
 */

/** The one chaincode event name a GridLedger transaction sets. */
export const CHAINCODE_EVENT_NAME = 'gridledger';

/**
 * Every event name the chaincode emits, governance and market alike (stable: the gateway and
 * applications subscribe to them; docs/api.md lists their payloads). The chaincode's `emit` takes only these.
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

const NAMES: ReadonlySet<string> = new Set(Object.values(EVENTS));

export function isEventName(name: string): name is EventName {
  return NAMES.has(name);
}

/** One named event inside a transaction's batch. */
export interface ChaincodeEvent<P = Record<string, unknown>> {
  name: EventName;
  payload: P;
}

/** The payload of the `gridledger` chaincode event. */
export interface EventBatch<P = unknown> {
  events: Array<ChaincodeEvent<P>>;
}

/**
 * The named events inside one chaincode event (`{eventName, payload}` as Fabric delivers it);
 * [] when it is not a `gridledger` event or cannot be read. Names are typed `EventName` so a `switch`
 * over them is checked against `EVENTS`; a name this build does not know (a newer chaincode) is still
 * passed on unchanged and falls to the `default` branch.
 */
export function unpackEvents(ev: { eventName: string; payload: Uint8Array }): ChaincodeEvent[] {
  if (ev.eventName !== CHAINCODE_EVENT_NAME) return [];
  try {
    const body = JSON.parse(new TextDecoder().decode(ev.payload)) as Partial<EventBatch<Record<string, unknown>>> | null;
    return Array.isArray(body?.events) ? body.events.filter((e) => !!e && typeof e.name === 'string') : [];
  } catch {
    return [];
  }
}

/** `data` of one Server-Sent Event of `GET /api/v1/events`. */
export interface EventEnvelope<P = Record<string, unknown>> {
  name: EventName;
  blockNumber: number;
  txId: string;
  /** the event's position in its transaction's batch */
  index: number;
  payload: P;
}

/** The SSE `id` of an event, what a client sends back as `Last-Event-ID`: `<block>:<txId>:<index>`. */
export function eventId(e: Pick<EventEnvelope, 'blockNumber' | 'txId' | 'index'>): string {
  return `${e.blockNumber}:${e.txId}:${e.index}`;
}

const EVENT_ID = /^(\d{1,15}):([^:\s]{1,128}):(\d{1,6})$/;

/** Parses a `Last-Event-ID`; undefined when it is not `<block>:<txId>:<index>`. */
export function parseEventId(id: string): { blockNumber: number; txId: string; index: number } | undefined {
  const m = EVENT_ID.exec(id);
  if (!m) return undefined;
  return { blockNumber: Number(m[1]), txId: m[2] ?? '', index: Number(m[3]) };
}
