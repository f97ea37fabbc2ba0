import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import { getCaller, requireMeter, requireOperator, requireRegulator } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import { KEY } from '../ledger/keys';
import { mustReadParticipant, pendingScoreCredits, QScoreHistoryEntry } from '../ledger/participants';
import { pageByPartialKey, pageSizeArg } from '../../kernel/paging';
import { readParameters } from '../ledger/parameters';
import * as registry from '../services/registry';
import { pendingHistory } from '../services/reputation';
import { MAX_QUANTITY } from '@gridledger/protocol';
import { idArg, inputOf, intArg, jsonObjectArg, textArg } from '../../kernel/args';
import { GridLedgerContext } from '../../kernel/context';
import { participantSeenBy, participantView } from '../services/participantView';

@Info({ title: 'participants', description: 'Participant registry: enrolment, join, status, Q-score queries' })
export class ParticipantsContract extends GridLedgerContract {
  constructor() {
    super('participants');
  }

  /** Operator: registers a meter of the operator's OWN utility (the MSP comes from the certificate). */
  @Transaction()
  @Returns('string')
  async enrolMeter(ctx: GridLedgerContext, meterId: string, zone: string): Promise<string> {
    const op = requireOperator(ctx, 'participants:enrolMeter');
    const now = await ctx.time();
    return canonicalJson(await registry.enrolMeter(ctx, op, meterId, zone, now));
  }

  /** Meter: asks to join; opens its admission task. `requestJson` = `{"stake"?: int}`. */
  @Transaction()
  @Returns('string')
  async requestJoin(ctx: GridLedgerContext, requestJson: string): Promise<string> {
    const meter = requireMeter(ctx, 'participants:requestJoin');
    const req = inputOf<Record<string, unknown>>('JoinInput', jsonObjectArg(requestJson, 'requestJson'), 'requestJson');
    const params = await readParameters(ctx);
    const now = await ctx.time(params);
    return canonicalJson(participantView(await registry.requestJoin(ctx, meter, req, now, params), now, true));
  }

  @Transaction(false)
  @Returns('string')
  async get(ctx: GridLedgerContext, participantId: string): Promise<string> {
    const caller = getCaller(ctx);
    const params = await ctx.parameters();
    const now = await ctx.time(params);
    return canonicalJson(await participantSeenBy(ctx, caller, participantId, params, now));
  }

  @Transaction(false)
  @Returns('string')
  async whoAmI(ctx: GridLedgerContext): Promise<string> {
    const c = getCaller(ctx);
    return canonicalJson({ participantId: c.participantId, mspId: c.mspId, role: c.role, meterId: c.meterId, zone: c.zone });
  }

  /** Meter: pledges part of its Q-score for committee service (0 withdraws from committees). */
  @Transaction()
  @Returns('string')
  async setStake(ctx: GridLedgerContext, amount: string): Promise<string> {
    const meter = requireMeter(ctx, 'participants:setStake');
    const now = await ctx.time();
    const p = await registry.setStake(ctx, meter, intArg(amount, 'amount', 0, MAX_QUANTITY), now);
    return canonicalJson(participantView(p, now, true));
  }

  /** Regulator: admits a founding member while the community is smaller than one committee. */
  @Transaction()
  @Returns('string')
  async admitFounding(ctx: GridLedgerContext, participantId: string): Promise<string> {
    requireRegulator(ctx, 'participants:admitFounding');
    const params = await readParameters(ctx);
    const now = await ctx.time(params);
    return canonicalJson(participantView(await registry.admitFounding(ctx, participantId, now, params), now, true));
  }

  /** Operator of the participant's utility, or the regulator. */
  @Transaction()
  @Returns('string')
  async suspend(ctx: GridLedgerContext, participantId: string, reason: string): Promise<string> {
    const caller = getCaller(ctx);
    const now = await ctx.time();
    return canonicalJson(participantView(await registry.suspend(ctx, caller, participantId, textArg(reason, 'reason', 1, 256), now), now, true));
  }

  /** Operator of the participant's utility (suspension), or the regulator (suspension or ban). */
  @Transaction()
  @Returns('string')
  async reinstate(ctx: GridLedgerContext, participantId: string): Promise<string> {
    const caller = getCaller(ctx);
    const now = await ctx.time();
    return canonicalJson(participantView(await registry.reinstate(ctx, caller, participantId, now), now, true));
  }

