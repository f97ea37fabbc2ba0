/**
 * Governance transaction inputs (docs/governance.md): committee votes and join requests. Votes on an
 * admission ballot and on a trade's stages share one shape; which conditions a ballot has is the
 * chaincode's rule (UNKNOWN_CONDITION), not the shape's.
 */
import { MAX_QUANTITY, id, int, object, type JsonSchema } from './fields';

export const VoteInput: JsonSchema = object(
  {
    approve: { type: 'boolean', 'x-subCode': 'BAD_VOTE', description: 'the verdict' },
    conditions: {
      type: 'object',
      maxProperties: 4,
      propertyNames: { type: 'string', maxLength: 10, pattern: '^condition[1-4]$', 'x-subCode': 'UNKNOWN_CONDITION', 'x-hint': 'condition1 … condition4' },
      additionalProperties: { type: 'boolean', 'x-subCode': 'BAD_CONDITION' },
      'x-subCode': 'BAD_CONDITION',
      'x-hint': 'an object of booleans',
      description: "the current ballot's conditions (admission: condition1, condition2; trade execution: condition1, condition2; trade final: condition3, condition4)",
    },
    reason: { type: 'string', maxLength: 280, 'x-subCode': 'BAD_VOTE_REASON', 'x-hint': 'a string of at most 280 characters' },
  },
  ['approve'],
  "a committee member's vote (admissions:vote, trades:vote)",
);

/**
 * Most ballots one leader entry (the paper's block) may carry. A member leads every n-th slot of each
 * task it sits on; this bounds one transaction's reads and writes (about five keys per ballot), not the
 * market: a leader with more ballots waiting enters the rest in its next slot, or the next leader does.
 */
export const MAX_BLOCK_ENTRIES = 16;

export const EntriesInput: JsonSchema = object(
  {
    taskIds: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_BLOCK_ENTRIES,
      uniqueItems: true,
      items: { ...id('a task the caller leads in the current slot (committees:getTask)'), 'x-subCode': 'BAD_ENTRIES' },
      'x-subCode': 'BAD_ENTRIES',
      'x-hint': `an array of 1 to ${MAX_BLOCK_ENTRIES} distinct task ids`,
    },
  },
  ['taskIds'],
  "the tasks whose open ballots a slot leader enters in one block (committees:recordEntries)",
);

export const JoinInput: JsonSchema = object(
  { stake: { ...int(0, MAX_QUANTITY, 'Q-score stake, fixed point (10^6 = 1 point), at most the qScoreInitial parameter'), 'x-subCode': 'BAD_STAKE' } },
  [],
  'a join request (participants:requestJoin)',
);

const Q = 1_000_000; // Q-score fixed point: 10^6 = 1 point (chaincode/src/governance/domain/qscore.ts)
const qScore = (description?: string): JsonSchema => int(-1_000_000 * Q, 1_000_000 * Q, description);

/** A partial update of the governance parameters (docs/governance.md); the chaincode then checks the invariants between them. */
export const GovernanceParametersInput: JsonSchema = {
  ...object(
    {
      f: int(1, 10, 'tolerated faulty committee members; committees have 3f+1 seats'),
      slotSeconds: int(10, 86_400, 'leader slot length'),
      genesisAt: int(0, 8_640_000_000, 't_0 of Eq. (1): the start of slot 0, Unix seconds'),
      clockToleranceSeconds: int(5, 600, 'clock-guard tolerance'),
      minQScore: qScore('lowest Q-score for committee service'),
      minTradingQScore: qScore('lowest Q-score for trading'),
      minStake: int(0, 1_000_000 * Q, 'lowest stake for committee service'),
      penaltyThreshold: int(0, 1000, 'penalties before an automatic ban'),
      banSeconds: int(60, 10 * 365 * 86_400, 'length of an automatic ban'),
      qScoreMin: qScore(),
      qScoreMax: qScore(),
      qScoreInitial: qScore(),
      qStep: int(1, 1_000_000 * Q, 'Q-score change per outcome'),
      taskDeadlineSeconds: int(60, 30 * 86_400, 'a committee round\'s deadline'),
      beaconQuorum: int(1, 64, 'utility signatures a committee draw needs'),
    },
    [],
    'a partial update of the governance parameters (governance:setParameters); the chaincode also checks the invariants between them and names the one to fix',
  ),
  minProperties: 1,
  maxProperties: 15,
  'x-subCode': 'EMPTY_UPDATE',
};
