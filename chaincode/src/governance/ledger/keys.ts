/** Governance composite-key object types in one place, so two modules cannot reuse one by accident. */
export const KEY = {
  parameters: 'gl.parameters',
  participant: 'gl.participant',
  enrolment: 'gl.enrolment',
  eligibleSlot: 'gl.elig.slot', // (zone, position) -> participantId : dense per-zone index
  eligibleZone: 'gl.elig.zone', // (zone) -> { count } : one small counter per zone
  eligiblePosition: 'gl.elig.pos', // (participantId) -> { zone, position } : where it sits in the dense index
  qscoreRank: 'gl.qrank', // (invertedScore, participantId) -> '' : leaderboard order
  qscoreHistory: 'gl.qhist', // (participantId, seq) -> entry
  qscoreCredit: 'gl.qcredit', // (participantId, localId) -> a raise not yet folded into the record
  beaconKey: 'gl.beacon.key', // (mspId) -> BLS public key of a utility
  task: 'gl.task', // (taskId) -> committee task
  ballot: 'gl.ballot', // (taskId, ballot) -> ballot tally
  vote: 'gl.vote', // (taskId, round, ballot, participantId) -> vote
  leaderEntry: 'gl.entry', // (leaderId, slot) -> entry (Condition 2: one entry per leader per slot)
} as const;
