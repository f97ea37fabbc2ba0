/**
 * The market's transaction inputs (docs/market.md): the JSON arguments of offers, auctions, readings
 * and minting. Each is the one definition used by the chaincode's validation (ahead-compiled, see
 * validate.ts), by the gateway's request bodies (gateway/src/rest/openapi.ts merges them) and by
 * GetMetadata (chaincode/src/kernel/metadata.ts).
 */
import {
  EARLIEST_INTERVAL, INTERVAL_LENGTHS, MAX_BATCH, MAX_INTERVAL_WH, MAX_RELAY, MAX_QUANTITY, MAX_UNIX_SECONDS,
  energyWh, hex64, id, int, intervalLength, object, pricePerKwh, secret, unixSeconds, type JsonSchema,
} from './fields';

export const OfferInput: JsonSchema = object(
  {
    amountWh: energyWh('energy offered, Wh'),
    pricePerKwh: pricePerKwh(),
    deliveryStart: unixSeconds('start of the delivery interval, Unix seconds, aligned to deliveryLength'),
    deliveryLength: intervalLength(),
    ttlSeconds: int(1, MAX_QUANTITY, 'how long the offer stays open, seconds (the market parameters bound it)'),
  },
  ['amountWh', 'pricePerKwh', 'deliveryStart', 'deliveryLength', 'ttlSeconds'],
  'a fixed-price offer (offers:create)',
);

export const AuctionRequestInput: JsonSchema = object(
  {
    amountWh: energyWh('energy requested, Wh (E_a)'),
    maxPricePerKwh: pricePerKwh('highest price per kWh the buyer pays (P_m), minor units'),
    t1: unixSeconds('end of the bid phase, Unix seconds'),
    t2: unixSeconds('end of the reveal phase, Unix seconds'),
    buyerCommitment: hex64("SHA-256 of the buyer's identity commitment (64 lowercase hex digits)"),
    deliveryStart: unixSeconds('start of the delivery interval, Unix seconds'),
    deliveryLength: intervalLength(),
  },
  ['amountWh', 'maxPricePerKwh', 't1', 't2', 'buyerCommitment', 'deliveryStart', 'deliveryLength'],
  'a sealed-bid energy request (auctions:request)',
);

export const AuctionBidInput: JsonSchema = object(
  {
    energyWh: energyWh('energy offered, Wh (E_s, at least the request\'s E_a)'),
    priceCommitment: hex64('SHA-256 over the request id, the price and a salt (docs/market.md)'),
    sellerCommitment: hex64("SHA-256 of the seller's identity commitment"),
  },
  ['energyWh', 'priceCommitment', 'sellerCommitment'],
  'a sealed bid (auctions:bid)',
);

export const AuctionRevealInput: JsonSchema = object(
  {
    pricePerKwh: int(0, MAX_QUANTITY, 'the committed price per kWh, minor units'),
    salt: secret('the salt of the price commitment'),
  },
  ['pricePerKwh', 'salt'],
  'a bid\'s reveal (auctions:reveal)',
);

export const MintInput: JsonSchema = object(
  {
    intervalStart: unixSeconds('an interval whose reading was recorded (post it first)'),
    amountWh: energyWh("at most the interval's recorded export (minus what was minted from it)"),
    source: { enum: ['solar', 'wind', 'hydro', 'storage', 'grid', 'other'], description: 'generation source' },
  },
  ['intervalStart', 'amountWh', 'source'],
  'energy packets minted from a recorded export (energy:mint)',
);

/** One reading's values, without the meter (which the gateway takes from the route and the chaincode from the batch). */
const readingValues: Record<string, JsonSchema> = {
  intervalStart: int(EARLIEST_INTERVAL, MAX_UNIX_SECONDS, 'Unix seconds, aligned to intervalLength'),
  intervalLength: intervalLength('seconds; 60 only where the market parameter minIntervalSeconds is 60'),
  importWh: int(0, MAX_INTERVAL_WH),
  exportWh: int(0, MAX_INTERVAL_WH),
  importRegisterWh: int(0, MAX_QUANTITY, "cumulative import register at the interval's end"),
  exportRegisterWh: int(0, MAX_QUANTITY, "cumulative export register at the interval's end"),
  nonce: { type: 'string', maxLength: 128, pattern: '^[A-Za-z0-9._:-]{0,128}$', 'x-hint': 'at most 128 of A-Z a-z 0-9 . _ : -' },
};
const READING_REQUIRED = ['intervalStart', 'intervalLength', 'importWh', 'exportWh', 'importRegisterWh', 'exportRegisterWh'];

/** A reading as `meters:postReading` takes it: its meter named. */
export const ReadingInput: JsonSchema = object(
  { meterId: id('the meter'), ...readingValues },
  ['meterId', ...READING_REQUIRED],
  'one metering interval of one meter (meters:postReading)',
);

