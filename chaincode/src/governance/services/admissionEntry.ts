/**
 * The admission kind's leader entry (seed 002 Fig. 4), for `admissions:recordEntry` and the leader's block
 * (`committees:recordEntries`, registered in chaincode/src/index.ts). Only reads: the registry's functions
 * that move committee-index entries stay with the governance contracts.
 */
import { mustReadParticipant } from '../ledger/participants';
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
