/**
 * The admission kind's leader entry (seed 002 Fig. 4), for `admissions:recordEntry` and the leader's block
 * (`committees:recordEntries`, registered in chaincode/src/index.ts). Only reads: the registry's functions
 * that move committee-index entries stay with the governance contracts.
 */
import { mustReadParticipant } from '../ledger/participants';
import type { Caller } from '../../kernel/caller';
import { participantSeenBy } from './participantView';
import { fail } from '../../kernel/errors';
import { GridLedgerContext } from '../../kernel/context';
import { ADMISSION_BALLOT, ADMISSION_KIND } from './registry';
import type { EntryItem, Task } from './tasks';

export { ADMISSION_KIND };

/**
 * What the admission task's slot leader records (Fig. 4: the leader accepts a join request only when the
 * identity matches the one the CA issued): the pending participant as its utility enrolled it. The
 * entry approves — Conditions 1–2 are about the entry itself, which the chaincode checks.
 */
export async function admissionEntry(ctx: GridLedgerContext, task: Task): Promise<EntryItem> {
  const participantId = task.subjectId.split('#')[0] ?? task.subjectId; // subject = `${participantId}#${attempt}`
  const p = await mustReadParticipant(ctx, participantId);
  if (p.status !== 'PENDING' || p.admissionTaskId !== task.taskId) {
    fail('CONFLICT', 'NOT_PENDING', `participant ${participantId} is ${p.status}, not pending admission on task ${task.taskId}`);
  }
  return { taskId: task.taskId, ballot: ADMISSION_BALLOT, payload: { participantId: p.participantId, mspId: p.mspId, zone: p.zone } };
}

/**
 * The admission kind's subject for `committees:getMemberView`: the candidate exactly as `participants:get`
 * shows it to the caller (the full record only to itself, its utility's operators and the regulator).
 */
export async function admissionSubject(ctx: GridLedgerContext, task: Task, caller: Caller): Promise<Record<string, unknown>> {
  const participantId = task.subjectId.split('#')[0] ?? task.subjectId; // subject = `${participantId}#${attempt}`
  const params = await ctx.parameters();
  const now = await ctx.time(params);
  return { participant: await participantSeenBy(ctx, caller, participantId, params, now) };
}
