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

export function slotOf(time: number, genesisAt: number, slotSeconds: number): bigint {
  const delta = BigInt(time) - BigInt(genesisAt);
  const len = BigInt(slotSeconds);
  // floor division also for t < t_0 (negative slots), so the mapping is total.
  const q = delta / len;
  return delta % len !== 0n && delta < 0n ? q - 1n : q;
}

/** Eq. (1) with the task offset: index into the committee of the leader of the slot containing t. */
export function leaderIndex(time: number, genesisAt: number, slotSeconds: number, eta: number, offset: number): number {
  return Number(mod(slotOf(time, genesisAt, slotSeconds) + BigInt(offset), BigInt(eta)));
}

export interface LedSlot {
  /** Slot number (Eq. (1) numerator), as a decimal string like `committees:leaderOf`'s `slot`. */
  slot: string;
  startAt: number;
  endAt: number;
}

/**
 * The next `count` slots, from the one containing `from` on, that committee member `index` leads:
 * member i leads slot s iff (s + offset) mod η = i, so they are every η-th slot from the first —
 * computed, never searched.
 */
export function slotsLedBy(index: number, from: number, genesisAt: number, slotSeconds: number, eta: number, offset: number, count: number): LedSlot[] {
  const current = slotOf(from, genesisAt, slotSeconds);
  const n = BigInt(eta);
  const first = current + mod(BigInt(index) - mod(current + BigInt(offset), n), n);
  const len = BigInt(slotSeconds);
  const out: LedSlot[] = [];
  for (let k = 0; k < count; k++) {
    const s = first + BigInt(k) * n;
    const start = BigInt(genesisAt) + s * len;
    out.push({ slot: s.toString(), startAt: Number(start), endAt: Number(start + len) });
  }
  return out;
}
