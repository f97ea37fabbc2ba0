import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import { checkPublicKeyHex } from '../domain/entropy';
import { EVENTS } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { getCaller, requireMeter, requireOperator, requireRegulator } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import { readParameters } from '../ledger/parameters';
import { deleteBeaconKey, mustReadTask, readBallot, readBeaconKey, readBeaconKeys, readVotes, writeBeaconKey } from '../ledger/tasks';
import { contributeEntropy, entryItemFor, leaderAt, memberViewOf, nextLeaderSlots, recordLeaderBlock, redrawTask, retryDraw, type EntryItem } from '../services/tasks';
import { fail } from '../../kernel/errors';
import { flagArg, idArg, inputOf, intArg, jsonObjectArg } from '../../kernel/args';
import { GridLedgerContext } from '../../kernel/context';

@Info({ title: 'committees', description: 'Utility beacon, committee draws, leader slots, task queries' })
export class CommitteesContract extends GridLedgerContract {
  constructor() {
    super('committees');
  }

  /**
   * Operator: registers its utility's BLS12-381 public key (48-byte compressed G1, hex). Once per
   * utility: a key that could be swapped at will would let a utility re-roll its contributions.
   */
  @Transaction()
  @Returns('string')
  async registerBeaconKey(ctx: GridLedgerContext, publicKeyHex: string): Promise<string> {
    const op = requireOperator(ctx, 'committees:registerBeaconKey');
    checkPublicKeyHex(publicKeyHex);
    const now = await ctx.time();
    const existing = await readBeaconKey(ctx, op.mspId);
    if (existing) {
      if (existing.publicKeyHex === publicKeyHex) return canonicalJson(existing);
      fail('CONFLICT', 'BEACON_KEY_EXISTS', `${op.mspId} already has a beacon key; the regulator must revoke it first (committees:revokeBeaconKey)`, { mspId: op.mspId });
    }
    const key = { mspId: op.mspId, publicKeyHex, registeredAt: now };
    await writeBeaconKey(ctx, key);
    emit(ctx, EVENTS.beaconKeyRegistered, { mspId: op.mspId });
    return canonicalJson(key);
  }

  /** Regulator: removes a utility's beacon key (compromise, utility leaving). Running tasks keep their snapshot. */
  @Transaction()
  @Returns('string')
  async revokeBeaconKey(ctx: GridLedgerContext, mspId: string): Promise<string> {
    requireRegulator(ctx, 'committees:revokeBeaconKey');
    await ctx.time();
    if (!(await readBeaconKey(ctx, mspId))) fail('NOT_FOUND', 'BEACON_KEY_NOT_FOUND', `${mspId} has no beacon key`);
    await deleteBeaconKey(ctx, mspId);
    return canonicalJson({ mspId, revoked: true });
  }

  @Transaction(false)
  @Returns('string')
  async getBeaconKeys(ctx: GridLedgerContext): Promise<string> {
    getCaller(ctx);
    return canonicalJson(await readBeaconKeys(ctx));
  }

  /**
   * Operator: its utility's contribution to a task round = BLS signature (96-byte G2, hex) of the
   * beacon message announced in the TaskOpened event. The quorum-th contribution draws the committee.
   */
  @Transaction()
  @Returns('string')
  async contributeEntropy(ctx: GridLedgerContext, taskId: string, round: string, signatureHex: string): Promise<string> {
    const op = requireOperator(ctx, 'committees:contributeEntropy');
    const params = await readParameters(ctx);
    const now = await ctx.time(params);
    return canonicalJson(await contributeEntropy(ctx, taskId, intArg(round, 'round', 0, 1_000_000), signatureHex, op.mspId, now, params));
  }

  /** Any caller: retries the draw of a seeded task that found too few eligible members. */
  @Transaction()
  @Returns('string')
  async draw(ctx: GridLedgerContext, taskId: string): Promise<string> {
    getCaller(ctx);
    const params = await readParameters(ctx);
    const now = await ctx.time(params);
    return canonicalJson(await retryDraw(ctx, taskId, now, params));
  }

  /** Any caller, after the round's deadline without decision: new round, fresh beacon, new committee. */
  @Transaction()
  @Returns('string')
  async redraw(ctx: GridLedgerContext, taskId: string): Promise<string> {
    getCaller(ctx);
    const now = await ctx.time();
    return canonicalJson(await redrawTask(ctx, taskId, now));
  }

