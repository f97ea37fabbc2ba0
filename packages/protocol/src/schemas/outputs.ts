/**
 * Transaction OUTPUTS: what each chaincode transaction answers (UTF-8 JSON, sorted keys), one schema
 * per answer shape. The catalogue names each transaction's output (transactions.ts `output`), and the
 * one definition is used by
 * - the chaincode's GetMetadata (each transaction's `returns` names its component; the schemas are
 *   `components.schemas`, chaincode/src/kernel/metadata.ts);
 * - the gateway's OpenAPI responses (`x-protocol-output` markers, gateway/src/rest/openapi.ts), which
 *   the gateway checks its answers against when GATEWAY_VALIDATE_RESPONSES is on;
 * - the chaincode's unit-test ledger, which checks EVERY transaction result against its schema with the
 *   validators compiled ahead at this package's build (chaincode/test/support/ledger.ts).
 *
 * Records are closed (`additionalProperties: false`): a field added to a ledger record without its
 * schema fails the chaincode tests and the e2e response validation. Production chaincode does not
 * check its own answers (docs/architecture.md "Transaction schemas" says why).
 */
import {
  AUCTION_STATUSES, BALLOT_STATUSES, BID_STATUSES, OFFER_STATUSES, PARTICIPANT_STATUSES, TASK_OUTCOMES, TASK_STATUSES,
} from '../status';
import type { JsonSchema } from './fields';

const str = (description?: string): JsonSchema => ({ type: 'string', ...(description ? { description } : {}) });
const integer = (description?: string): JsonSchema => ({ type: 'integer', ...(description ? { description } : {}) });
const bool = (description?: string): JsonSchema => ({ type: 'boolean', ...(description ? { description } : {}) });
const oneOf = (values: readonly string[], description?: string): JsonSchema => ({ enum: [...values], ...(description ? { description } : {}) });
const list = (items: JsonSchema, description?: string): JsonSchema => ({ type: 'array', items, ...(description ? { description } : {}) });
const strings = (description?: string): JsonSchema => list(str(), description);
const at = (description = 'Unix seconds'): JsonSchema => integer(description);
const hex = (description?: string): JsonSchema => ({ type: 'string', pattern: '^[0-9a-f]*$', ...(description ? { description } : {}) });

/** A closed record: exactly these properties, `optional` ones may be absent. */
function record(properties: Record<string, JsonSchema>, optional: string[], description: string): JsonSchema {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties).filter((k) => !optional.includes(k)), properties, description };
}

/** A page of `items` (or `entries`) and the next page's bookmark ("" = the last page). */
function page(items: JsonSchema, description: string, field = 'items', extra: Record<string, JsonSchema> = {}): JsonSchema {
  return record({ ...extra, [field]: list(items), bookmark: str('the next page\'s bookmark; "" when this is the last page') }, [], description);
}

// ---- health

export const HealthOutput = record({ chaincode: { const: 'gridledger' }, status: { const: 'ok' }, version: str('the chaincode package version') }, [], 'liveness (health:ping)');

// ---- governance

const governanceParameterFields: Record<string, JsonSchema> = Object.fromEntries(
  ['f', 'slotSeconds', 'genesisAt', 'clockToleranceSeconds', 'minQScore', 'minTradingQScore', 'minStake', 'penaltyThreshold', 'banSeconds', 'qScoreMin', 'qScoreMax', 'qScoreInitial', 'qStep', 'taskDeadlineSeconds', 'beaconQuorum'].map((k) => [k, integer()]),
);
/** `version` 0 (no update yet) answers the defaults without `updatedAt`/`updatedBy`. */
export const GovernanceParameters = record(
  { ...governanceParameterFields, version: integer('0 = the defaults; +1 per update'), updatedAt: at(), updatedBy: str('the regulator identity that last changed them') },
  ['updatedAt', 'updatedBy'],
  'the governance parameters (docs/governance.md)',
);

