/**
 * Field schemas the transaction inputs are built from (JSON Schema, the subset that means the same in
 * draft-07 — what the chaincode's ahead-compiled ajv validators use — and in 2020-12, OpenAPI 3.1's
 * dialect, what the gateway's openapi.yaml uses). Two annotations of our own, both ignored by
 * validation: `x-subCode` is the chaincode sub-code a failure of that field refuses with
 * (CONTRACTS.md "Errors"), `x-hint` how the refusal describes a valid value.
 */
export type JsonSchema = Record<string, unknown>;

/** Latest instant we accept anywhere (2100-01-01T00:00:00Z, Unix seconds). */
export const MAX_UNIX_SECONDS = 4_102_444_800;
/** Largest quantity accepted anywhere (Wh, minor units, seconds): 1e12 < 2^53 / 1000 keeps every product exact. */
export const MAX_QUANTITY = 1_000_000_000_000;
/** Physical ceiling on one interval's flow through a household/feeder meter, and on one trade (10 MWh). */
export const MAX_INTERVAL_WH = 10_000_000;
/** Earliest metering interval: 2020-01-01T00:00:00Z — older data is a clock error, not a reading. */
export const EARLIEST_INTERVAL = 1_577_836_800;
/** Metering interval lengths in seconds (1, 5, 15, 30, 60 minutes); the network's `minIntervalSeconds` narrows them. */
export const INTERVAL_LENGTHS = [60, 300, 900, 1800, 3600] as const;
/** A reading batch is bounded so one transaction stays small (one day of 15-minute intervals). */
export const MAX_BATCH = 96;
/** Most readings one `meters:relayReadings` transaction carries (readings of many meters, each signed by its meter). */
export const MAX_RELAY = 96;

/** Ids of ledger objects (offers, trades, auctions, packets, participants, meters). No `~`: it separates composite-key parts. */
export const ID_PATTERN_SOURCE = '^[A-Za-z0-9._:-]{1,128}$';

export const id = (description?: string): JsonSchema => ({
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: ID_PATTERN_SOURCE,
  'x-subCode': 'BAD_ID',
  'x-hint': 'an id (1-128 of A-Z a-z 0-9 . _ : -)',
  ...(description ? { description } : {}),
});

export const int = (minimum: number, maximum: number, description?: string): JsonSchema => ({
  type: 'integer',
  minimum,
  maximum,
  ...(description ? { description } : {}),
});

export const hex64 = (description?: string): JsonSchema => ({
  type: 'string',
  minLength: 64,
  maxLength: 64,
  pattern: '^[0-9a-f]{64}$',
  'x-hint': '64 lowercase hex digits',
  ...(description ? { description } : {}),
});

/** A caller's secret or salt: 16-256 printable ASCII characters. */
export const secret = (description?: string): JsonSchema => ({
  type: 'string',
  minLength: 16,
  maxLength: 256,
  pattern: '^[\\x21-\\x7e]{16,256}$',
  'x-hint': '16-256 printable ASCII characters',
  ...(description ? { description } : {}),
});

export const text = (minLength: number, maxLength: number, description?: string): JsonSchema => ({
  type: 'string',
  minLength,
  maxLength,
  'x-hint': `${minLength}-${maxLength} characters`,
  ...(description ? { description } : {}),
});

export const unixSeconds = (description = 'Unix seconds'): JsonSchema => int(0, MAX_UNIX_SECONDS, description);
export const energyWh = (description?: string): JsonSchema => int(1, MAX_INTERVAL_WH, description);
export const pricePerKwh = (description = 'minor currency units per kWh'): JsonSchema => int(1, MAX_QUANTITY, description);
export const intervalLength = (description = 'seconds; one metering interval of the network (its market parameter minIntervalSeconds may exclude the shorter ones)'): JsonSchema => ({
  enum: [...INTERVAL_LENGTHS],
  'x-subCode': 'BAD_INTERVAL',
  description,
});

/** A closed object: exactly the listed properties, `required` of them mandatory. */
export function object(properties: Record<string, JsonSchema>, required: string[], description?: string): JsonSchema {
  return { type: 'object', additionalProperties: false, required, properties, ...(description ? { description } : {}) };
}