  /**
   * The slot leader's ONE entry for this slot — seed 002's block — carrying the open ballot of every listed
   * task (`entriesJson` = {"taskIds": [...]}, 1 to 16 distinct ids): an admission records the join request as
   * enrolled, a trade stage its facts with the leader's verdict on them, each ballot with its own verdict.
   * Condition 1 per task (the caller leads this slot in each), Condition 2 once (no other block by the caller
   * in this slot). `admissions:recordEntry` and `trades:recordEntry` are blocks of one.
   */
  @Transaction()
  @Returns('string')
  async recordEntries(ctx: GridLedgerContext, entriesJson: string): Promise<string> {
    const leader = requireMeter(ctx, 'committees:recordEntries');
    const { taskIds } = inputOf<{ taskIds: string[] }>('EntriesInput', jsonObjectArg(entriesJson, 'entriesJson'), 'entriesJson');
    const now = await ctx.time();
    const items: EntryItem[] = [];
    for (const taskId of taskIds) items.push(await entryItemFor(ctx, await mustReadTask(ctx, taskId), now));
    return canonicalJson(await recordLeaderBlock(ctx, leader.participantId, items, now));
  }

  @Transaction(false)
  @Returns('string')
  async getTask(ctx: GridLedgerContext, taskId: string): Promise<string> {
    getCaller(ctx);
    return canonicalJson(await mustReadTask(ctx, taskId));
  }

  @Transaction(false)
  @Returns('string')
  async getBallot(ctx: GridLedgerContext, taskId: string, ballot: string): Promise<string> {
    getCaller(ctx);
    const task = await mustReadTask(ctx, taskId);
    const b = await readBallot(ctx, taskId, ballot);
    const votes = await readVotes(ctx, taskId, task.round, ballot);
    return canonicalJson({ ballot: b ?? null, round: task.round, votes });
  }

  /**
   * Any caller: what a committee member's agent decides on, in ONE read instead of `getTask`, `getBallot`
   * per ballot and the subject's reads (docs/agents.md §2): the task; its ballots in order, each as
   * `getBallot` answers it plus its name, up to the first not approved in the current round; and, when
   * `withSubject` is "true", the task's subject as the caller may see it — admission `{participant}` (as
   * `participants:get`), trade `{trade, packets}` (as `trades:get`, and `energy:get` for each of the trade's
   * packets). It shows no caller more than those reads do; they stay for the REST API and other clients.
   */
  @Transaction(false)
  @Returns('string')
  async getMemberView(ctx: GridLedgerContext, taskId: string, withSubject: string): Promise<string> {
    const caller = getCaller(ctx);
    const subject = flagArg(withSubject, 'withSubject');
    const task = await mustReadTask(ctx, idArg(taskId, 'taskId'));
    return canonicalJson(await memberViewOf(ctx, task, caller, subject));
  }

  /**
   * Any caller: the next `count` (1–100, "" = 1) slots in which committee member `memberId` leads
   * the task's current round, from the slot of the guarded time on — computed from the task, no scan.
   * Result: `{taskId, round, memberId, slots: [{slot, startAt, endAt}], at}`.
   */
  @Transaction(false)
  @Returns('string')
  async nextLeaderSlots(ctx: GridLedgerContext, taskId: string, memberId: string, count: string): Promise<string> {
    getCaller(ctx);
    const n = count === undefined || count === '' ? 1 : intArg(count, 'count', 1, 100);
    const now = await ctx.time();
    const task = await mustReadTask(ctx, taskId);
    return canonicalJson({ taskId, round: task.round, memberId, slots: nextLeaderSlots(task, memberId, now, n), at: now });
  }

  /** Any caller: the committee member leading the current slot (guarded time) and the slot number. */
  @Transaction(false)
  @Returns('string')
  async leaderOf(ctx: GridLedgerContext, taskId: string): Promise<string> {
    getCaller(ctx);
    const now = await ctx.time();
    const task = await mustReadTask(ctx, taskId);
    return canonicalJson({ taskId, round: task.round, ...leaderAt(task, now), at: now });
  }
}
