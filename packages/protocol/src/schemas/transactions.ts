/**
 * The transaction catalogue: every chaincode transaction, its arguments and the schema of each. One
 * definition for the chaincode (a test checks it against the contracts' `@Transaction` metadata, and
 * GetMetadata is annotated from it), the gateway (its x-chaincode routes are checked against it) and
 * docs/transactions.md (generated from it: `npm run catalogue --workspace packages/protocol`).
 *
 * Every Fabric argument is a string. `kind` says how the chaincode reads it: `json` — JSON text of
 * `schema` (an object is checked by the ahead-compiled validator of `schemaName`); `integer` —
 * decimal digits of an integer within `schema`'s bounds; `text` — the string itself.
 * `optional`: the empty string means "absent". `transient`: the argument may be empty and the value
 * sent in that transient field instead (kept off the block).
 */
import {
  MAX_INTERVAL_WH, MAX_QUANTITY, id, int, secret, text, unixSeconds, type JsonSchema,
} from './fields';
import { INPUT_SCHEMAS, type InputSchemaName, type OutputSchemaName } from './registry';

export type ArgKind = 'json' | 'integer' | 'text';

export interface TxArg {
  name: string;
  kind: ArgKind;
  schema: JsonSchema;
  /** the named input schema (json object arguments) */
  schemaName?: InputSchemaName;
  optional?: boolean;
  transient?: string;
  description?: string;
}

export interface TxDef {
  /** `contract:function`, as the gateway and the peer CLI call it */
  name: string;
  mode: 'submit' | 'evaluate';
  /** who may call it */
  caller: string;
  summary: string;
  args: TxArg[];
  /** what it answers (UTF-8 JSON, sorted keys): the named output schema (outputs.ts) */
  output: OutputSchemaName;
  /** transient fields it requires (kept off the block), each JSON of an input schema */
  transient?: Array<{ name: string; schemaName: InputSchemaName }>;
}

const json = (name: string, schemaName: InputSchemaName, extra: Partial<TxArg> = {}): TxArg => ({ name, kind: 'json', schema: INPUT_SCHEMAS[schemaName], schemaName, ...extra });
const integer = (name: string, schema: JsonSchema, extra: Partial<TxArg> = {}): TxArg => ({ name, kind: 'integer', schema, ...extra });
const str = (name: string, schema: JsonSchema, extra: Partial<TxArg> = {}): TxArg => ({ name, kind: 'text', schema, ...extra });
const idArg = (name: string, description?: string): TxArg => str(name, id(description));

/** The paging pair every list takes: page size (1-100, default 50) and the previous page's bookmark. */
const PAGE: TxArg[] = [
  integer('pageSize', int(1, 100, 'items per page (default 50)'), { optional: true }),
  str('bookmark', { type: 'string', maxLength: 1024, description: 'the previous page\'s bookmark (empty: first page)' }, { optional: true }),
];