  /** Regulator: bans for `seconds` (the ban expires by itself). */
  @Transaction()
  @Returns('string')
  async ban(ctx: GridLedgerContext, participantId: string, seconds: string, reason: string): Promise<string> {
    requireRegulator(ctx, 'participants:ban');
    const now = await ctx.time();
    const p = await registry.ban(ctx, participantId, intArg(seconds, 'seconds', 1, 315_360_000), textArg(reason, 'reason', 1, 256), now);
    return canonicalJson(participantView(p, now, true));
  }

  /**
   * Any caller: makes the committee index agree with the participant's status now — re-adds a
   * participant whose ban has run out (bans expire lazily, without a transaction), removes one
   * banned automatically by a penalty. Writes nothing if they already agree (so it cannot be used
   * to churn the index). Result: `{participantId, zone, status, indexed, position?, change}`.
   */
  @Transaction()
  @Returns('string')
  async syncCommitteeIndex(ctx: GridLedgerContext, participantId: string): Promise<string> {
    getCaller(ctx);
    const now = await ctx.time();
    return canonicalJson(await registry.syncParticipantIndex(ctx, participantId, now));
  }

  /**
   * The participant itself, an operator of its utility or the regulator: folds up to 100 of its
   * pending score credits into its record, so the record, history and leaderboard catch up with the
   * score (`participants:get` already includes them). Writes nothing when none are pending. Result:
   * `{participantId, folded, more, qScore, change}`; `more`: call again.
   */
  @Transaction()
  @Returns('string')
  async foldScore(ctx: GridLedgerContext, participantId: string): Promise<string> {
    const pid = idArg(participantId, 'participantId');
    const caller = getCaller(ctx);
    return canonicalJson(await registry.foldScore(ctx, caller, pid, await ctx.parameters()));
  }

  /**
   * Regulator, once after upgrading from a version without committee-index position keys: walks
   * `pageSize` (1–500) more entries of `zone`'s index and writes their position keys; repeat until
   * `complete`, then call syncCommitteeIndex for each participant listed in `outOfStep`.
   * Result: `{zone, count, written, backfilledTo, complete, outOfStep}`.
   */
  @Transaction()
  @Returns('string')
  async backfillCommitteeIndex(ctx: GridLedgerContext, zone: string, pageSize: string): Promise<string> {
    requireRegulator(ctx, 'participants:backfillCommitteeIndex');
    const now = await ctx.time();
    return canonicalJson(await registry.backfillCommitteeIndex(ctx, String(zone ?? ''), intArg(pageSize, 'pageSize', 1, 500), now));
  }

  /** Any caller: a participant's Q-score history, oldest first, paginated (`bookmark` "" for the first page). */
  @Transaction(false)
  @Returns('string')
  async getQScoreHistory(ctx: GridLedgerContext, participantId: string, pageSize: string, bookmark: string): Promise<string> {
    getCaller(ctx);
    const p = await mustReadParticipant(ctx, participantId);
    const page = await pageByPartialKey<QScoreHistoryEntry>(ctx, KEY.qscoreHistory, [participantId], pageSizeArg(pageSize), bookmark ?? '');
    const entries = page.items.map((i) => i.value);
    // The last page also lists the raises not folded yet, as the fold will record them (same order,
    // sequence numbers and bounded scores; services/reputation.ts foldScoreCredits).
    if (page.bookmark === '') entries.push(...pendingHistory(p, await pendingScoreCredits(ctx, participantId), await ctx.parameters()));
    return canonicalJson({ participantId, entries, bookmark: page.bookmark });
  }

  /**
   * Any caller: participants by Q-score, highest first, paginated. Shows pseudonyms and scores only
   * (no MSP, zone or meter), so it does not reveal identities.
   */
  @Transaction(false)
  @Returns('string')
  async leaderboard(ctx: GridLedgerContext, pageSize: string, bookmark: string): Promise<string> {
    getCaller(ctx);
    const page = await pageByPartialKey<{ participantId: string; qScore: number }>(ctx, KEY.qscoreRank, [], pageSizeArg(pageSize), bookmark ?? '');
    return canonicalJson({ entries: page.items.map(({ value: e }) => ({ participantId: e.participantId, qScore: e.qScore })), bookmark: page.bookmark });
  }
}
