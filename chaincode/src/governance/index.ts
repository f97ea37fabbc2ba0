/**
 * The governance context's public surface: the ONLY module of governance that the market (or any
 * other context) may import — eslint.config.mjs enforces it. Everything else under governance/ is
 * internal and may change without touching the market.
 *
 * What the market needs from governance: who may trade (participant records and status rules),
 * the regulator's parameters, the committee task machinery for trade validation (seed 002 Fig. 5),
 * and the reputation effects of a decided ballot or a closed trade.
 */
export type { Participant, ParticipantStatus } from './domain/participant';
export { canTrade, effectiveStatus } from './domain/participant';
export type { StoredParameters } from './domain/parameters';
export type { TradeOutcome } from './domain/qscore';
export { readParticipant } from './ledger/participants';
export { readParameters } from './ledger/parameters';
export type { Ballot, BallotSpec, Decision, EntryBuilder, EntryItem, LeaderVerdict, SubjectReader, Task, Vote, VoteInput } from './services/tasks';
export { cancelTask, castVote, decideBallot, openTask, readTask, recordLeaderBlock, recordLeaderEntry, registerEntryKind, registerSubjectKind } from './services/tasks';
export { admissionEntry, admissionSubject, ADMISSION_KIND } from './services/admissionEntry';
export { applyCommitteeDecision, holdsWithCredits, settleTradeReputation } from './services/reputation';