export const MeterRecord = record(
  { mspId: str(), meterId: str(), zone: str(), enrolledAt: at(), enrolledBy: str('the operator that recorded it') },
  [],
  'a meter of a utility, as its operator recorded it (participants:enrolMeter)',
);

export const Participant = record(
  {
    participantId: str(),
    mspId: str(),
    zone: str(),
    status: oneOf(PARTICIPANT_STATUSES, 'effective status (a ban that ran out reads ACTIVE)'),
    bannedUntil: at('Unix seconds; 0 = not banned'),
    qScore: integer('fixed point, 10^6 = 1 point'),
    stake: integer('fixed point, 10^6 = 1 point'),
    penaltyCount: integer(),
    joinedAt: at(),
    admittedAt: at('Unix seconds; 0 = not admitted'),
    admissionTaskId: str(),
    meterId: str('full view only (the participant, its operator, the regulator)'),
    attempts: integer('join attempts; full view only'),
    pendingCredits: integer('participants:get only: raises not folded into the record yet (qScore includes them; participants:foldScore folds them)'),
    oldestCreditAt: at('participants:get only: Unix seconds of the oldest pending raise; 0 = none'),
    newestCreditAt: at('participants:get only: Unix seconds of the newest pending raise; 0 = none'),
  },
  ['meterId', 'attempts', 'pendingCredits', 'oldestCreditAt', 'newestCreditAt'],
  'a participant: the full view, or the pseudonymous public view without meterId and attempts (participants:get)',
);

export const WhoAmI = record(
  { participantId: str(), mspId: str(), role: oneOf(['meter', 'operator', 'regulator']), meterId: str(), zone: str() },
  ['meterId', 'zone'],
  'the caller as the chaincode sees it (participants:whoAmI)',
);

export const CommitteeIndexSync = record(
  {
    participantId: str(),
    zone: str(),
    status: oneOf(PARTICIPANT_STATUSES, 'effective status'),
    indexed: bool('in the committee index after this call'),
    position: integer('position in the zone\'s index, when indexed'),
    change: oneOf(['added', 'removed', 'none']),
  },
  ['position'],
  'a participant\'s committee-index entry brought up to date (participants:syncCommitteeIndex)',
);

export const ScoreFold = record(
  {
    participantId: str(),
    folded: integer('pending score credits folded into the record (and deleted) by this call'),
    more: bool('credits are still pending (more than one page was): call again'),
    qScore: integer('the record\'s score after the call; the participant\'s score when `more` is false'),
    change: oneOf(['folded', 'none']),
  },
  [],
  'a participant\'s pending score credits folded into its record (participants:foldScore)',
);

export const CommitteeIndexBackfill = record(
  { zone: str(), count: integer(), written: integer(), backfilledTo: integer(), complete: bool(), outOfStep: strings('participants to sync with participants:syncCommitteeIndex') },
  [],
  'one page of a zone\'s committee-index backfill (participants:backfillCommitteeIndex)',
);

const QScoreHistoryEntry = record(
  { seq: integer(), at: at(), txId: str(), delta: integer(), qScore: integer('after the change'), reason: str(), ref: str('the task or trade the change came from') },
  [],
  'one Q-score change',
);
export const QScoreHistoryPage = page(QScoreHistoryEntry, 'a participant\'s Q-score changes, oldest first', 'entries', { participantId: str() });
export const LeaderboardPage = page(record({ participantId: str(), qScore: integer() }, [], 'a participant and its Q-score'), 'participants by Q-score, highest first', 'entries');

const LeaderEntry = record(
  {
    leader: str(),
    slot: str('the slot number, in decimal digits'),
    at: at(),
    txId: str(),
    payloadHash: hex(),
    payload: { description: 'what the leader recorded (an admission or a trade stage\'s facts)' },
    verdict: { type: 'object', description: 'the leader\'s own verdict' },
    block: list(record({ taskId: str(), ballot: str() }, [], 'a ballot of the block'), 'every ballot this leader entered in this slot with the same transaction (seed 002: one block per leader per slot; absent on entries recorded before blocks)'),
  },
  ['verdict', 'block'],
  'a slot leader\'s entry',
);

