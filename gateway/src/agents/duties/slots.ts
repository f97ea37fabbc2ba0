/**
 * Eq. (1) of seed 002 with the task's beacon offset, computed by the agent from the task's ledger values
 * (docs/governance.md §7; the chaincode's own copy is chaincode/src/governance/domain/leader.ts and
 * `committees:leaderOf`). The agent needs it to know WHEN its meter leads — so it can wake at that
 * slot's start instead of asking every second — and to check a leader's entry (admission Condition 1).
 * Like the ledger, it counts in integer Unix seconds.
 */
import type { TaskView } from './types';

type SlotTask = Pick<TaskView, 'genesisAt' | 'slotSeconds' | 'n' | 'leaderOffset' | 'committee'>;

/** floor((t − t₀)/α), also for t < t₀ (all in seconds). */
export function slotOf(t: number, genesisAt: number, slotSeconds: number): number {
  return Math.floor((t - genesisAt) / slotSeconds);
}

export function slotStartAt(slot: number, genesisAt: number, slotSeconds: number): number {
  return genesisAt + slot * slotSeconds;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** The committee member leading the slot that contains `t` (Unix seconds). */
export function leaderAt(task: SlotTask, t: number): { leader: string; slot: number } {
  const slot = slotOf(t, task.genesisAt, task.slotSeconds);
  const eta = task.n || task.committee.length;
  return { leader: task.committee[mod(slot + task.leaderOffset, eta)]!, slot };
}

/**
 * The first slot at or after the one containing `from` (Unix seconds) that `member` leads, and when it
 * starts; undefined if the member is not on the committee. A member leads every n-th slot.
 */
export function nextLeadSlot(task: SlotTask, member: string, from: number): { slot: number; startAt: number } | undefined {
  const idx = task.committee.indexOf(member);
  if (idx < 0) return undefined;
  const eta = task.n || task.committee.length;
  const current = slotOf(from, task.genesisAt, task.slotSeconds);
  // slot s is led by idx when (s + offset) ≡ idx (mod η)
  const slot = current + mod(idx - task.leaderOffset - current, eta);
  return { slot, startAt: slotStartAt(slot, task.genesisAt, task.slotSeconds) };
}
