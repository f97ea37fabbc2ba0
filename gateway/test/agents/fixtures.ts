import type { BallotState, MemberViewState, PacketView, ParticipantView, TaskView, TradeView, VoteView } from '../../src/agents/duties/types';
import type { BallotStatus } from '@gridledger/protocol';
import { contractHashOf } from '@gridledger/protocol';

/** Ledger times are Unix seconds; the agents' wall clock (`nowMs`, timers) is in ms. */
export const SLOT = 30;
export const GENESIS = 1_767_225_600; // 2026-01-01T00:00Z

/** An admission task with committee A..D, offset 1: slot s is led by committee[(s + 1) mod 4]. */
export function task(over: Partial<TaskView> = {}): TaskView {
  return {
    taskId: 't-1',
    kind: 'admission',
    subjectId: 'p-new#1',
    parties: ['p-new'],
    ballots: [{ name: 'admission', conditions: ['condition1', 'condition2'], requiresEntry: true }],
    status: 'ACTIVE',
    outcome: '',
    round: 0,
    f: 1,
    n: 4,
    genesisAt: GENESIS,
    slotSeconds: 30,
    committee: ['p-A', 'p-B', 'p-C', 'p-D'],
    leaderOffset: 1,
    deadlineAt: GENESIS + 1000 * SLOT,
    ...over,
  };
}

/** A ledger time inside slot `s` (5 s after its start), Unix seconds. */
export const inSlotAt = (s: number) => GENESIS + s * SLOT + 5;
/** The same instant on the agents' wall clock (ms). */
export const inSlot = (s: number) => inSlotAt(s) * 1000;

export function ballot(name: string, opts: { entryBy?: string; slot?: number; votes?: Array<[string, boolean]>; status?: BallotStatus; round?: number; payload?: Record<string, unknown> } = {}): BallotState {
  const round = opts.round ?? 0;
  const votes: VoteView[] = (opts.votes ?? []).map(([voter, approve]) => ({ voter, approve, round, ballot: name }));
  const slot = opts.slot ?? 10;
  return {
    ballot: opts.entryBy
      ? {
          taskId: 't-1',
          name,
          round,
          status: opts.status ?? 'OPEN',
          entry: { leader: opts.entryBy, slot, at: inSlotAt(slot), txId: 'tx-entry', payload: opts.payload ?? { participantId: 'p-new', mspId: 'Utility2MSP', zone: 'zone-c' } },
        }
      : null,
    round,
    votes: opts.entryBy ? [{ voter: opts.entryBy, approve: true, round, ballot: name }, ...votes] : votes,
  };
}

export function trade(over: Partial<TradeView> = {}): TradeView {
  const t: TradeView = {
    tradeId: 'trd-1',
    seller: 'p-S',
    buyer: 'p-B',
    sellerMeterId: 'm-s',
    buyerMeterId: 'm-b',
    amountWh: 200,
    pricePerKwh: 250,
    cost: 50,
    contractHash: '',
    paymentEscrow: 50,
    energyEscrowWh: 200,
    packets: [{ packetId: 'pkt-1', amountWh: 200 }],
    deliveryStart: 1_767_300_000,
    deliveryLength: 300,
    deliveryDeadline: 1_767_300_600,
    state: 'EXECUTION',
    stageDeadline: 1_767_301_000,
    validation: { taskId: 't-1', opened: true },
    ...over,
  };
  if (!over.contractHash) t.contractHash = contractHashOf(t);
  return t;
}

/**
 * `committees:getMemberView` as a test world answers it, composed from the separate reads the world already
 * answers (`committees:getTask`, `committees:getBallot`, `participants:get`, `trades:get`, `energy:get`):
 * chaincode/test/governance/memberView.test.ts proves the chaincode's view equal to those reads.
 */
export async function memberViewFrom(read: (fn: string, args: string[]) => Promise<unknown>, taskId: string, withSubject: boolean): Promise<MemberViewState> {
  const task = (await read('committees:getTask', [taskId])) as TaskView;
  const ballots: MemberViewState['ballots'] = [];
  for (const b of task.ballots) {
    const st = (await read('committees:getBallot', [taskId, b.name])) as BallotState;
    ballots.push({ name: b.name, ...st });
    if (st.ballot?.status !== 'APPROVED' || st.ballot.round !== task.round) break;
  }
  let subject: MemberViewState['subject'] = null;
  if (withSubject && task.kind === 'admission') subject = { participant: (await read('participants:get', [task.subjectId.split('#')[0]!])) as ParticipantView };
  if (withSubject && task.kind === 'trade') {
    const t = (await read('trades:get', [task.subjectId])) as TradeView;
    const packets: PacketView[] = [];
    for (const u of t.packets) {
      const p = (await read('energy:get', [u.packetId]).catch(() => undefined)) as PacketView | undefined;
      if (p) packets.push(p);
    }
    subject = { trade: t, packets };
  }
  return { task, ballots, subject };
}
