/**
 * Committee task ids (docs/governance.md §6). The chaincode derives a task's id from what it is
 * about — never from the tx id or the time, so parties cannot grind it — and the gateway's agents
 * derive the same id to map a trade's events to its validation task.
 */
import { createHash } from 'crypto';

/** `t-` + the first 32 hex digits of SHA-256(`gridledger/task/v1|<kind>|<subjectId>`). */
export function taskIdFor(kind: string, subjectId: string): string {
  return 't-' + createHash('sha256').update(`gridledger/task/v1|${kind}|${subjectId}`).digest('hex').slice(0, 32);
}

/** The task kind that validates a trade (its subject is the trade id). */
export const TRADE_TASK_KIND = 'trade';
