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
import { addScoreCredit, appendQScoreHistory, creditedScore, mustReadParticipant, pendingScoreCredits, writeParticipant } from '../ledger/participants';
import type { QScoreHistoryEntry, ScoreCredit } from '../ledger/participants';
import type { Entry } from '../../kernel/state';
import type { Decision } from './tasks';
import { GridLedgerContext } from '../../kernel/context';
import { present } from '../../kernel/invariant';

/**
 * Folds `p`'s pending credits (`gl.qcredit`, ledger/participants.ts) into it, in key order, each
 * bounded and recorded in its history under the transaction that earned it; deletes them. Mutates
 * `p`; the caller writes it (with the score the leaderboard lists it under before the fold). Every
 * change of a record that is not a raise folds first: a lowering does not commute with the bounds
 * (a raise folded after a lowering at qScoreMin would differ), and a stake is bounded by the score.
 * Reads the participant's credit range, so it conflicts (code 12) only with a transaction that
 * credits this participant at the same time, and is retried.
 */
export async function foldScoreCredits(ctx: GridLedgerContext, p: Participant, params: StoredParameters, limit?: number): Promise<{ folded: number; more: boolean }> {
  // With `limit` (participants:foldScore only): the first `limit` credits in key order, and one more
  // read to tell whether any remain. Folding a prefix then the rest records exactly what folding all
  // at once records (each step is bounded from the score before it, in the same order), so a fold may
  // be split over transactions; a lowering must not be (changeScore folds every credit first).
  const read = await pendingScoreCredits(ctx, p.participantId, limit === undefined ? undefined : limit + 1);
  const credits = limit === undefined ? read : read.slice(0, limit);
  for (const e of pendingHistory(p, credits, params)) {
    p.qScore = e.qScore;
    await appendQScoreHistory(ctx, p, { at: e.at, delta: e.delta, qScore: e.qScore, reason: e.reason, ref: e.ref }, e.txId);
  }
  for (const c of credits) await ctx.state.del(c.key);
  return { folded: credits.length, more: read.length > credits.length };
}

/**
 * The history entries folding `credits` into `p` writes (pure): in key order, each bounded, one per
 * credit that changes the score, numbered from `p.qHistoryCount`, under the credit's transaction.
 */
export function pendingHistory(p: Participant, credits: ReadonlyArray<Entry<ScoreCredit>>, params: StoredParameters): QScoreHistoryEntry[] {
  const out: QScoreHistoryEntry[] = [];
  let q = p.qScore;
  for (const { value: c } of credits) {
    const after = clamp(q + c.delta, params.qScoreMin, params.qScoreMax);
    if (after === q) continue;
    out.push({ seq: p.qHistoryCount + out.length, at: c.at, txId: c.txId, delta: after - q, qScore: after, reason: c.reason, ref: c.ref });
    q = after;
  }
  return out;
}

/**
 * `p` with its score including the pending credits (a copy; nothing written). For queries, and for
 * a threshold the record's score misses: the credits may lift it (spec §5 gates on the score).
 */
export async function withCreditedScore(ctx: GridLedgerContext, p: Participant, params: StoredParameters): Promise<Participant> {
  return { ...p, qScore: creditedScore(p.qScore, await pendingScoreCredits(ctx, p.participantId), params.qScoreMax) };
}

/**
 * Whether `test` holds for `p`. It is tried on the record first: every pending credit raises the
 * score, so a score threshold the record meets is met, and the common case reads no credit range
 * (which every settlement crediting `p` would make stale). Only when the record fails is it tried
 * again with the credits included. `test` must be monotone in the score (thresholds are).
 */
export async function holdsWithCredits(ctx: GridLedgerContext, p: Participant, params: StoredParameters, test: (q: Participant) => boolean): Promise<boolean> {
  if (test(p)) return true;
  return test(await withCreditedScore(ctx, p, params));
}

/**
 * A raise (x > 0 terms of the per-party rule): a credit key of its own, written blind, so
 * settlements of different trades raising the same member never collide (ledger/participants.ts).
 * QScoreChanged carries the delta and `credited: true`; the new score is the record's plus its
 * credits (participants:get).
 */
export async function raiseScore(ctx: GridLedgerContext, pid: string, delta: number, reason: string, ref: string, now: number): Promise<void> {
  if (delta <= 0) return;
  await addScoreCredit(ctx, pid, { delta, at: now, reason, ref });
  emit(ctx, EVENTS.qScoreChanged, { participantId: pid, delta, reason, ref, credited: true });
}

/**
 * Changes `p`'s score by `delta` (a lowering, or 0) on its record after folding its credits;
 * bounded; records history and the leaderboard, emits QScoreChanged. Writes `p`.
 */
