/**
 * The one community fixture for governance AND market scenario tests:
 * - utilities with deterministic BLS beacon keys (`beaconSecret`), their registration and the
 *   beacon round of a task (`runBeacon`, `drawCommittee`);
 * - communities of any size written straight into the state (`seedMembers`) or admitted through a
 *   test-only bootstrap contract (`communityLedger`, for market tests that do not exercise the
 *   admission flow — covered by the governance tests);
 * - the committee's slot leader (`whenLeads`) and a whole validation stage (`runStage`).
 */
import { createHash } from 'crypto';
import { SecretKey } from '@chainsafe/blst';
import { Transaction } from 'fabric-contract-api';
import { contracts } from '../../src';
import { beaconMessage } from '@gridledger/protocol';
import type { Participant } from '../../src/governance/domain/participant';
import { DEFAULT_PARAMETERS } from '../../src/governance/domain/parameters';
import { addToIndex } from '../../src/governance/ledger/eligibilityIndex';
import { writeParticipant } from '../../src/governance/ledger/participants';
import type { Task } from '../../src/governance/ledger/tasks';
import { admit } from '../../src/governance/services/registry';
import { leaderAt } from '../../src/governance/services/tasks';
import { participantIdFor, requireMeter } from '../../src/kernel/caller';
import { GridLedgerContext } from '../../src/kernel/context';
import { GridLedgerContract } from '../../src/kernel/contract';
import { FakeClientIdentity, IdentitySpec, identities } from './fakeIdentity';
import { FakeStub } from './fakeStub';
import { TestLedger } from './ledger';
import { T0, U1, U2, U3, pid, who } from './marketLedger';
import { nth } from './lists';

export const UTILITIES = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
export const regulator = identities.regulator();

/** Deterministic BLS secret key per utility (first byte 0x01 keeps it below the group order). */
export function beaconSecret(mspId: string): Uint8Array {
  const sk = createHash('sha256').update(`test beacon key ${mspId}`).digest();
  sk[0] = 0x01;
  return new Uint8Array(sk);
}

/** The utility's key as its gateway holds it (gateway/src/events/beacon.ts: blst, `BEACON_DST`). */
export function beaconPublicKeyHex(mspId: string): string {
  return Buffer.from(SecretKey.fromBytes(beaconSecret(mspId)).toPublicKey().toBytes()).toString('hex');
}

export function beaconSignatureHex(mspId: string, taskId: string, round: number, channel = 'gridledger'): string {
  return Buffer.from(SecretKey.fromBytes(beaconSecret(mspId)).sign(Buffer.from(beaconMessage(channel, taskId, round), 'utf8')).toBytes()).toString('hex');
}

export async function registerUtilities(ledger: TestLedger, msps = UTILITIES): Promise<void> {
  for (const msp of msps) await ledger.submit(identities.operator(msp), 'committees:registerBeaconKey', [beaconPublicKeyHex(msp)]);
}

export interface Member {
  identity: IdentitySpec;
  participantId: string;
}

export function memberIdentity(mspId: string, meterId: string, zone: string): Member {
  const identity = identities.meter(mspId, meterId, zone);
  return { identity, participantId: participantIdFor(mspId, new FakeClientIdentity(identity).getID()) };
}

/**
 * Writes `count` admitted, staked members straight into the world state (as if admitted earlier),
 * spread round-robin over `zones` and (unless `mspOf` says otherwise) utilities. Used to build
 * communities of any size quickly.
 */
export async function seedMembers(
  ledger: TestLedger,
  count: number,
  zones: string[],
  prefix = 'seed',
  mspOf: (i: number) => string = (i) => nth(UTILITIES, i % UTILITIES.length),
): Promise<Member[]> {
  const members: Member[] = [];
  const stub = new FakeStub(ledger.world, { txId: `seed-${prefix}`, timestamp: ledger.now, creatorMspId: 'Org1MSP' });
  const ctx = new GridLedgerContext();
  (ctx as { stub: unknown }).stub = stub;
  for (let i = 0; i < count; i++) {
    const zone = nth(zones, i % zones.length);
    const msp = mspOf(i);
    const m = memberIdentity(msp, `${prefix}-${i}`, zone);
    const p: Participant = {
      participantId: m.participantId,
      mspId: msp,
      meterId: `${prefix}-${i}`,
      zone,
      status: 'ACTIVE',
      bannedUntil: 0,
      qScore: DEFAULT_PARAMETERS.qScoreInitial,
      stake: DEFAULT_PARAMETERS.minStake * 2,
      penaltyCount: 0,
      attempts: 1,
      admissionTaskId: 'SEEDED',
      joinedAt: ledger.now,
      admittedAt: ledger.now,
      qHistoryCount: 0,
    };
    await writeParticipant(ctx, p, undefined);
    await addToIndex(ctx, p.participantId, zone);
    stub.commitTo(ledger.world);
    stub.writes.clear();
    members.push(m);
  }
  return members;
}

/** Enrols and asks to join; returns the joiner and its admission task id. */
export async function join(ledger: TestLedger, mspId: string, meterId: string, zone: string, stake?: number): Promise<Member & { taskId: string }> {
  const m = memberIdentity(mspId, meterId, zone);
  await ledger.submit(identities.operator(mspId), 'participants:enrolMeter', [meterId, zone]);
  const r = await ledger.submit<{ admissionTaskId: string }>(m.identity, 'participants:requestJoin', [stake === undefined ? '{}' : JSON.stringify({ stake })]);
  return { ...m, taskId: r.result.admissionTaskId };
}

