/**
 * Eq. (1) of seed 002 with the task's beacon offset, computed by the agent from the task's ledger values
 * (docs/governance.md §7; the chaincode's own copy is chaincode/src/governance/domain/leader.ts and
 * `committees:leaderOf`). The agent needs it to know WHEN its meter leads — so it can wake at that
 * slot's start instead of asking every second — and to check a leader's entry (admission Condition 1).
 */
import type { TaskView } from './types';

type SlotTask = Pick<TaskView, 'genesisMs' | 'slotSeconds' | 'n' | 'leaderOffset' | 'committee'>;

/** floor((t − t₀)/α), also for t < t₀. */
export function slotOf(tMs: number, genesisMs: number, slotSeconds: number): number {
  return Math.floor((tMs - genesisMs) / (slotSeconds * 1000));
}

export function slotStartMs(slot: number, genesisMs: number, slotSeconds: number): number {
  return genesisMs + slot * slotSeconds * 1000;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** The committee member leading the slot that contains `tMs`. */
export function leaderAt(task: SlotTask, tMs: number): { leader: string; slot: number } {
  const slot = slotOf(tMs, task.genesisMs, task.slotSeconds);
  const eta = task.n || task.committee.length;
  return { leader: task.committee[mod(slot + task.leaderOffset, eta)]!, slot };
}

/**
 * The first slot at or after the one containing `fromMs` that `member` leads, and when it starts;
 * undefined if the member is not on the committee. A member leads every n-th slot.
 */
export function nextLeadSlot(task: SlotTask, member: string, fromMs: number): { slot: number; startMs: number } | undefined {
  const idx = task.committee.indexOf(member);
  if (idx < 0) return undefined;
  const eta = task.n || task.committee.length;
  const current = slotOf(fromMs, task.genesisMs, task.slotSeconds);
  // slot s is led by idx when (s + offset) ≡ idx (mod η)
  const slot = current + mod(idx - task.leaderOffset - current, eta);
  return { slot, startMs: slotStartMs(slot, task.genesisMs, task.slotSeconds) };
}
