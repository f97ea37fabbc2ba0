/**
 * Money arithmetic. Prices are minor currency units per kWh and energy is Wh, so a cost is
 * amountWh * price / 1000. Products are taken in BigInt and rounded DOWN: the buyer never pays for a
 * fraction of a minor unit, and because every payout is computed as "escrow minus what was paid",
 * the rounding remainder always returns to whoever put it in escrow — money is conserved exactly.
 */
import { tradeCost } from '@gridledger/protocol';
import { fail } from '../../kernel/errors';

function toSafe(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < 0n) fail('INVALID_ARGUMENT', 'OUT_OF_RANGE', `${what} is out of range`);
  return Number(v);
}

/** The protocol's `tradeCost` (the agents recompute the same), refused when it is not a safe integer. */
export function costOf(amountWh: number, priceMinorPerKwh: number): number {
  return toSafe(tradeCost(amountWh, priceMinorPerKwh), 'cost (amountWh * price / 1000)');
}

/** `bps` basis points (1/10000) of an amount, rounded down. */
export function bpsOf(amount: number, bps: number): number {
  return toSafe((BigInt(amount) * BigInt(bps)) / 10000n, 'basis-point share');
}