export async function getTask(ledger: TestLedger, taskId: string): Promise<Task> {
  return ledger.evaluate<Task>(regulator, 'committees:getTask', [taskId]);
}

/** The first `quorum` utilities contribute their beacon signatures for the task's current round. */
export async function runBeacon(ledger: TestLedger, taskId: string, msps = UTILITIES.slice(0, 2)): Promise<Task> {
  const task = await getTask(ledger, taskId);
  let last: Task = task;
  for (const msp of msps) {
    const r = await ledger.submit<Task>(identities.operator(msp), 'committees:contributeEntropy', [taskId, String(task.round), beaconSignatureHex(msp, taskId, task.round)]);
    last = r.result;
  }
  return last;
}

/** The earliest time ≥ from (at a slot start) when `pid` leads the task. */
export function whenLeads(task: Task, pid: string, from: number): number {
  const slot = task.slotSeconds;
  let t = task.genesisAt + Math.ceil((from - task.genesisAt) / slot) * slot;
  for (let i = 0; i < task.n * 2; i++, t += slot) if (leaderAt(task, t).leader === pid) return t;
  throw new Error(`${pid} never leads task ${task.taskId}`);
}

export function byId(members: Member[], pid: string): Member {
  const m = members.find((x) => x.participantId === pid);
  if (!m) throw new Error(`no member ${pid}`);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Market communities: admitted through a test-only contract, validated by a drawn committee

export class CommunityBootstrap extends GridLedgerContract {
  constructor() {
    super('bootstrap');
  }

  @Transaction()
  async join(ctx: GridLedgerContext, stake: string): Promise<string> {
    const m = requireMeter(ctx, 'bootstrap:join');
    const params = await ctx.parameters();
    const now = await ctx.time(params);
    const p: Participant = {
      participantId: m.participantId, mspId: m.mspId, meterId: m.meterId, zone: m.zone, status: 'PENDING', bannedUntil: 0,
      qScore: 0, stake: Number(stake), penaltyCount: 0, attempts: 1, admissionTaskId: '', joinedAt: now, admittedAt: 0, qHistoryCount: 0,
    };
    await admit(ctx, p, now, params, 'test bootstrap');
    return JSON.stringify(m.participantId);
  }
}

/** Validators: eight meters over three zones and utilities, never party to the test trades. */
export const validators: IdentitySpec[] = Array.from({ length: 8 }, (_, i) =>
  identities.meter(nth([U1, U2, U3], i % 3), `meter-v${i}`, nth(['zone-a', 'zone-b', 'zone-c'], i % 3)),
);

export const byPid = new Map<string, IdentitySpec>();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const ALL_CONTRACTS: any[] = [...contracts, CommunityBootstrap];

/** Ledger with the community admitted and beacon keys registered. */
export async function communityLedger(traders: IdentitySpec[] = [who.seller, who.seller2, who.buyer, who.buyer2]): Promise<TestLedger> {
  const ledger = new TestLedger(ALL_CONTRACTS as never);
  ledger.now = T0 + 86_400;
  for (const spec of [...traders, ...validators]) {
    await ledger.submit(spec, 'bootstrap:join', ['2000000']);
    byPid.set(pid(spec), spec);
  }
  for (const [msp, op] of [[U1, who.op1], [U2, who.op2]] as const) {
    await ledger.submit(op, 'committees:registerBeaconKey', [beaconPublicKeyHex(msp)]);
  }
  return ledger;
}

/** The task as committed (market tests read it without an identity). */
export async function readTaskOf(ledger: TestLedger, taskId: string): Promise<Task> {
  const bytes = ledger.world.state.get(`\u0000gl.task\u0000${taskId}\u0000`);
  if (!bytes) throw new Error(`no task ${taskId}`);
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as Task;
}

/** Both utilities contribute their BLS signature for the task's current round; the committee is drawn. */
export async function drawCommittee(ledger: TestLedger, taskId: string): Promise<Task> {
  const task = await readTaskOf(ledger, taskId);
  for (const [msp, op] of [[U1, who.op1], [U2, who.op2]] as const) {
    await ledger.submit(op, 'committees:contributeEntropy', [taskId, String(task.round), beaconSignatureHex(msp, taskId, task.round)]);
  }
  const drawn = await readTaskOf(ledger, taskId);
  expect(drawn.status).toBe('ACTIVE');
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
  const { leader } = leaderAt(task, ledger.now);
  await ledger.submit(byPid.get(leader) as IdentitySpec, 'trades:recordEntry', [tradeId]);
  const others = task.committee.filter((m) => m !== leader);
  for (const [i, v] of votes.entries()) {
    if (!v) continue;
    await ledger.submit(byPid.get(nth(others, i)) as IdentitySpec, 'trades:vote', [tradeId, JSON.stringify(v)]);
  }
  if (!decide) return undefined;
  return (await ledger.submit(who.regulator, 'trades:decide', [tradeId])).result;
}

export async function participantOf(ledger: TestLedger, spec: IdentitySpec | string): Promise<Participant> {
  return ledger.evaluate<Participant>(who.regulator, 'participants:get', [typeof spec === 'string' ? spec : pid(spec)]);
}