export async function changeScore(ctx: GridLedgerContext, p: Participant, delta: number, params: StoredParameters, reason: string, ref: string, now: number): Promise<void> {
  const ranked = p.qScore;
  await foldScoreCredits(ctx, p, params);
  const before = p.qScore;
  const after = clamp(before + delta, params.qScoreMin, params.qScoreMax);
  if (after !== before) {
    p.qScore = after;
    await appendQScoreHistory(ctx, p, { at: now, delta: after - before, qScore: after, reason, ref });
    emit(ctx, EVENTS.qScoreChanged, { participantId: p.participantId, qScore: after, delta: after - before, reason, ref });
  }
  // Stake is pledged Q-score: it can never exceed the score.
  if (p.stake > p.qScore) p.stake = Math.max(0, p.qScore);
  await writeParticipant(ctx, p, ranked);
}

/** The per-party terms of `updatePartyScores` (each party's change, unbounded: bounds apply to the score). */
function termsOf(x: bigint, alpha: Alpha | undefined, leader: boolean, honest: string[], params: StoredParameters) {
  const wide = { qStep: params.qStep, qScoreMin: Number.MIN_SAFE_INTEGER, qScoreMax: Number.MAX_SAFE_INTEGER };
  return updatePartyScores({ seller: 0, buyer: 0, leader: leader ? 0 : undefined, honest: Object.fromEntries(honest.map((id) => [id, 0])) }, x, alpha, wide);
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
  await changeScore(ctx, p, -params.qStep, params, reason, ref, now);
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
  // Raises are credits: no member's record is read or written (ledger/participants.ts).
  const leaderHonest = d.leader !== undefined && d.honest.includes(d.leader);
  const others = d.honest.filter((pid) => pid !== d.leader);
  const terms = termsOf(rewardX, undefined, leaderHonest, others, params);
  const ref = `${d.taskId}/${d.ballot}`;
  if (leaderHonest) await raiseScore(ctx, d.leader as string, terms.leader as number, 'led a decided task', ref, now);
  for (const pid of others) await raiseScore(ctx, pid, present(terms.honest[pid], `Q-score term of honest member ${pid}`), 'voted with the decided outcome', ref, now);
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

  const terms = termsOf(x, alpha, leader !== undefined, [...honest.keys()], params);
  const ref = input.tradeId;
  const reason = input.outcome.kind === 'success' ? 'trade settled' : `trade declined: ${input.outcome.kind}`;
  // The scores after this trade's change, as far as this trade knows (the records' scores, without
  // other trades' pending credits: reading those would collide with every settlement raising them).
  const scores: Record<string, number> = {};
  const bounded = (q: number, d: number) => clamp(q + d, params.qScoreMin, params.qScoreMax);
  if (x > 0n) {
    // A success raises seller, buyer, leader and honest members: credits only, no record written.
    await raiseScore(ctx, seller.participantId, terms.seller, reason, ref, now);
    await raiseScore(ctx, buyer.participantId, terms.buyer, reason, ref, now);
    if (leader && terms.leader !== undefined) await raiseScore(ctx, leader.participantId, terms.leader, reason, ref, now);
    for (const id of honest.keys()) await raiseScore(ctx, id, present(terms.honest[id], `Q-score term of honest member ${id}`), reason, ref, now);
    scores[seller.participantId] = bounded(seller.qScore, terms.seller);
    scores[buyer.participantId] = bounded(buyer.qScore, terms.buyer);
    if (leader && terms.leader !== undefined) scores[leader.participantId] = bounded(leader.qScore, terms.leader);
    for (const [id, p] of honest) scores[id] = bounded(p.qScore, present(terms.honest[id], `Q-score term of honest member ${id}`));
  } else {
    // A fault lowers the faulty party only (its record, after folding its credits), then one penalty.
    const faulty = input.outcome.kind === 'seller-fault' ? seller : buyer;
    await changeScore(ctx, faulty, faulty === seller ? terms.seller : terms.buyer, params, reason, ref, now);
    if (input.penaliseFaulty) await penalise(ctx, faulty, params, input.penaliseFaulty.reason, ref, now);
    for (const p of [seller, buyer, ...(leader ? [leader] : []), ...honest.values()]) scores[p.participantId] ??= p.qScore;
  }
  return { x: x.toString(), alpha: alpha ?? 0, eq2: { v: eq2.v.toString(), L: eq2.L.toString(), f: eq2.f.toString(), q: eq2.q.toString() }, scores };
}

/** Q_SCALE as BigInt, re-exported for callers building x values. */
export const X_ONE = Q_SCALE_N;
