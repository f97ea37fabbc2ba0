/**
 * Trading eligibility and reputation effects, through the governance modules (participant registry,
 * Q-score, penalties). Penalty count, threshold k and ban length live ONLY in the regulator's
 * governance parameters (governance:setParameters); the market has no copy.
 */
import type { Trade } from '@gridledger/protocol';
import { fail } from '../../kernel/errors';
import { isoOf } from '../../kernel/clock';
import { GridLedgerContext } from '../../kernel/context';
import { canTrade, effectiveStatus, holdsWithCredits, readParticipant, settleTradeReputation } from '../../governance';
import type { Participant, StoredParameters, TradeOutcome } from '../../governance';

/** The caller must be an admitted participant allowed to trade (not banned, suspended, or below the Q gate). */
export async function requireTrader(ctx: GridLedgerContext, gov: StoredParameters, participantId: string, action: string): Promise<Participant> {
  const p = await readParticipant(ctx, participantId);
  if (!p) fail('PRECONDITION_FAILED', 'NOT_JOINED', `${action}: participant ${participantId} has not joined; call participants:requestJoin and be admitted first`);
  // the record first; its pending score credits only when its own score misses the trading minimum
  if (!(await holdsWithCredits(ctx, p, gov, (q) => canTrade(q, ctx.now, gov)))) {
    const status = effectiveStatus(p, ctx.now);
    if (status === 'BANNED') fail('FORBIDDEN', 'BANNED', `${action}: participant ${participantId} is banned from trading until ${isoOf(p.bannedUntil)}`);
    if (status !== 'ACTIVE') fail('FORBIDDEN', 'NOT_ACTIVE', `${action}: participant ${participantId} is ${status}, not active`);
    fail('FORBIDDEN', 'Q_SCORE_TOO_LOW', `${action}: Q-score ${p.qScore} is below the trading minimum ${gov.minTradingQScore}`);
  }
  return p;
}

/** Maps a closed trade to the governance TradeOutcome (docs/market.md "Penalties"). */
export function tradeOutcomeOf(t: Trade): TradeOutcome | undefined {
  const o = t.outcome;
  if (!o) return undefined;
  if (o.fault === 'none') return o.energyToBuyerWh === t.amountWh ? { kind: 'success' } : undefined;
  if (o.fault === 'buyer') return { kind: 'buyer-fault' };
  return { kind: 'seller-fault', contractedWh: t.amountWh, deliveredWh: Math.min(o.energyToBuyerWh, t.amountWh - 1) };
}

/**
 * Q-score (Eq. 2, α = +1 seller fault / −1 buyer fault) for the trade's parties and, for a fault,
 * one penalty for the faulty party (count, ban above k) — seller faults (late, undelivered,
 * over-declared, under-delivered) and buyer faults (contradicts its meter, withholds evidence)
 * alike, in ONE governance call (settleTradeReputation with `penaliseFaulty`). A success rewards
 * seller, buyer, the stage leader and every honest validator; a fault changes only the faulty
 * party. Returns the trade's Eq. (2) record.
 */
export async function applyReputation(ctx: GridLedgerContext, gov: StoredParameters, t: Trade): Promise<Trade['qScore']> {
  const outcome = tradeOutcomeOf(t);
  if (!outcome) return undefined;
  const success = outcome.kind === 'success';
  const r = await settleTradeReputation(
    ctx,
    {
      tradeId: t.tradeId, seller: t.seller, buyer: t.buyer,
      leader: success ? t.validation.leader : undefined, honest: success ? t.validation.honest : [], outcome,
      penaliseFaulty: success ? undefined : { reason: `trade ${t.tradeId}: ${t.outcome?.reason ?? outcome.kind}` },
    },
    gov,
    ctx.now,
  );
  return { x: r.x, alpha: r.alpha, v: r.eq2.v, L: r.eq2.L, f: r.eq2.f, q: r.eq2.q };
}
