/**
 * A committee member's own check of a ballot's conditions, from ledger values it read itself — never
 * from the leader's entry payload, which is only compared with them. That is what makes each vote
 * independent evidence: a member attests what it saw on its own peer, and a leader that entered false
 * facts is refused by every honest member.
 */
import { contractHashOf, tradeCost } from '@gridledger/protocol';
import { slotOf, leaderAt } from './slots';
import type { BallotView, PacketView, ParticipantView, TaskView, TradeView, Verdict } from './types';

/**
 * Admission (seed 002 Fig. 4, docs/governance.md §7):
 * - Condition 1: the entry was made by the leader of the slot it was made in (Eq. (1) over this task's
 *   committee and offset, at the entry's own ledger time), and it is about this pending request as the
 *   utility enrolled it (participant id, MSP, zone);
 * - Condition 2: that leader made no other entry in that slot — `otherEntriesInSlot` are the entries
 *   by the same leader and slot the agent saw in the ledger's event stream (LeaderEntryRecorded).
 */
export function admissionConditions(
  task: TaskView,
  ballot: BallotView,
  candidate: ParticipantView,
  otherEntriesInSlot: Array<{ taskId: string; ballot: string }>,
): Verdict {
  const reasons: string[] = [];
  const e = ballot.entry;
  let c1 = false;
  if (!e) reasons.push('no leader entry');
  else {
    const { leader, slot } = leaderAt(task, e.at);
    const slotOk = Number(e.slot) === slot && slot === slotOf(e.at, task.genesisAt, task.slotSeconds);
    const payload = e.payload ?? {};
    const payloadOk = payload.participantId === candidate.participantId && payload.mspId === candidate.mspId && payload.zone === candidate.zone;
    const pending = candidate.status === 'PENDING' && candidate.admissionTaskId === task.taskId;
    c1 = leader === e.leader && slotOk && payloadOk && pending;
    if (leader !== e.leader) reasons.push(`Condition 1: slot ${slot} is led by ${leader}, the entry is by ${e.leader}`);
    if (!slotOk) reasons.push(`Condition 1: the entry names slot ${String(e.slot)}, its time is in slot ${slot}`);
    if (!payloadOk) reasons.push('Condition 1: the entry does not match the join request as enrolled');
    if (!pending) reasons.push(`Condition 1: ${candidate.participantId} is ${candidate.status}, not PENDING on this task`);
  }
  const others = otherEntriesInSlot.filter((o) => !(o.taskId === task.taskId && o.ballot === ballot.name));
  const c2 = !!e && others.length === 0;
  if (e && others.length) reasons.push(`Condition 2: leader ${e.leader} also entered ${others.map((o) => `${o.taskId}/${o.ballot}`).join(', ')} in slot ${String(e.slot)}`);
  return { conditions: { condition1: c1, condition2: c2 }, reasons };
}

/** The protocol's `tradeCost` (the chaincode charges the same), as a number. */
export function costOf(amountWh: number, pricePerKwh: number): number {
  return Number(tradeCost(amountWh, pricePerKwh));
}

/**
 * Trade execution stage (seed 002 Fig. 5 "temporary update"):
 * - Condition 1: the seller's energy is in escrow per the contract — 0 < escrowed ≤ contracted, the trade's
 *   packet list adds up to it, and every packet (read with `energy:get`) is the seller meter's, minted in
 *   the delivery interval, with at least that much escrowed;
 * - Condition 2: the buyer's payment in escrow equals the contract's cost, recomputed from amount × price,
 *   and the contract hash matches the terms.
 */
export function executionConditions(t: TradeView, packets: Record<string, PacketView | undefined>): Verdict {
  const reasons: string[] = [];
  const listed = t.packets.reduce((s, p) => s + p.amountWh, 0);
  let c1 = t.energyEscrowWh > 0 && t.energyEscrowWh <= t.amountWh && listed === t.energyEscrowWh;
  if (!(t.energyEscrowWh > 0 && t.energyEscrowWh <= t.amountWh)) reasons.push(`Condition 1: ${t.energyEscrowWh} Wh escrowed for a contract of ${t.amountWh} Wh`);
  if (listed !== t.energyEscrowWh) reasons.push(`Condition 1: the packets list ${listed} Wh, the trade escrows ${t.energyEscrowWh} Wh`);
  for (const use of t.packets) {
    const p = packets[use.packetId];
    const ok = !!p && p.owner === t.seller && p.meterId === t.sellerMeterId && p.intervalStart === t.deliveryStart && p.escrowedWh >= use.amountWh;
    if (!ok) {
      c1 = false;
      reasons.push(`Condition 1: packet ${use.packetId} is ${p ? "not the seller meter's energy of the delivery interval in escrow" : 'not on the ledger'}`);
    }
  }
  const cost = costOf(t.amountWh, t.pricePerKwh);
  const hashOk = contractHashOf(t) === t.contractHash;
  const c2 = t.cost === cost && t.paymentEscrow === cost && hashOk;
  if (t.cost !== cost) reasons.push(`Condition 2: the contract's cost ${t.cost} is not ${t.amountWh} Wh × ${t.pricePerKwh}/kWh = ${cost}`);
  if (t.paymentEscrow !== cost) reasons.push(`Condition 2: ${t.paymentEscrow} escrowed, the contract costs ${cost}`);
  if (!hashOk) reasons.push('Condition 2: the contract hash does not match the trade terms');
  return { conditions: { condition1: c1, condition2: c2 }, reasons };
}

/**
 * Trade final stage (seed 002 Fig. 5 "permanent update"):
 * - Condition 3: the buyer's declared energy equals what its meter evidences for this trade (`meteredWh`,
 *   recorded by the chaincode from the buyer meter's import proof);
 * - Condition 4: the seller's payout — the contract price of min(metered, contracted) — is covered by the
 *   buyer's escrow.
 * Undefined while the buyer has not confirmed (nothing to attest yet).
 */
export function finalConditions(t: TradeView): Verdict | undefined {
  if (t.meteredWh === undefined) return undefined;
  const reasons: string[] = [];
  const c3 = t.buyerDeclaredWh === t.meteredWh;
  if (!c3) reasons.push(`Condition 3: the buyer declared ${String(t.buyerDeclaredWh)} Wh, its meter evidences ${t.meteredWh} Wh`);
  const payout = costOf(Math.min(t.meteredWh, t.amountWh), t.pricePerKwh);
  const c4 = payout <= t.paymentEscrow;
  if (!c4) reasons.push(`Condition 4: the payout ${payout} exceeds the escrowed ${t.paymentEscrow}`);
  return { conditions: { condition3: c3, condition4: c4 }, reasons };
}

/**
 * The verdict the chaincode records with a trade stage's leader entry: `stageFacts` of
 * chaincode/src/market/domain/trade.ts (Conditions 1–2 / 3–4 on the trade's own fields, without the
 * packet reads and the contract hash the agent adds). The agent's own check implies these facts, so a
 * leader whose check holds always enters an approval; one whose check fails enters only when these fail
 * too (its entry is then a refusal, like its check).
 */
export function entryApproves(t: TradeView, stage: 'execution' | 'final'): boolean {
  if (stage === 'execution') return t.energyEscrowWh > 0 && t.energyEscrowWh <= t.amountWh && t.paymentEscrow === t.cost;
  if (t.meteredWh === undefined) return false;
  return t.buyerDeclaredWh === t.meteredWh && costOf(Math.min(t.meteredWh, t.amountWh), t.pricePerKwh) <= t.paymentEscrow;
}
