import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import { Q_SCALE_N } from '../domain/fixedPoint';
import { getCaller, requireMeter } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import { mustReadParticipant } from '../ledger/participants';
import { readParameters } from '../ledger/parameters';
import { castVote, decideBallot, recordLeaderBlock, type VoteInput } from '../services/tasks';
import { mustReadTask } from '../ledger/tasks';
import { applyCommitteeDecision } from '../services/reputation';
import { admit, ADMISSION_BALLOT, reject, syncCommitteeIndex } from '../services/registry';
import { admissionEntry } from '../services/admissionEntry';
import { fail } from '../../kernel/errors';
import { inputOf, jsonObjectArg } from '../../kernel/args';
import { GridLedgerContext } from '../../kernel/context';

/**
 * Verification of a new prosumer (seed 002 Fig. 4) on top of the generic committee machinery.
 * The task of a pending participant is `participants:get(...).admissionTaskId`.
 */
@Info({ title: 'admissions', description: 'Committee verification of new prosumers (seed 002 Fig. 4)' })
export class AdmissionsContract extends GridLedgerContract {
  constructor() {
    super('admissions');
  }

  /**
   * The slot leader's entry for the join request (Condition 1 and 2 checked): a block of one. The entry
   * records the identity the utility enrolled, which the leader attests matches the requesting certificate.
   */
  @Transaction()
  @Returns('string')
  async recordEntry(ctx: GridLedgerContext, participantId: string): Promise<string> {
    const leader = requireMeter(ctx, 'admissions:recordEntry');
    const now = await ctx.time();
    const p = await mustReadParticipant(ctx, participantId);
    if (p.status !== 'PENDING') fail('CONFLICT', 'NOT_PENDING', `participant ${participantId} is ${p.status}, not pending admission`);
    const task = await mustReadTask(ctx, p.admissionTaskId);
    // a block of one (committees:recordEntries enters several tasks' ballots at once)
    const block = await recordLeaderBlock(ctx, leader.participantId, [await admissionEntry(ctx, task)], now);
    return canonicalJson(block.ballots[0]);
  }

  /** A verifier's vote: `{"approve": bool, "conditions": {"condition1": bool, "condition2": bool}, "reason"?: string}`. */
  @Transaction()
  @Returns('string')
  async vote(ctx: GridLedgerContext, participantId: string, voteJson: string): Promise<string> {
    const voter = requireMeter(ctx, 'admissions:vote');
    const v = inputOf<VoteInput>('VoteInput', jsonObjectArg(voteJson, 'voteJson'), 'voteJson');
    const now = await ctx.time();
    const p = await mustReadParticipant(ctx, participantId);
    const vote = await castVote(
      ctx,
      p.admissionTaskId,
      ADMISSION_BALLOT,
      voter.participantId,
      v,
      now,
    );
    return canonicalJson(vote);
  }

  /**
   * Any caller: tallies the admission ballot. 2f+1 approvals admit the prosumer, f+1 refusals
   * reject it; members whose vote contradicts the outcome are penalised, and on admission the
   * leader and honest verifiers gain Q-score (x = +1). Verifiers banned by their penalty leave the
   * committee index in this same (governance) transaction.
   */
  @Transaction()
  @Returns('string')
  async decide(ctx: GridLedgerContext, participantId: string): Promise<string> {
    getCaller(ctx);
    const params = await readParameters(ctx);
    const now = await ctx.time(params);
    const p = await mustReadParticipant(ctx, participantId);
    if (p.status !== 'PENDING') fail('CONFLICT', 'NOT_PENDING', `participant ${participantId} is ${p.status}, not pending admission`);
    const decision = await decideBallot(ctx, p.admissionTaskId, ADMISSION_BALLOT, now);
    if (decision.outcome === 'APPROVED') await admit(ctx, p, now, params, 'committee');
    else await reject(ctx, p, `rejected by ${decision.refusals} of ${decision.approvals + decision.refusals} verifiers`);
    const banned = await applyCommitteeDecision(ctx, decision, params, now, decision.outcome === 'APPROVED' ? Q_SCALE_N : 0n);
    for (const b of banned) await syncCommitteeIndex(ctx, b, now);
    return canonicalJson({ participantId, status: p.status, decision });
  }
}
