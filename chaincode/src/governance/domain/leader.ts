/**
 * Leader rotation, seed 002 Eq. (1):  l_i = floor((t_i − t_0) / α) mod η
 * with t_i the GUARDED tx time, t_0 the market genesis, α the slot length and η the size of the
 * set the leader is drawn from (here: the task's committee, n = 3f + 1).
 *
 * Deviation (docs/governance.md): the slot index is offset by a value derived from the task's
 * beacon seed, so a submitter who can pick its timestamp within the clock guard's tolerance still
 * cannot pick WHICH member leads a given slot for a given task — the offset is unknown until the
 * utilities' beacon contributions exist.
 */
import { mod } from './fixedPoint';

export function slotOf(tMs: number, genesisMs: number, slotSeconds: number): bigint {
  const delta = BigInt(tMs) - BigInt(genesisMs);
  const len = BigInt(slotSeconds) * 1000n;
  // floor division also for t < t_0 (negative slots), so the mapping is total.
  const q = delta / len;
  return delta % len !== 0n && delta < 0n ? q - 1n : q;
}

/** Eq. (1) with the task offset: index into the committee of the leader of the slot containing t. */
export function leaderIndex(tMs: number, genesisMs: number, slotSeconds: number, eta: number, offset: number): number {
  return Number(mod(slotOf(tMs, genesisMs, slotSeconds) + BigInt(offset), BigInt(eta)));
}

export interface LedSlot {
  /** Slot number (Eq. (1) numerator), as a decimal string like `committees:leaderOf`'s `slot`. */
  slot: string;
  startMs: number;
  endMs: number;
}

/**
 * The next `count` slots, from the one containing `fromMs` on, that committee member `index` leads:
 * member i leads slot s iff (s + offset) mod η = i, so they are every η-th slot from the first —
 * computed, never searched.
 */
export function slotsLedBy(index: number, fromMs: number, genesisMs: number, slotSeconds: number, eta: number, offset: number, count: number): LedSlot[] {
  const current = slotOf(fromMs, genesisMs, slotSeconds);
  const n = BigInt(eta);
  const first = current + mod(BigInt(index) - mod(current + BigInt(offset), n), n);
  const len = BigInt(slotSeconds) * 1000n;
  const out: LedSlot[] = [];
  for (let k = 0; k < count; k++) {
    const s = first + BigInt(k) * n;
    const start = BigInt(genesisMs) + s * len;
    out.push({ slot: s.toString(), startMs: Number(start), endMs: Number(start + len) });
  }
  return out;
}
