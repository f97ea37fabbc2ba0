/**
 * Shared input vocabulary of the market rules. Transaction inputs are checked by their one schema
 * (packages/protocol/src/schemas, through kernel/args.ts `inputOf`): no hand-written field loops here.
 * Only integers are accepted for quantities: money is in minor units, energy in Wh, time in seconds.
 */
import { MAX_QUANTITY } from '@gridledger/protocol';

/** Largest quantity we accept anywhere (Wh, minor units, seconds); keeps every product inside BigInt-free sums (packages/protocol). */
export { MAX_QUANTITY };

export type Obj = Record<string, unknown>;

/** A claim secret: 16-256 printable ASCII characters (as the protocol's `secret` field schema). */
export const SECRET_PATTERN = /^[\x21-\x7e]{16,256}$/;
