/**
 * Governance parameters set by the regulator (spec §1, §3; issue 8 item 3), their defaults and
 * validation. Pure: no ledger access here.
 */
import { Q_SCALE } from './fixedPoint';
import { fail } from '../../kernel/errors';
import { inputOf } from '../../kernel/args';

export interface GovernanceParameters {
  /** Committee fault bound; committee size n = 3f + 1, decisions at 2f + 1, blocked at f + 1. */
  f: number;
  /** α of Eq. (1): leader slot length in seconds. */
  slotSeconds: number;
  /** t_0 of Eq. (1): market genesis, Unix seconds. */
  genesisAt: number;
  /** Clock guard bound: a tx timestamp further than this from the endorser's clock is refused. */
  clockToleranceSeconds: number;
  /** Committee eligibility: minimum Q-score (fixed point, Q_SCALE = 10^6). */
  minQScore: number;
  /** Trading eligibility: minimum Q-score to make or accept trades (fixed point). */
  minTradingQScore: number;
  /** Committee eligibility: minimum Q-score pledged as stake (fixed point). */
  minStake: number;
  /** k: a participant whose penalty count exceeds k is banned. */
  penaltyThreshold: number;
  /** Ban length in seconds. */
  banSeconds: number;
  /** Q-score bounds and the score of a newly admitted participant (fixed point). */
  qScoreMin: number;
  qScoreMax: number;
  qScoreInitial: number;
  /** Δ of the per-party update rule (docs/governance.md §Q-score), fixed point. */
  qStep: number;
  /** Time a committee has to decide a task before it may be re-drawn, in seconds. */
  taskDeadlineSeconds: number;
  /** Utilities (beacon keys) whose contributions seed a committee draw. */
  beaconQuorum: number;
}

export interface StoredParameters extends GovernanceParameters {
  /** Version: 0 for the built-in defaults, +1 per regulator change. */
  version: number;
  updatedAt: number;
  updatedBy: string;
}

export const DEFAULT_PARAMETERS: GovernanceParameters = {
  f: 1,
  slotSeconds: 300,
  genesisAt: 1_767_225_600, // 2026-01-01T00:00:00Z
  clockToleranceSeconds: 60,
  minQScore: 5 * Q_SCALE,
  minTradingQScore: 2 * Q_SCALE,
  minStake: 1 * Q_SCALE,
  penaltyThreshold: 3,
  banSeconds: 7 * 24 * 3600,
  qScoreMin: 0,
  qScoreMax: 100 * Q_SCALE,
  qScoreInitial: 10 * Q_SCALE,
  qStep: 1 * Q_SCALE,
  taskDeadlineSeconds: 3600,
  beaconQuorum: 2,
};

export function committeeSize(f: number): number {
  return 3 * f + 1;
}

/**
 * Merges a regulator's partial update into the current parameters and validates the result.
 * Every message names the field and says what would be accepted.
 */
export function mergeParameters(current: GovernanceParameters, update: Record<string, unknown>): GovernanceParameters {
  const next: GovernanceParameters = { ...current };
  // each field's type and range: the one schema (GovernanceParametersInput, packages/protocol)
  for (const [name, value] of Object.entries(inputOf<Partial<GovernanceParameters>>('GovernanceParametersInput', update, 'paramsJson'))) {
    next[name as keyof GovernanceParameters] = value;
  }
  checkInvariants(next);
  return next;
}

export function checkInvariants(p: GovernanceParameters): void {
  if (p.qScoreMin >= p.qScoreMax) fail('INVALID_ARGUMENT', 'INCONSISTENT_PARAMETERS', `qScoreMin (${p.qScoreMin}) must be below qScoreMax (${p.qScoreMax})`);
  for (const name of ['qScoreInitial', 'minQScore', 'minTradingQScore'] as const) {
    if (p[name] < p.qScoreMin || p[name] > p.qScoreMax) {
      fail('INVALID_ARGUMENT', 'INCONSISTENT_PARAMETERS', `${name} (${p[name]}) must lie within [qScoreMin, qScoreMax] = [${p.qScoreMin}, ${p.qScoreMax}]`);
    }
  }
  if (p.minStake > p.qScoreMax) fail('INVALID_ARGUMENT', 'INCONSISTENT_PARAMETERS', `minStake (${p.minStake}) cannot exceed qScoreMax (${p.qScoreMax}): stake is pledged Q-score`);
  // With the clock guard a submitter may place its timestamp anywhere in ±tolerance; slots at least
  // twice that wide leave it a choice of at most two adjacent slots (docs/governance.md, threat model).
  if (p.slotSeconds < 2 * p.clockToleranceSeconds) {
    fail('INVALID_ARGUMENT', 'INCONSISTENT_PARAMETERS', 
      `slotSeconds (${p.slotSeconds}) must be at least 2 × clockToleranceSeconds (${p.clockToleranceSeconds}) so the clock guard bounds the choice of leader slot`,
    );
  }
  // Every committee member gets at least one leader slot before the deadline (view change within the task).
  const n = committeeSize(p.f);
  if (p.taskDeadlineSeconds < p.slotSeconds * n) {
    fail('INVALID_ARGUMENT', 'INCONSISTENT_PARAMETERS', 
      `taskDeadlineSeconds (${p.taskDeadlineSeconds}) must be at least slotSeconds × (3f+1) = ${p.slotSeconds * n} so every member can lead once`,
    );
  }
}