/** An item of a batch: the meter may be left out (the batch names it). */
export const ReadingItem: JsonSchema = object({ meterId: id('the meter (defaults to the batch\'s)'), ...readingValues }, READING_REQUIRED, 'one reading of a batch (ReadingBatchInput), or a REST reading');

export const ReadingBatchInput: JsonSchema = object(
  {
    meterId: id('the meter'),
    readings: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: ReadingItem, 'x-subCode': 'BAD_BATCH', 'x-hint': `an array of 1 to ${MAX_BATCH} readings` },
  },
  ['meterId', 'readings'],
  'up to 96 readings of one meter, in interval order (meters:postReadings)',
);

/** Readings of MANY meters of the caller's utility, each signed by its meter's key (meters:relayReadings). */
export const RelayedReadingsInput: JsonSchema = object(
  {
    entries: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_RELAY,
      items: object(
        {
          meterId: id('the meter whose key signed the reading'),
          reading: ReadingItem,
          signature: { type: 'string', minLength: 8, maxLength: 200, pattern: '^[A-Za-z0-9+/]+={0,2}$', 'x-subCode': 'BAD_SIGNATURE', 'x-hint': 'base64 of a DER ECDSA signature', description: "the meter key's ECDSA/SHA-256 signature of relayedReadingMessage, base64 (DER)" },
        },
        ['meterId', 'reading', 'signature'],
        'one relayed reading',
      ),
      'x-subCode': 'BAD_BATCH',
      'x-hint': `an array of 1 to ${MAX_RELAY} signed readings`,
    },
  },
  ['entries'],
  `up to ${MAX_RELAY} readings of meters of the caller's utility, each meter's in interval order (meters:relayReadings)`,
);

/** The energy packets a seller escrows for a trade (trades:deliverEnergy). */
export const PacketsInput: JsonSchema = {
  type: 'array',
  minItems: 1,
  maxItems: 16,
  items: {
    ...object({ packetId: id('a packet the seller owns'), amountWh: { ...energyWh('Wh taken from it'), 'x-subCode': 'BAD_PACKETS' } }, ['packetId', 'amountWh']),
    'x-subCode': 'BAD_PACKETS',
  },
  'x-subCode': 'BAD_PACKETS',
  'x-hint': 'an array of 1 to 16 {packetId, amountWh}',
  description: 'packets and the energy taken from each (trades:deliverEnergy)',
};

const bps = (description: string): JsonSchema => int(0, 10_000, `${description}, basis points`);

/** A partial update of the market parameters (docs/market.md); the chaincode then checks the relations between them. */
export const MarketParametersInput: JsonSchema = {
  ...object(
    {
      minPricePerKwh: int(1, MAX_QUANTITY, 'the regulator\'s minimum price P_k per kWh'),
      maxPricePerKwh: int(0, MAX_QUANTITY, 'price cap per kWh (0 = none)'),
      collateralBps: bps('seller collateral of an offer\'s cost'),
      giveUpForfeitBps: bps('collateral forfeited when a seller gives up before expiry'),
      faultForfeitBps: bps('collateral forfeited on a seller fault'),
      minOfferTtlSeconds: int(1, MAX_QUANTITY),
      maxOfferTtlSeconds: int(1, MAX_QUANTITY),
      deliveryGraceSeconds: int(0, MAX_QUANTITY),
      stageWindowSeconds: int(60, MAX_QUANTITY),
      auctionClaimSeconds: int(60, MAX_QUANTITY),
      minIntervalSeconds: { enum: [...INTERVAL_LENGTHS], description: 'shortest metering interval the network accepts; production 300, development and test networks 60 (docs/market.md)' },
    },
    [],
    'a partial update of the market parameters (market:setParameters); the chaincode also checks the relations between them',
  ),
  minProperties: 1,
  maxProperties: 11,
  'x-subCode': 'EMPTY_UPDATE',
};

/**
 * A reading's settlement proof of one flow (meters:getProof), disclosed as transient `exportProof`
 * (energy:mint) or `importProof` (trades:confirmDelivery) and checked against its channel hash.
 */
export const FlowProofInput: JsonSchema = object(
  {
    direction: { enum: ['export', 'import'], 'x-subCode': 'BAD_DIRECTION' },
    meterId: id('the meter'),
    intervalStart: int(EARLIEST_INTERVAL, MAX_UNIX_SECONDS, 'Unix seconds'),
    intervalLength: int(1, 86_400, 'seconds'),
    wh: int(0, MAX_INTERVAL_WH, 'the flow, Wh'),
    salt: { ...hex64('the proof\'s salt'), 'x-subCode': 'BAD_SALT' },
  },
  ['direction', 'meterId', 'intervalStart', 'intervalLength', 'wh', 'salt'],
  'a reading\'s settlement proof of one flow (transient exportProof / importProof)',
);
