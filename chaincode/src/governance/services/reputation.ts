/**
 * Q-score and penalty bookkeeping on the ledger: the only place participant scores change.
 * Used by admissions (committee decisions) and by the market (trade outcomes).
 */
import { clamp, floorDiv, Q_SCALE_N } from '../domain/fixedPoint';
import type { Participant } from '../domain/participant';
import type { StoredParameters } from '../domain/parameters';
import { Alpha, qScoreEq2, TradeOutcome, updatePartyScores, xForOutcome } from '../domain/qscore';
import { EVENTS } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { appendQScoreHistory, mustReadParticipant, writeParticipant } from '../ledger/participants';
import type { Decision } from './tasks';
import { GridLedgerContext } from '../../kernel/context';
import { present } from '../../kernel/invariant';

/** Sets a participant's score (bounded), records history and the leaderboard, emits QScoreChanged. Writes `p`. */
export async function setScore(ctx: GridLedgerContext, p: Participant, newScore: number, params: StoredParameters, reason: string, ref: string, now: number): Promise<void> {
  const before = p.qScore;
  const after = clamp(newScore, params.qScoreMin, params.qScoreMax);
  if (after !== before) {
    p.qScore = after;
    // Stake is pledged Q-score: it can never exceed the score.
    if (p.stake > after) p.stake = Math.max(0, after);
    await appendQScoreHistory(ctx, p, { at: now, delta: after - before, qScore: after, reason, ref });
    emit(ctx, EVENTS.qScoreChanged, { participantId: p.participantId, qScore: after, delta: after - before, reason, ref });
  }
  await writeParticipant(ctx, p, before);
}

/**
 * A penalty: score − qStep, penalty count + 1, and a ban of `banSeconds` when the count exceeds k.
 * Mutates and writes `p`; returns true if it banned `p`. It does NOT touch the committee index:
 * penalties happen on hot paths (trade settlement), and index writes there would collide under
 * MVCC; the banned entry is skipped lazily at draw time until a governance transaction syncs it
 * (`registry.syncCommitteeIndex`).
 */
export async function penalise(ctx: GridLedgerContext, p: Participant, params: StoredParameters, reason: string, ref: string, now: number): Promise<boolean> {
  p.penaltyCount += 1;
  emit(ctx, EVENTS.participantPenalised, { participantId: p.participantId, penaltyCount: p.penaltyCount, reason, ref });
  if (p.penaltyCount > params.penaltyThreshold) {
    p.status = 'BANNED';
    p.bannedUntil = Math.max(p.bannedUntil, now + params.banSeconds);
    emit(ctx, EVENTS.participantBanned, { participantId: p.participantId, bannedUntil: p.bannedUntil, reason: `penalty count ${p.penaltyCount} exceeds k = ${params.penaltyThreshold}` });
  }
  await setScore(ctx, p, p.qScore - params.qStep, params, reason, ref, now);
  return p.penaltyCount > params.penaltyThreshold;
}

/**
 * Reputation after a committee decision: members whose vote contradicts the outcome are
 * penalised; when `rewardX` > 0 the honest members gain Δ·x and an honest leader Δ·x³ (their
 * Eq. (2) terms). Admission passes x = +1 when admitted and 0 (no reward) when rejected.
 * Returns the (updated) records of the members this decision banned, so a governance
 * caller can take them out of the committee index in the same transaction; trade validation
 * ignores it (hot path: the entries are skipped lazily when drawn).
 */
export async function applyCommitteeDecision(ctx: GridLedgerContext, d: Decision, params: StoredParameters, now: number, rewardX: bigint): Promise<Participant[]> {
  const banned: Participant[] = [];
  for (const pid of d.contrary) {
    const p = await mustReadParticipant(ctx, pid);
    if (await penalise(ctx, p, params, `vote contradicts the decided outcome (${d.outcome})`, `${d.taskId}/${d.ballot}`, now)) banned.push(p);
  }
  if (rewardX <= 0n) return banned;
  const scores: Record<string, number> = {};
  const records = new Map<string, Participant>();
  for (const pid of d.honest) {
    const p = await mustReadParticipant(ctx, pid);
    records.set(pid, p);
    scores[pid] = p.qScore;
  }
  const leaderHonest = d.leader !== undefined && records.has(d.leader);
  const honestOthers = Object.fromEntries(Object.entries(scores).filter(([pid]) => pid !== d.leader));
  const next = updatePartyScores(
    { seller: 0, buyer: 0, leader: leaderHonest ? scores[d.leader as string] : undefined, honest: honestOthers },
    rewardX,
    undefined,
    params,
  );
  for (const [pid, p] of records) {
    const q = pid === d.leader ? (next.leader as number) : present(next.honest[pid], `new Q-score of honest member ${pid}`);
    await setScore(ctx, p, q, params, pid === d.leader ? 'led a decided task' : 'voted with the decided outcome', `${d.taskId}/${d.ballot}`, now);
  }
  return banned;
}