export const Ballot = record(
  {
    taskId: str(),
    name: str(),
    round: integer(),
    status: oneOf(BALLOT_STATUSES),
    entry: LeaderEntry,
    approvals: integer(),
    refusals: integer(),
    honest: strings(),
    contrary: strings(),
    decidedAt: at('Unix seconds; 0 = open'),
  },
  ['entry'],
  'a committee ballot',
);

/** One leader entry (block) carrying one or more tasks' ballots (committees:recordEntries). */
export const LeaderBlock = record(
  { leader: str(), slot: str('the slot number, in decimal digits'), at: at(), txId: str(), ballots: list(Ballot, 'each entered ballot, in the order asked') },
  [],
  'a slot leader\'s block of entries',
);

export const Vote = record(
  { taskId: str(), round: integer(), ballot: str(), voter: str(), approve: bool(), conditions: { type: 'object', additionalProperties: bool() }, reason: str(), at: at(), txId: str() },
  [],
  'a committee member\'s recorded vote',
);

export const BallotView = record(
  { ballot: { anyOf: [Ballot, { type: 'null' }] }, round: integer(), votes: list(Vote) },
  [],
  'a task\'s ballot (null before its first vote or entry) with the round\'s votes (committees:getBallot)',
);

export const AdmissionDecision = record(
  {
    participantId: str(),
    status: oneOf(PARTICIPANT_STATUSES),
    decision: {
      type: 'object',
      required: ['taskId', 'ballot', 'round', 'outcome', 'approvals', 'refusals'],
      properties: { taskId: str(), ballot: str(), round: integer(), outcome: oneOf(['APPROVED', 'REJECTED']), approvals: integer(), refusals: integer() },
      description: 'the tallied ballot',
    },
  },
  [],
  'an admission ballot tallied (admissions:decide)',
);

export const BeaconKey = record({ mspId: str(), publicKeyHex: hex('BLS12-381 public key'), registeredAt: at() }, [], 'a utility\'s BLS beacon key');
export const BeaconKeys = list(BeaconKey, 'the registered beacon keys, one per utility (committees:getBeaconKeys)');
export const BeaconKeyRevocation = record({ mspId: str(), revoked: { const: true } }, [], 'a revoked beacon key (committees:revokeBeaconKey)');

export const Task = record(
  {
    taskId: str(),
    kind: str('admission, trade, …'),
    subjectId: str(),
    parties: strings('participants that may not sit on the committee'),
    ballots: list(record({ name: str(), conditions: strings(), requiresEntry: bool() }, [], 'a ballot of the task')),
    status: oneOf(TASK_STATUSES),
    outcome: { enum: ['', ...TASK_OUTCOMES], description: '"" while open' },
    round: integer(),
    f: integer(),
    n: integer(),
    genesisAt: at(),
    slotSeconds: integer(),
    deadlineSeconds: integer(),
    beaconQuorum: integer(),
    beaconKeys: { type: 'object', additionalProperties: str(), description: 'MSP id → beacon key when the task opened' },
    contributions: list(record({ mspId: str(), signatureHex: hex(), at: at() }, [], 'a beacon contribution')),
    seedHex: hex(),
    committee: strings(),
    committeeZones: strings(),
    leaderOffset: integer(),
    drawError: str(),
    openedAt: at(),
    roundOpenedAt: at(),
    drawnAt: at(),
    deadlineAt: at(),
    closedAt: at(),
  },
  [],
  'a committee task',
);

