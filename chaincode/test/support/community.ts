/**
 * Scenario helpers for governance tests: utilities with BLS beacon keys, a seeded community of
 * admitted members, the beacon round for a task, and finding the slot a member leads.
 */
import { createHash } from 'crypto';
import { bls12_381 as bls } from '@noble/curves/bls12-381';
import { GridLedgerContext } from '../../src/kernel/context';
import { beaconMessage } from '../../src/domain/entropy';
import type { Participant } from '../../src/domain/participant';
import { DEFAULT_PARAMETERS } from '../../src/domain/parameters';
import { participantIdFor } from '../../src/identity/caller';
import { addToIndex } from '../../src/ledger/eligibilityIndex';
import { writeParticipant } from '../../src/ledger/participantStore';
import type { Task } from '../../src/ledger/taskStore';
import { leaderAt } from '../../src/committees/tasks';
import { FakeClientIdentity, IdentitySpec, identities } from './fakeIdentity';
import { FakeStub } from './fakeStub';
import { TestLedger } from './ledger';

export const UTILITIES = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
export const regulator = identities.regulator();

/** Deterministic BLS secret key per utility (first byte 0x01 keeps it below the group order). */
export function beaconSecret(mspId: string): Uint8Array {
  const sk = createHash('sha256').update(`test beacon key ${mspId}`).digest();
  sk[0] = 0x01;
  return new Uint8Array(sk);
}

export function beaconPublicKeyHex(mspId: string): string {
  return Buffer.from(bls.getPublicKey(beaconSecret(mspId))).toString('hex');
}

export function beaconSignatureHex(mspId: string, taskId: string, round: number, channel = 'gridledger'): string {
  return Buffer.from(bls.sign(beaconMessage(channel, taskId, round), beaconSecret(mspId))).toString('hex');
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
 * spread round-robin over `zones` and utilities. Used to build communities of any size quickly.
 */
export async function seedMembers(ledger: TestLedger, count: number, zones: string[], prefix = 'seed'): Promise<Member[]> {
  const members: Member[] = [];
  const stub = new FakeStub(ledger.world, { txId: `seed-${prefix}`, timestampMs: ledger.nowMs, creatorMspId: 'Org1MSP' });
  const ctx = new GridLedgerContext();
  (ctx as { stub: unknown }).stub = stub;
  for (let i = 0; i < count; i++) {
    const zone = zones[i % zones.length];
    const msp = UTILITIES[i % UTILITIES.length];
    const m = memberIdentity(msp, `${prefix}-${i}`, zone);
    const p: Participant = {
      participantId: m.participantId,
      mspId: msp,
      meterId: `${prefix}-${i}`,
      zone,
      status: 'active',
      bannedUntilMs: 0,
      qScore: DEFAULT_PARAMETERS.qScoreInitial,
      stake: DEFAULT_PARAMETERS.minStake * 2,
      penaltyCount: 0,
      attempts: 1,
      admissionTaskId: 'seeded',
      joinedAtMs: ledger.nowMs,
      admittedAtMs: ledger.nowMs,
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
export async function join(ledger: TestLedger, mspId: string, meterId: string, zone: string): Promise<Member & { taskId: string }> {
  const m = memberIdentity(mspId, meterId, zone);
  await ledger.submit(identities.operator(mspId), 'participants:enrolMeter', [meterId, zone]);
  const r = await ledger.submit<{ admissionTaskId: string }>(m.identity, 'participants:requestJoin', ['{}']);
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

/** The earliest time ≥ fromMs (at a slot start) when `pid` leads the task. */
export function whenLeads(task: Task, pid: string, fromMs: number): number {
  const slotMs = task.slotSeconds * 1000;
  let t = task.genesisMs + Math.ceil((fromMs - task.genesisMs) / slotMs) * slotMs;
  for (let i = 0; i < task.n * 2; i++, t += slotMs) if (leaderAt(task, t).leader === pid) return t;
  throw new Error(`${pid} never leads task ${task.taskId}`);
}

export function byId(members: Member[], pid: string): Member {
  const m = members.find((x) => x.participantId === pid);
  if (!m) throw new Error(`no member ${pid}`);
  return m;
}
