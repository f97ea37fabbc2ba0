/**
 * A small community for market scenario tests: admitted participants (governance registry
 * functions), two utilities' beacon keys, and helpers that drive a trade's committee through
 * entropy → leader entry → votes → decision. The bootstrap contract below is TEST-ONLY: it calls
 * the governance ledger functions directly so market tests do not depend on the admission flow
 * (covered by the governance tests); everything the market does goes through its real contracts.
 */
import { bls12_381 as bls } from '@noble/curves/bls12-381';
import { Transaction } from 'fabric-contract-api';
import { GridLedgerContext } from '../../src/kernel/context';
import { GridLedgerContract } from '../../src/kernel/contract';
import { leaderAt } from '../../src/committees/tasks';
import { beaconMessage } from '../../src/domain/entropy';
import type { Participant } from '../../src/domain/participant';
import { requireMeter } from '../../src/identity/caller';
import { readParameters } from '../../src/ledger/parametersStore';
import type { Task } from '../../src/ledger/taskStore';
import { admit } from '../../src/participants/registry';
import { contracts } from '../../src';
import { IdentitySpec, identities } from '../support/fakeIdentity';
import { TestLedger } from '../support/ledger';
import { T0, U1, U2, U3, pid, who } from './marketLedger';

export class CommunityBootstrap extends GridLedgerContract {
  constructor() {
    super('bootstrap');
  }

  @Transaction()
  async join(ctx: GridLedgerContext, stake: string): Promise<string> {
    const m = requireMeter(ctx, 'bootstrap:join');
    const params = await readParameters(ctx);
    const now = await ctx.time(params);
    const p: Participant = {
      participantId: m.participantId, mspId: m.mspId, meterId: m.meterId, zone: m.zone, status: 'pending', bannedUntilMs: 0,
      qScore: 0, stake: Number(stake), penaltyCount: 0, attempts: 1, admissionTaskId: '', joinedAtMs: now, admittedAtMs: 0, qHistoryCount: 0,
    };
    await admit(ctx, p, now, params, 'test bootstrap');
    return JSON.stringify(m.participantId);
  }
}

const SECRET: Record<string, string> = { [U1]: '11'.repeat(31) + '01', [U2]: '22'.repeat(31) + '02' };

/** Validators: eight meters over three zones and utilities, never party to the test trades. */
export const validators: IdentitySpec[] = Array.from({ length: 8 }, (_, i) =>
  identities.meter([U1, U2, U3][i % 3], `meter-v${i}`, ['zone-a', 'zone-b', 'zone-c'][i % 3]),
);

export const byPid = new Map<string, IdentitySpec>();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const ALL_CONTRACTS: any[] = [...contracts, CommunityBootstrap];

/** Ledger with the community admitted and beacon keys registered. */
export async function communityLedger(traders: IdentitySpec[] = [who.seller, who.seller2, who.buyer, who.buyer2]): Promise<TestLedger> {
  const ledger = new TestLedger(ALL_CONTRACTS as never);
  ledger.nowMs = T0 + 86_400_000;
  for (const spec of [...traders, ...validators]) {
    await ledger.submit(spec, 'bootstrap:join', ['2000000']);
    byPid.set(pid(spec), spec);
  }
  for (const [msp, op] of [[U1, who.op1], [U2, who.op2]] as const) {
    await ledger.submit(op, 'committees:registerBeaconKey', [Buffer.from(bls.getPublicKey(SECRET[msp])).toString('hex')]);
  }
  return ledger;
}

export async function readTaskOf(ledger: TestLedger, taskId: string): Promise<Task> {
  const bytes = ledger.world.state.get(`\u0000gl.task\u0000${taskId}\u0000`);
  if (!bytes) throw new Error(`no task ${taskId}`);
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as Task;
}

/** Both utilities contribute their BLS signature for the task's current round; the committee is drawn. */
export async function drawCommittee(ledger: TestLedger, taskId: string): Promise<Task> {
  const task = await readTaskOf(ledger, taskId);
  for (const [msp, op] of [[U1, who.op1], [U2, who.op2]] as const) {
    const sig = Buffer.from(bls.sign(beaconMessage('gridledger', taskId, task.round), SECRET[msp])).toString('hex');
    await ledger.submit(op, 'committees:contributeEntropy', [taskId, String(task.round), sig]);
  }
  const drawn = await readTaskOf(ledger, taskId);
  expect(drawn.status).toBe('active');
  return drawn;
}

export interface StageVotes {
  /** Votes of the non-leader members, in committee order (missing = abstain). */
  votes: Array<{ approve: boolean; conditions?: Record<string, boolean> } | undefined>;
}

/**
 * Runs one stage: the current slot leader records the entry, the other members vote as given,
 * anyone decides. Advances the clock by one slot first so a leader never enters twice in a slot.
 */
export async function runStage(ledger: TestLedger, tradeId: string, taskId: string, votes: StageVotes['votes'], decide = true): Promise<unknown> {
  ledger.advance(300);
  const task = await readTaskOf(ledger, taskId);
  const { leader } = leaderAt(task, ledger.nowMs);
  await ledger.submit(byPid.get(leader) as IdentitySpec, 'trades:recordEntry', [tradeId]);
  const others = task.committee.filter((m) => m !== leader);
  for (const [i, v] of votes.entries()) {
    if (!v) continue;
    await ledger.submit(byPid.get(others[i]) as IdentitySpec, 'trades:vote', [tradeId, JSON.stringify(v)]);
  }
  if (!decide) return undefined;
  return (await ledger.submit(who.regulator, 'trades:decide', [tradeId])).result;
}

export async function participantOf(ledger: TestLedger, spec: IdentitySpec | string): Promise<Participant> {
  return ledger.evaluate<Participant>(who.regulator, 'participants:get', [typeof spec === 'string' ? spec : pid(spec)]);
}