export const LeaderSlots = record(
  { taskId: str(), round: integer(), memberId: str(), slots: list(record({ slot: str('the slot number, in decimal digits'), startAt: at(), endAt: at() }, [], 'a slot the member leads')), at: at('the chaincode clock') },
  [],
  'the next slots a member leads (committees:nextLeaderSlots)',
);
export const SlotLeader = record(
  { taskId: str(), round: integer(), leader: str(), slot: str('the slot number of Eq. (1), in decimal digits'), at: at('the chaincode clock') },
  [],
  'the task\'s leader in the current slot (committees:leaderOf)',
);

// ---- market

const marketParameterFields: Record<string, JsonSchema> = Object.fromEntries(
  ['minPricePerKwh', 'maxPricePerKwh', 'collateralBps', 'giveUpForfeitBps', 'faultForfeitBps', 'minOfferTtlSeconds', 'maxOfferTtlSeconds', 'deliveryGraceSeconds', 'stageWindowSeconds', 'auctionClaimSeconds', 'minIntervalSeconds'].map((k) => [k, integer()]),
);
export const MarketParameters = record(
  { ...marketParameterFields, version: integer('0 = the defaults; +1 per update'), updatedAt: at(), updatedBy: str() },
  ['version', 'updatedAt', 'updatedBy'],
  'the market parameters (docs/market.md)',
);

export const ReadingPosted = record(
  { meterId: str(), intervalStart: at(), status: oneOf(['RECORDED', 'DUPLICATE']) },
  [],
  'one reading posted (meters:postReading)',
);
export const ReadingBatchPosted = record(
  { meterId: str(), recorded: integer(), duplicates: integer(), results: list(record({ intervalStart: at(), status: oneOf(['RECORDED', 'DUPLICATE']) }, [], 'one reading\'s outcome')) },
  [],
  'a batch posted (meters:postReadings)',
);

export const READING_VERDICTS = ['RECORDED', 'DUPLICATE', 'REFUSED', 'NOT_TRIED'] as const;
export const ReadingsRelayed = record(
  {
    mspId: str('the utility (the submitter\'s MSP)'),
    recorded: integer(),
    duplicates: integer(),
    refused: integer('REFUSED and NOT_TRIED'),
    results: list(
      record(
        {
          meterId: str(),
          intervalStart: at(),
          status: oneOf(READING_VERDICTS, 'REFUSED: this reading was refused (reason); NOT_TRIED: an earlier reading of the same meter in this batch was refused, so this one was not looked at'),
          reason: str('REFUSED: the refusal\'s sub-code (e.g. BAD_SIGNATURE, KEY_NOT_REGISTERED, OUT_OF_ORDER)'),
          detail: str('REFUSED: what was wrong'),
        },
        ['reason', 'detail'],
        'one relayed reading\'s verdict, in the order of the entries',
      ),
    ),
  },
  [],
  'a relayed batch (meters:relayReadings)',
);
export const MeterKey = record(
  {
    mspId: str(),
    meterId: str(),
    status: oneOf(['ACTIVE', 'REVOKED']),
    keySha256: hex('SHA-256 of the public key (SPKI DER)'),
    change: oneOf(['REGISTERED', 'REPLACED', 'UNCHANGED', 'REVOKED'], 'what this transaction did'),
  },
  [],
  'a meter\'s public key as the ledger knows it (meters:registerKey, meters:revokeKey)',
);

const StoredReading = record(
  {
    meterId: str(),
    intervalStart: at(),
    intervalLength: integer(),
    importWh: integer(),
    exportWh: integer(),
    importRegisterWh: integer(),
    exportRegisterWh: integer(),
    nonce: str(),
  },
  ['nonce'],
  'a raw reading',
);
const readingSummary = { mspId: str(), meterId: str(), intervalStart: at(), intervalLength: integer(), readingHash: hex('the public hash (on the channel)') };
export const Reading = record({ ...readingSummary, reading: StoredReading }, [], 'a raw reading and its summary (meters:getReading)');
export const FlowProof = record(
  { direction: oneOf(['export', 'import']), meterId: str(), intervalStart: at(), intervalLength: integer(), wh: integer(), salt: hex() },
  [],
  'a reading\'s settlement proof of one flow (meters:getProof); send it as transient exportProof / importProof',
);
export const ReadingHash = record({ mspId: str(), meterId: str(), intervalStart: at(), readingHash: hex('"" when no reading was posted') }, [], 'whether a reading exists, and its public hash (meters:getReadingHash)');
export const MeterHead = record(
  { mspId: str(), meterId: str(), lastIntervalStart: at(), lastHash: hex(), readings: integer('readings posted') },
  [],
  'the meter\'s last posted interval (meters:getHead)',
);

