/**
 * Committee tasks, ballots, votes, leader entries and utility beacon keys on the ledger.
 * - `gl.task~<taskId>`: the task (committee, beacon contributions of the current round);
 * - `gl.ballot~<taskId>~<ballot>`: leader entry + decision of one ballot;
 * - `gl.vote~<taskId>~<round>~<ballot>~<pid>`: ONE key per vote, so members voting at the same
 *   time never collide (MVCC); a decision reads at most n of them;
 * - `gl.entry~<leaderPid>~<slot>`: Condition 2 — at most one entry (block) per leader per slot, across
 *   tasks; it lists the block's ballots;
 * - `gl.beacon.key~<mspId>`: a utility's BLS public key (bounded by the number of utilities).
 */
import { KEY } from './keys';
import { GridLedgerContext } from '../../kernel/context';
import { padUint } from '../../kernel/keys';

export interface BallotSpec {
  name: string;
  /** Names of the conditions a vote attests (e.g. condition1, condition2). */
  conditions: string[];
  /** Whether the slot's leader must record an entry before members can vote (Fig. 4 / Fig. 5). */
  requiresEntry: boolean;
}

export interface StoredContribution {
  mspId: string;
  signatureHex: string;
  at: number;
}

import type { TaskStatus } from '@gridledger/protocol';
export type { TaskStatus };

export interface Task {
  taskId: string;
  kind: string;
  subjectId: string;
  /** Parties of the task, never drawn into its committee. */
  parties: string[];
  ballots: BallotSpec[];
  status: TaskStatus;
  /** Outcome once closed: approved | rejected | cancelled. */
  outcome: string;
  round: number;
  /** Parameters snapshotted at opening, so a parameter change never alters a running task. */
  f: number;
  n: number;
  genesisAt: number;
  slotSeconds: number;
  deadlineSeconds: number;
  beaconQuorum: number;
  /** mspId → BLS public key, snapshotted at opening (a later key change cannot re-roll this task). */
  beaconKeys: Record<string, string>;
  /** Contributions of the current round, in arrival order. */
  contributions: StoredContribution[];
  seedHex: string;
  committee: string[];
  committeeZones: string[];
  leaderOffset: number;
  drawError: string;
  openedAt: number;
  roundOpenedAt: number;
  drawnAt: number;
  deadlineAt: number;
  closedAt: number;
}

export interface LeaderEntry {
  leader: string;
  slot: string;
  at: number;
  txId: string;
  /** SHA-256 of the canonical payload the leader recorded. */
  payloadHash: string;
  payload: unknown;
  /** The block this entry belongs to: every ballot the leader entered in this slot, with this transaction (absent on entries made before blocks). */
  block?: EntryRef[];
}

/** A ballot of a block. */
export interface EntryRef {
  taskId: string;
  ballot: string;
}

/** Condition 2's record: the leader's one block in a slot (`taskId`/`ballot` = its first ballot). */
export interface SlotEntry {
  taskId: string;
  ballot: string;
  txId: string;
  block?: EntryRef[];
}

import type { BallotStatus } from '@gridledger/protocol';
export type { BallotStatus };

export interface Ballot {
  taskId: string;
  name: string;
  round: number;
  status: BallotStatus;
  entry?: LeaderEntry;
  approvals: number;
  refusals: number;
  honest: string[];
  contrary: string[];
  decidedAt: number;
}

export interface Vote {
  taskId: string;
  round: number;
  ballot: string;
  voter: string;
  approve: boolean;
  conditions: Record<string, boolean>;
  reason: string;
  at: number;
  txId: string;
}

export const taskKey = (ctx: GridLedgerContext, taskId: string) => ctx.state.key(KEY.task, [taskId]);
const ballotKey = (ctx: GridLedgerContext, taskId: string, ballot: string) => ctx.state.key(KEY.ballot, [taskId, ballot]);
const voteKey = (ctx: GridLedgerContext, taskId: string, round: number, ballot: string, pid: string) =>
  ctx.state.key(KEY.vote, [taskId, padUint(round, 6), ballot, pid]);
const entryKey = (ctx: GridLedgerContext, leader: string, slot: string) => ctx.state.key(KEY.leaderEntry, [leader, slot]);
const beaconKeyKey = (ctx: GridLedgerContext, mspId: string) => ctx.state.key(KEY.beaconKey, [mspId]);

export const readTask = (ctx: GridLedgerContext, taskId: string) => ctx.state.get<Task>(taskKey(ctx, taskId));
export const mustReadTask = (ctx: GridLedgerContext, taskId: string) => ctx.state.mustGet<Task>(taskKey(ctx, taskId), `task ${taskId}`, 'TASK_NOT_FOUND');
export const writeTask = (ctx: GridLedgerContext, t: Task) => ctx.state.put(taskKey(ctx, t.taskId), t);

export const readBallot = (ctx: GridLedgerContext, taskId: string, ballot: string) => ctx.state.get<Ballot>(ballotKey(ctx, taskId, ballot));
export const writeBallot = (ctx: GridLedgerContext, b: Ballot) => ctx.state.put(ballotKey(ctx, b.taskId, b.name), b);

export const readVote = (ctx: GridLedgerContext, taskId: string, round: number, ballot: string, pid: string) =>
  ctx.state.get<Vote>(voteKey(ctx, taskId, round, ballot, pid));
export const writeVote = (ctx: GridLedgerContext, v: Vote) => ctx.state.put(voteKey(ctx, v.taskId, v.round, v.ballot, v.voter), v);

export async function readVotes(ctx: GridLedgerContext, taskId: string, round: number, ballot: string): Promise<Vote[]> {
  const rows = await ctx.state.list<Vote>(KEY.vote, [taskId, padUint(round, 6), ballot]);
  return rows.map((r) => r.value);
}

export const readLeaderEntry = (ctx: GridLedgerContext, leader: string, slot: string) => ctx.state.get<SlotEntry>(entryKey(ctx, leader, slot));
export const writeLeaderEntry = (ctx: GridLedgerContext, leader: string, slot: string, v: SlotEntry) =>
  ctx.state.put(entryKey(ctx, leader, slot), v);

export interface BeaconKey {
  mspId: string;
  publicKeyHex: string;
  registeredAt: number;
}

export const readBeaconKey = (ctx: GridLedgerContext, mspId: string) => ctx.state.get<BeaconKey>(beaconKeyKey(ctx, mspId));
export const writeBeaconKey = (ctx: GridLedgerContext, k: BeaconKey) => ctx.state.put(beaconKeyKey(ctx, k.mspId), k);
export const deleteBeaconKey = (ctx: GridLedgerContext, mspId: string) => ctx.state.del(beaconKeyKey(ctx, mspId));

export async function readBeaconKeys(ctx: GridLedgerContext): Promise<BeaconKey[]> {
  return (await ctx.state.list<BeaconKey>(KEY.beaconKey, [])).map((r) => r.value);
}