/** A name the registry keeps (meter ids, zones): 1-64 of A-Z a-z 0-9 . _ : -, starting with a letter or digit (chaincode/src/kernel/caller.ts NAME_PATTERN). */
const name = (subCode: string, description: string): JsonSchema => ({ type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$', 'x-subCode': subCode, 'x-hint': '1-64 of A-Z a-z 0-9 . _ : -, starting with a letter or digit', description });
const ZONE = name('BAD_ZONE', 'feeder / cluster');

const tx = (name: string, mode: TxDef['mode'], caller: string, summary: string, args: TxArg[], output: OutputSchemaName): TxDef => ({ name, mode, caller, summary, args, output });


export const TRANSACTIONS: readonly TxDef[] = [
  tx('health:ping', 'evaluate', 'anyone', 'Liveness: the chaincode answers.', [], 'HealthOutput'),

  // ---- governance (docs/governance.md)
  tx('governance:getParameters', 'evaluate', 'anyone', 'The governance parameters.', [], 'GovernanceParameters'),
  tx('governance:setParameters', 'submit', 'regulator', 'Changes governance parameters.', [json('paramsJson', 'GovernanceParametersInput')], 'GovernanceParameters'),
  tx('participants:enrolMeter', 'submit', 'operator', 'Records a meter of the operator\'s utility and its zone.', [str('meterId', name('BAD_METER_ID', 'the meter (its CA enrollment id)')), str('zone', ZONE)], 'MeterRecord'),
  tx('participants:requestJoin', 'submit', 'meter', 'The meter\'s prosumer asks to join the community; opens the admission task.', [json('requestJson', 'JoinInput')], 'Participant'),
  tx('participants:get', 'evaluate', 'anyone (full view: the participant, its operator, the regulator)', 'A participant.', [idArg('participantId')], 'Participant'),
  tx('participants:whoAmI', 'evaluate', 'anyone', 'The caller as the chaincode sees it.', [], 'WhoAmI'),
  tx('participants:setStake', 'submit', 'meter', 'Pledges part of the Q-score for committee service (0 withdraws).', [integer('amount', int(0, MAX_QUANTITY, 'fixed point (10^6 = 1 point), at most the current Q-score'))], 'Participant'),
  tx('participants:admitFounding', 'submit', 'regulator', 'Admits a founding member without a committee.', [idArg('participantId')], 'Participant'),
  tx('participants:suspend', 'submit', 'operator of the participant\'s utility, or the regulator', 'Suspends a participant.', [idArg('participantId'), str('reason', text(1, 256))], 'Participant'),
  tx('participants:reinstate', 'submit', 'operator of the participant\'s utility, or the regulator', 'Lifts a suspension.', [idArg('participantId')], 'Participant'),
  tx('participants:ban', 'submit', 'regulator', 'Bans a participant for a time.', [idArg('participantId'), integer('seconds', int(1, 315_360_000)), str('reason', text(1, 256))], 'Participant'),
  tx('participants:syncCommitteeIndex', 'submit', 'anyone', 'Brings a participant\'s committee-eligibility entry up to date: puts a participant whose ban ran out back into the committee index, takes one banned by a penalty out; writes nothing if already in step (docs/governance.md §6).', [idArg('participantId')], 'CommitteeIndexSync'),
  tx('participants:foldScore', 'submit', 'the participant, an operator of its utility, or the regulator', 'Folds up to 100 pending score credits into the participant\'s record (history, leaderboard rank); the score is unchanged; writes nothing if none are pending (docs/governance.md §8 "Score credits").', [idArg('participantId')], 'ScoreFold'),
  tx('participants:backfillCommitteeIndex', 'submit', 'regulator', 'One-off upgrade step for a zone indexed before position keys existed: indexes one page; repeat until `complete`, then sync each of `outOfStep`.', [str('zone', ZONE), integer('pageSize', int(1, 500))], 'CommitteeIndexBackfill'),
  tx('participants:getQScoreHistory', 'evaluate', 'anyone', 'A participant\'s Q-score changes, oldest first; paginated.', [idArg('participantId'), ...PAGE], 'QScoreHistoryPage'),
  tx('participants:leaderboard', 'evaluate', 'anyone', 'Participants by Q-score, highest first; paginated.', PAGE, 'LeaderboardPage'),
  tx('admissions:recordEntry', 'submit', 'meter (the admission committee\'s slot leader)', 'The leader records the admission entry and its own verdict.', [idArg('participantId')], 'Ballot'),
  tx('admissions:vote', 'submit', 'meter (an admission committee member)', 'A verifier\'s vote on an admission.', [idArg('participantId'), json('voteJson', 'VoteInput')], 'Vote'),
  tx('admissions:decide', 'submit', 'anyone', 'Tallies the admission ballot (2f+1 approvals admit, f+1 refusals reject).', [idArg('participantId')], 'AdmissionDecision'),
  tx('committees:registerBeaconKey', 'submit', 'operator', 'Registers the utility\'s BLS beacon key.', [str('publicKeyHex', { type: 'string', maxLength: 256, pattern: '^[0-9a-f]+$' })], 'BeaconKey'),
  tx('committees:revokeBeaconKey', 'submit', 'regulator', 'Revokes a utility\'s beacon key.', [idArg('mspId')], 'BeaconKeyRevocation'),
  tx('committees:getBeaconKeys', 'evaluate', 'anyone', 'The registered beacon keys.', [], 'BeaconKeys'),
  tx('committees:contributeEntropy', 'submit', 'operator', 'A utility\'s BLS signature over a task round (beacon entropy).', [idArg('taskId'), integer('round', int(0, 1_000_000)), str('signatureHex', { type: 'string', maxLength: 512, pattern: '^[0-9a-f]+$' })], 'Task'),
  tx('committees:draw', 'submit', 'anyone', 'Draws a task\'s committee once the beacon quorum contributed.', [idArg('taskId')], 'Task'),
  tx('committees:redraw', 'submit', 'anyone', 'Re-draws a task whose round passed its deadline undecided.', [idArg('taskId')], 'Task'),
  tx('committees:recordEntries', 'submit', 'meter (the slot leader of every listed task)', 'The slot leader\'s one entry (seed 002\'s block) for the open ballot of every task it leads in this slot, each with its own verdict.', [json('entriesJson', 'EntriesInput')], 'LeaderBlock'),
  tx('committees:getTask', 'evaluate', 'anyone', 'A committee task.', [idArg('taskId')], 'Task'),
  tx('committees:getBallot', 'evaluate', 'anyone', 'A task\'s ballot with its votes.', [idArg('taskId'), str('ballot', { type: 'string', maxLength: 32, pattern: '^[a-z][a-z0-9-]{0,31}$' })], 'BallotView'),
  tx('committees:getMemberView', 'evaluate', 'anyone', 'A committee member\'s view of a task in one read: the task, its ballots of the current round up to the first not approved (with votes) and, with withSubject, the subject as participants:get or trades:get and energy:get show it to the caller.', [idArg('taskId'), str('withSubject', { enum: ['true', 'false'], description: 'also the subject: an admission\'s candidate, a trade with its packets (default false)' }, { optional: true })], 'MemberView'),
  tx('committees:nextLeaderSlots', 'evaluate', 'anyone', 'The next slots in which a member leads the task.', [idArg('taskId'), idArg('memberId'), integer('count', int(1, 100, 'default 1'), { optional: true })], 'LeaderSlots'),
  tx('committees:leaderOf', 'evaluate', 'anyone', 'The task\'s leader in the current slot.', [idArg('taskId')], 'SlotLeader'),

  // ---- market (docs/market.md)
  tx('market:getParameters', 'evaluate', 'anyone', 'The market parameters.', [], 'MarketParameters'),
  tx('market:setParameters', 'submit', 'regulator', 'Changes market parameters.', [json('paramsJson', 'MarketParametersInput')], 'MarketParameters'),
  tx('meters:postReading', 'submit', 'meter', 'Records one reading (raw value private to the utility, hash public).', [json('readingJson', 'ReadingInput', { transient: 'reading' })], 'ReadingPosted'),
  tx('meters:postReadings', 'submit', 'meter', 'Records up to 96 readings of the meter, in interval order.', [json('batchJson', 'ReadingBatchInput', { transient: 'readings' })], 'ReadingBatchPosted'),
  tx('meters:registerKey', 'submit', 'meter', 'Records the public key of the caller\'s certificate, so its utility may relay its signed readings (re-enrolment replaces it).', [], 'MeterKey'),
  tx('meters:revokeKey', 'submit', 'an operator of the meter\'s utility', 'Revokes a meter\'s key: its relayed readings are refused from then on (final).', [idArg('meterId')], 'MeterKey'),
  tx('meters:relayReadings', 'submit', 'operator', 'Records readings of many meters of the caller\'s utility, each signed by its meter\'s registered key; one verdict per reading.', [json('relayJson', 'RelayedReadingsInput', { transient: 'relay' })], 'ReadingsRelayed'),
  tx('meters:getReading', 'evaluate', 'the meter, or an operator of its utility', 'A raw reading (on a peer of the meter\'s utility).', [idArg('meterId'), integer('intervalStart', unixSeconds())], 'Reading'),
  tx('meters:getProof', 'evaluate', 'the meter, or an operator of its utility', 'A reading\'s settlement proof of one flow.', [idArg('meterId'), integer('intervalStart', unixSeconds()), str('direction', { enum: ['export', 'import'] })], 'FlowProof'),
  tx('meters:getReadingHash', 'evaluate', 'anyone', 'Whether a reading exists, and its public hash.', [idArg('mspId'), idArg('meterId'), integer('intervalStart', unixSeconds())], 'ReadingHash'),
  tx('meters:getHead', 'evaluate', 'the meter, or an operator of its utility', 'The meter\'s last posted interval.', [idArg('mspId'), idArg('meterId')], 'MeterHead'),
  tx('wallets:open', 'submit', 'meter', 'Opens the caller\'s wallet.', [], 'Wallet'),
  tx('wallets:credit', 'submit', 'operator', 'Credits a fiat deposit to a participant\'s wallet.', [idArg('participantId'), integer('amount', int(1, MAX_QUANTITY, 'minor currency units')), str('reference', text(1, 128, 'payment reference of the deposit'))], 'Wallet'),
  tx('wallets:get', 'evaluate', 'the participant, its operator, the regulator', 'A wallet.', [idArg('participantId')], 'Wallet'),
  tx('wallets:history', 'evaluate', 'the participant, its operator, the regulator', 'A wallet\'s audit trail; paginated.', [idArg('participantId'), ...PAGE], 'WalletHistoryPage'),
  tx('energy:mint', 'submit', 'meter', 'Mints energy packets from a recorded export (transient exportProof).', [json('mintJson', 'MintInput')], 'EnergyPacket'),
  tx('energy:get', 'evaluate', 'anyone', 'An energy packet.', [idArg('packetId')], 'EnergyPacket'),
  tx('energy:listByOwner', 'evaluate', 'anyone', 'A participant\'s packets; paginated.', [idArg('participantId'), ...PAGE], 'EnergyPacketPage'),
  tx('energy:balance', 'evaluate', 'anyone', 'A participant\'s energy balance.', [idArg('participantId')], 'EnergyBalance'),
  tx('offers:create', 'submit', 'meter', 'Offers energy at a fixed price; locks the collateral.', [json('offerJson', 'OfferInput')], 'Offer'),
  tx('offers:accept', 'submit', 'meter', 'Accepts an offer, restating its amount and price; locks the payment and creates the trade.', [idArg('offerId'), integer('amountWh', int(1, MAX_INTERVAL_WH, 'the offer\'s amount')), integer('pricePerKwh', int(1, MAX_QUANTITY, 'the offer\'s price'))], 'Trade'),
  tx('offers:giveUp', 'submit', 'meter (the seller)', 'The seller withdraws its offer (forfeit before expiry).', [idArg('offerId')], 'Offer'),
  tx('offers:expire', 'submit', 'anyone', 'Closes an expired offer and returns the collateral.', [idArg('offerId')], 'Offer'),
  tx('offers:get', 'evaluate', 'anyone', 'An offer.', [idArg('offerId')], 'Offer'),
  tx('offers:listOpen', 'evaluate', 'anyone', 'Open offers, optionally for one delivery interval; paginated.', [integer('deliveryStart', unixSeconds(), { optional: true }), ...PAGE], 'OfferPage'),
  tx('trades:deliverEnergy', 'submit', 'meter (the seller)', 'The seller escrows energy packets for the trade.', [idArg('tradeId'), json('packetsJson', 'PacketsInput')], 'Trade'),
  tx('trades:confirmDelivery', 'submit', 'meter (the buyer)', 'The buyer declares what it received (transient importProof).', [idArg('tradeId'), integer('receivedWh', int(0, MAX_INTERVAL_WH))], 'Trade'),
  tx('trades:recordEntry', 'submit', 'meter (the stage\'s slot leader)', 'The leader records the stage entry and its verdict.', [idArg('tradeId')], 'Ballot'),
  tx('trades:vote', 'submit', 'meter (a trade committee member)', 'A member attests the current stage.', [idArg('tradeId'), json('voteJson', 'VoteInput')], 'Vote'),
  tx('trades:decide', 'submit', 'anyone', 'Tallies the current stage and applies it.', [idArg('tradeId')], 'Trade'),
  tx('trades:timeout', 'submit', 'anyone', 'Applies a passed deadline (late delivery, stage timeout).', [idArg('tradeId')], 'Trade'),
  tx('trades:get', 'evaluate', 'anyone', 'A trade.', [idArg('tradeId')], 'Trade'),
  tx('trades:listByParticipant', 'evaluate', 'anyone', 'A participant\'s trades; paginated.', [idArg('participantId'), ...PAGE], 'TradePage'),
  tx('trades:history', 'evaluate', 'anyone', 'A trade\'s state changes; paginated.', [idArg('tradeId'), PAGE[0]!, integer('bookmark', int(0, 1_000_000), { optional: true })], 'TradeHistoryPage'),
  tx('auctions:request', 'submit', 'meter', 'Opens a sealed-bid energy request; locks the payment.', [json('requestJson', 'AuctionRequestInput')], 'AuctionRequest'),
  tx('auctions:bid', 'submit', 'meter', 'Places a sealed bid before t1.', [idArg('requestId'), json('bidJson', 'AuctionBidInput')], 'AuctionBid'),
  tx('auctions:reveal', 'submit', 'meter (the bidder)', 'Reveals a bid\'s price between t1 and t2.', [idArg('requestId'), idArg('offerId'), json('revealJson', 'AuctionRevealInput')], 'AuctionBid'),
  tx('auctions:close', 'submit', 'anyone', 'Picks the winner after t2.', [idArg('requestId')], 'AuctionRequest'),
  tx('auctions:claimBuyer', 'submit', 'meter (the buyer)', 'The buyer opens its identity commitment; creates the trade.', [idArg('requestId'), str('secret', secret())], 'AuctionRequest'),
  tx('auctions:claimSeller', 'submit', 'meter (the winning seller)', 'The winner opens its identity commitment.', [idArg('requestId'), str('secret', secret())], 'AuctionRequest'),
  tx('auctions:expire', 'submit', 'anyone', 'Closes an auction nobody claimed in time.', [idArg('requestId')], 'AuctionRequest'),
  tx('auctions:get', 'evaluate', 'anyone', 'An auction request.', [idArg('requestId')], 'AuctionRequest'),
  tx('auctions:listBids', 'evaluate', 'anyone', 'An auction\'s bids; paginated.', [idArg('requestId'), ...PAGE], 'AuctionBidPage'),
  tx('auctions:listOpen', 'evaluate', 'anyone', 'Open auction requests, optionally for one delivery interval; paginated.', [integer('deliveryStart', unixSeconds(), { optional: true }), ...PAGE], 'AuctionRequestPage'),
];

/** Transient fields a transaction requires besides its arguments: the meter's disclosed reading proofs. */
const TRANSIENT: Record<string, TxDef['transient']> = {
  'energy:mint': [{ name: 'exportProof', schemaName: 'FlowProofInput' }],
  'trades:confirmDelivery': [{ name: 'importProof', schemaName: 'FlowProofInput' }],
};
for (const t of TRANSACTIONS) if (TRANSIENT[t.name]) t.transient = TRANSIENT[t.name];

/** The catalogue entry of `contract:function`, or undefined. */
export function transaction(name: string): TxDef | undefined {
  return TRANSACTIONS.find((t) => t.name === name);
}