export const Wallet = record({ participantId: str(), balance: integer('minor currency units') }, [], 'a wallet');
export const WalletHistoryPage = page(
  record({ participantId: str(), amount: integer('signed: + credit, − debit'), kind: str(), reference: str(), txId: str(), at: at() }, [], 'one wallet movement'),
  'a wallet\'s audit trail',
);

export const EnergyPacket = record(
  {
    packetId: str(),
    owner: str(),
    mspId: str(),
    meterId: str(),
    source: oneOf(['solar', 'wind', 'hydro', 'storage', 'grid', 'other']),
    intervalStart: at(),
    intervalLength: integer(),
    amountWh: integer(),
    availableWh: integer(),
    escrowedWh: integer(),
    soldWh: integer(),
    claimedWh: integer(),
    origin: oneOf(['mint', 'trade']),
    tradeId: str(),
    createdAt: at(),
  },
  ['tradeId'],
  'an energy packet',
);
export const EnergyPacketPage = page(EnergyPacket, 'a participant\'s packets');
export const EnergyBalance = record(
  { participantId: str(), availableWh: integer(), escrowedWh: integer(), soldWh: integer(), claimedWh: integer(), packets: integer('packets minted or bought') },
  [],
  'a participant\'s energy balance (energy:balance)',
);

export const Offer = record(
  {
    offerId: str(),
    seller: str(),
    sellerMspId: str(),
    sellerMeterId: str(),
    amountWh: integer(),
    pricePerKwh: integer(),
    cost: integer(),
    collateral: integer(),
    deliveryStart: at(),
    deliveryLength: integer(),
    createdAt: at(),
    expiresAt: at(),
    status: oneOf(OFFER_STATUSES),
    tradeId: str(),
    closedAt: at(),
    collateralReturned: integer(),
    forfeited: integer(),
  },
  ['tradeId', 'closedAt', 'collateralReturned', 'forfeited'],
  'a fixed-price offer',
);
export const OfferPage = page(Offer, 'open offers');

export const Trade = record(
  {
    tradeId: str(),
    origin: oneOf(['offer', 'auction']),
    originId: str(),
    seller: str(),
    buyer: str(),
    sellerMspId: str(),
    buyerMspId: str(),
    sellerMeterId: str(),
    buyerMeterId: str(),
    amountWh: integer(),
    pricePerKwh: integer(),
    cost: integer(),
    contractHash: hex(),
    paymentEscrow: integer(),
    collateralEscrow: integer(),
    energyEscrowWh: integer(),
    packets: list(record({ packetId: str(), amountWh: integer() }, [], 'a packet and the energy taken from it')),
    deliveryStart: at(),
    deliveryLength: integer(),
    deliveryDeadline: at(),
    faultForfeitBps: integer(),
    stageWindowSeconds: integer(),
    createdAt: at(),
    state: oneOf(['AWAITING_ENERGY', 'EXECUTION', 'FINAL', 'SETTLED', 'DECLINED', 'FAILED_LATE']),
    validation: record(
      { taskId: str(), opened: bool(), honest: strings(), contrary: strings(), leader: str(), decidedByFacts: bool() },
      ['leader'],
      'the trade\'s committee validation',
    ),
    qScore: record({ x: str(), alpha: integer(), v: str(), L: str(), f: str(), q: str() }, [], 'the Q-score update of Eq. (2), as decimal strings'),
    stageDeadline: at(),
    buyerDeclaredWh: integer(),
    meteredWh: integer(),
    evidenceReadingHash: hex(),
    outcome: record(
      {
        fault: oneOf(['none', 'seller', 'buyer']),
        reason: str(),
        paidToSeller: integer(),
        refundedToBuyer: integer(),
        collateralReturned: integer(),
        forfeited: integer(),
        energyToBuyerWh: integer(),
        energyReturnedWh: integer(),
        closedAt: at(),
      },
      [],
      'how the trade closed',
    ),
  },
  ['qScore', 'stageDeadline', 'buyerDeclaredWh', 'meteredWh', 'evidenceReadingHash', 'outcome'],
  'a trade',
);
export const TradePage = page(record({ role: oneOf(['seller', 'buyer']), trade: Trade }, [], 'a trade and the participant\'s side of it'), 'a participant\'s trades');
export const TradeHistoryPage = page(
  record({ txId: str(), timestamp: at('the transaction\'s timestamp'), state: str(), trade: Trade }, [], 'one state of the trade'),
  'a trade\'s states, oldest first (the bookmark is an offset)',
);