export interface TradeReputationInput {
  tradeId: string;
  seller: string;
  buyer: string;
  leader?: string;
  /** Committee members whose attestations matched the outcome (leader excluded automatically). */
  honest: string[];
  outcome: TradeOutcome;
  /**
   * Also count one penalty (penalty count + 1, score − qStep, ban beyond k) against the party at
   * fault — the seller for a seller fault, the buyer for a buyer fault — in the same call, on the
   * same record. `reason` names the fault.
   */
  penaliseFaulty?: { reason: string };
}

export interface TradeReputationResult {
  x: string;
  alpha: Alpha | 0;
  /** Eq. (2) for this trade (fixed point, decimal strings): v_i, L_i, f(x_i, α), Q_i. */
  eq2: { v: string; L: string; f: string; q: string };
  scores: Record<string, number>;
}

/**
 * Applies a trade outcome (spec §5): success raises seller, buyer, leader and honest members;
 * a seller fault lowers only the seller; a buyer fault only the buyer. Also computes the trade's
 * Eq. (2) score Q_i (v_{i-1} = mean score of the honest members, L_{i-1} = leader's score,
 * S and B = seller's and buyer's scores before the update) for the market to record on the trade.
 * With `penaliseFaulty` the faulty party also gets one penalty (docs/governance.md "Trade outcomes").
 */
export async function settleTradeReputation(ctx: GridLedgerContext, input: TradeReputationInput, params: StoredParameters, now: number): Promise<TradeReputationResult> {
  const { x, alpha } = xForOutcome(input.outcome);
  const seller = await mustReadParticipant(ctx, input.seller);
  const buyer = await mustReadParticipant(ctx, input.buyer);
  const leader = input.leader ? await mustReadParticipant(ctx, input.leader) : undefined;
  const honestIds = [...new Set(input.honest)].filter((id) => id !== input.leader && id !== input.seller && id !== input.buyer).sort();
  const honest = new Map<string, Participant>();
  for (const id of honestIds) honest.set(id, await mustReadParticipant(ctx, id));

  const vSum = [...honest.values()].reduce((s, p) => s + BigInt(p.qScore), 0n);
  const vPrev = honest.size ? floorDiv(vSum, BigInt(honest.size)) : 0n;
  const eq2 = qScoreEq2({ vPrev, lPrev: leader?.qScore ?? 0, x, S: seller.qScore, B: buyer.qScore, alpha });

  const next = updatePartyScores(
    { seller: seller.qScore, buyer: buyer.qScore, leader: leader?.qScore, honest: Object.fromEntries([...honest].map(([id, p]) => [id, p.qScore])) },
    x,
    alpha,
    params,
  );
  const ref = input.tradeId;
  const reason = input.outcome.kind === 'success' ? 'trade settled' : `trade declined: ${input.outcome.kind}`;
  await setScore(ctx, seller, next.seller, params, reason, ref, now);
  await setScore(ctx, buyer, next.buyer, params, reason, ref, now);
  if (leader && next.leader !== undefined) await setScore(ctx, leader, next.leader, params, reason, ref, now);
  for (const [id, p] of honest) await setScore(ctx, p, present(next.honest[id], `new Q-score of honest member ${id}`), params, reason, ref, now);
  if (input.penaliseFaulty && input.outcome.kind !== 'success') {
    const faulty = input.outcome.kind === 'seller-fault' ? seller : buyer;
    await penalise(ctx, faulty, params, input.penaliseFaulty.reason, ref, now);
  }

  const scores: Record<string, number> = { [seller.participantId]: seller.qScore, [buyer.participantId]: buyer.qScore };
  if (leader) scores[leader.participantId] = leader.qScore;
  for (const [id, p] of honest) scores[id] = p.qScore;
  return { x: x.toString(), alpha: alpha ?? 0, eq2: { v: eq2.v.toString(), L: eq2.L.toString(), f: eq2.f.toString(), q: eq2.q.toString() }, scores };
}

/** Q_SCALE as BigInt, re-exported for callers building x values. */
export const X_ONE = Q_SCALE_N;