const claim = (money: string): JsonSchema => record({ participantId: str(), mspId: str(), meterId: str(), [money]: integer() }, [], 'an opened identity commitment');
export const AuctionRequest = record(
  {
    requestId: str(),
    amountWh: integer('E_a'),
    maxPricePerKwh: integer('P_m'),
    t1: at('end of the bid phase'),
    t2: at('end of the reveal phase'),
    claimDeadline: at(),
    buyerCommitment: hex(),
    deliveryStart: at(),
    deliveryLength: integer(),
    createdAt: at(),
    status: oneOf(AUCTION_STATUSES),
    winnerOfferId: str(),
    winnerPricePerKwh: integer(),
    tieBreakBeacon: str(),
    buyerClaim: claim('payment'),
    sellerClaim: claim('collateral'),
    tradeId: str(),
    closedAt: at(),
    passedOver: strings('winning bids passed over (their seller did not claim in time)'),
  },
  ['winnerOfferId', 'winnerPricePerKwh', 'tieBreakBeacon', 'buyerClaim', 'sellerClaim', 'tradeId', 'closedAt', 'passedOver'],
  'a sealed-bid energy request',
);
export const AuctionRequestPage = page(AuctionRequest, 'open auction requests');
export const AuctionBid = record(
  {
    requestId: str(),
    offerId: str(),
    energyWh: integer('E_s'),
    priceCommitment: hex(),
    sellerCommitment: hex(),
    committedAt: at(),
    status: oneOf(BID_STATUSES),
    pricePerKwh: integer(),
    salt: str(),
    revealedAt: at(),
    filterReason: str(),
  },
  ['pricePerKwh', 'salt', 'revealedAt', 'filterReason'],
  'a sealed bid',
);
export const AuctionBidPage = page(AuctionBid, 'an auction\'s bids');

/**
 * A committee member's view of a task in one read (committees:getMemberView): the task, its ballots of the
 * current round in order up to the first not approved (each as committees:getBallot answers it, with its
 * name), and the subject when asked (`withSubject`), else null.
 */
export const MemberView = record(
  {
    task: Task,
    ballots: list(record({ name: str(), ballot: { anyOf: [Ballot, { type: 'null' }] }, round: integer(), votes: list(Vote) }, [], 'a ballot with the round\'s votes')),
    subject: {
      anyOf: [
        { type: 'null' },
        record({ participant: Participant }, [], 'an admission\'s candidate, as participants:get shows it to the caller'),
        record({ trade: Trade, packets: list(EnergyPacket, 'the trade\'s packets, in its order') }, [], 'a trade and its packets, as trades:get and energy:get show them'),
      ],
      description: 'null unless withSubject was "true"',
    },
  },
  [],
  'a committee member\'s view of a task (committees:getMemberView)',
);
