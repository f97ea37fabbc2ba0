import { AgentService, NotHeldError, type AgentsConfig } from '../../src/agents/service';
import { AgentStore } from '../../src/agents/store';
import { SEEDED_RETRY_MS } from '../../src/agents/duties/keeper';
import { DECIDE_TURN_MS } from '../../src/agents/duties/committee';
import { agentHandlers } from '../../src/agents/rest';
import type { HandlerContext } from '../../src/rest/app';
import type { BallotState, TaskView } from '../../src/agents/duties/types';
import { Submitter } from '../../src/fabric/submitter';
import { Metrics } from '../../src/ops/metrics';
import { openDatabase, type Db } from '../../src/store/db';
import { chaincodeError, FakeLedger, identity } from '../helpers/fakeLedger';
import { silentLogger, tmpDir } from '../helpers/tmp';
import { ballot, inSlot, inSlotAt, memberViewFrom, task, trade } from './fixtures';

/** Lets timers, promise callbacks and I/O run until `cond` holds (bounded; asserts no timing). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`never happened: ${what}`);
}

/** the gateway's walletKey, which seals the auction secrets (agents/store.ts) */
const KEY = Buffer.alloc(32, 7);
const MSP = 'Utility1MSP';
const CONFIG: AgentsConfig = {
  enabled: true,
  startBlock: 0,
  reconnectMs: 10,
  retryBaseMs: 1,
  retryMaxMs: 2,
  maxAttempts: 10,
  concurrency: 4,
  keeper: { enabled: true, marginMs: 0, staggerMs: 0 },
  defaults: { behaviour: 'honest', autopilot: false },
  meters: {},
};

/**
 * The ledger as the agents read it: one admission task (committee p-A..p-D; this gateway holds m-a = p-A
 * and m-c = p-C; p-B and p-D belong to other utilities), its ballot, and the candidate.
 */
class World {
  task: TaskView = task();
  ballot: BallotState = ballot('admission', { entryBy: 'p-D', slot: 10 });
  candidate = { participantId: 'p-new', mspId: 'Utility2MSP', zone: 'zone-c', status: 'PENDING', admissionTaskId: 't-1' };
  pids: Record<string, string> = { 'meter:m-a': 'p-A', 'meter:m-c': 'p-C' };
}

describe('AgentService', () => {
  let db: Db;
  let dir: string;
  let ledger: FakeLedger;
  let world: World;
  let now: number;
  let metrics: Metrics;
  const services: AgentService[] = [];

  const held = [
    { meterId: 'm-a', mspId: MSP },
    { meterId: 'm-c', mspId: MSP },
    { meterId: 'm-foreign', mspId: 'Utility2MSP' }, // a record that is not this utility's: never used
  ];
  const meters = {
    activeMeters: () => held,
    activeMeter: (meterId: string) => held.find((m) => m.meterId === meterId),
    actingIdentity: (meterId: string) => ({ ...identity(`meter:${meterId}`), mspId: meterId === 'm-foreign' ? 'Utility2MSP' : MSP }),
  };

  const make = (store = new AgentStore(db, KEY), config: AgentsConfig = CONFIG) => {
    const s = new AgentService({
      ledger,
      submitter: new Submitter(ledger, { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 }),
      store,
      operator: identity('operator'),
      meters,
      logger: silentLogger,
      metrics: (metrics = new Metrics()),
      config,
      now: () => now,
    });
    services.push(s);
    return s;
  };

  const drawn = (round = 0) => [{ name: 'CommitteeDrawn', payload: { taskId: 't-1', kind: 'admission', subjectId: 'p-new#1', round, committee: world.task.committee, deadlineAt: world.task.deadlineAt } }];
  const acts = () => ledger.applied.map((t) => `${t.signer} ${t.fn} ${t.args.join(' ')}`);
  /** A counter's value by label set, from the service's own registry (what /metrics serves). */
  const counter = async (name: string, labels: Record<string, string>): Promise<number> => {
    const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
    const v = (m?.values as Array<{ labels: Record<string, string>; value: number }> | undefined)?.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
    return v?.value ?? 0;
  };


  beforeEach(() => {
    dir = tmpDir();
    db = openDatabase(dir);
    ledger = new FakeLedger();
    world = new World();
    now = inSlot(12); // slot 12 is led by p-B (another utility)
    ledger.evaluateImpl = async (id, fn, args) => {
      // the member view is composed from whatever the test's (possibly wrapped) world answers for the separate reads
      if (fn === 'committees:getMemberView') return Buffer.from(JSON.stringify(await memberViewFrom(async (f, a) => JSON.parse(Buffer.from(await ledger.evaluateImpl(id, f, a)).toString('utf8')), args[0]!, args[1] === 'true')));
      const out = (() => {
        switch (fn) {
          case 'participants:whoAmI':
            return { participantId: world.pids[id.key] };
          case 'committees:getTask':
            return world.task;
          case 'committees:getBallot':
            return world.ballot;
          case 'participants:get':
            return world.candidate;
          default:
            throw new Error(`unexpected read ${fn} ${args.join(',')}`);
        }
      })();
      return Buffer.from(JSON.stringify(out));
    };
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    db.close();
  });

  it('records a block of events with its checkpoint in ONE SQLite transaction: a failed write keeps the whole block and its checkpoint out, and the next pass handles it exactly once', async () => {
    const later = Math.floor(now / 1000) + 86_400; // offers expiring tomorrow: their keeper duties are not due during the test
    const offer = (offerId: string) => [{ name: 'OfferCreated', payload: { offerId, expiresAt: later } }];
    ledger.emitEvents(offer('o-0'), { block: 6, txId: 'tx-0' });
    ledger.emitEvents(offer('o-1'), { block: 7, txId: 'tx-1' });
    ledger.emitEvents(offer('o-2'), { block: 7, txId: 'tx-2' });
    const store = new AgentStore(db, KEY);
    // the second transaction's duty cannot be written (what a full disk would do), after the first's was
    db.exec(`CREATE TEMP TRIGGER fail_o2 BEFORE INSERT ON agent_duties WHEN NEW.id = 'offer-expire|o-2' BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    const s = make(store);
    s.start();
    await until(() => ledger.streamOptions.length >= 3, 'the listener resumed twice after the failed block');
    // block 6 is recorded; of block 7 nothing, not even its first transaction's duty, and the checkpoint stays before it
    expect(store.checkpoint()).toEqual({ block: 6, txId: 'tx-0' });
    expect(store.pending().map((d) => d.id)).toEqual(['offer-expire|o-0']);
    expect(ledger.streamOptions.at(-1)).toEqual({ startBlock: 6, afterTxId: 'tx-0' });
    db.exec('DROP TRIGGER fail_o2');
    await until(() => store.checkpoint()?.txId === 'tx-2', 'block 7 recorded');
    expect(store.pending().map((d) => d.id).sort()).toEqual(['offer-expire|o-0', 'offer-expire|o-1', 'offer-expire|o-2']);
  });

  it("wakes a task's member duties on an entry, a vote or a trade's progress, its redraw keeper only when the task ends (its deadline is fixed at the draw)", async () => {
    const s = make();
    await s.handleEvent(ledger.emitEvents(drawn()));
    const store = new AgentStore(db, KEY);
    const due = () => store.due(now + 1, 64).map((d) => d.id).sort();
    for (const d of store.pending()) store.reschedule(d.id, now + 3_600_000, 'asleep', {}, now - 1);
    expect(due()).toEqual([]);
    await s.handleEvent(ledger.emitEvents([{ name: 'VoteRecorded', payload: { taskId: 't-1', ballot: 'admission', round: 0, voter: 'p-B', approve: true } }]));
    await s.handleEvent(ledger.emitEvents([{ name: 'LeaderEntryRecorded', payload: { taskId: 't-1', ballot: 'admission', round: 0, leader: 'p-B', slot: 12 } }]));
    expect(due()).toEqual(['member|t-1|0|m-a', 'member|t-1|0|m-c']);
    await s.handleEvent(ledger.emitEvents([{ name: 'BallotDecided', payload: { taskId: 't-1', ballot: 'admission', round: 0, outcome: 'APPROVED' } }]));
    expect(due()).toEqual(['member|t-1|0|m-a', 'member|t-1|0|m-c', 'task-redraw|t-1|0']);
  });

  it('creates a member duty only for the committee seats of meters this gateway holds, and a keeper duty for the round', async () => {
    const s = make();
    await s.handleEvent(ledger.emitEvents(drawn()));
    const pending = new AgentStore(db, KEY).pending().map((d) => d.id).sort();
    expect(pending).toEqual(['member|t-1|0|m-a', 'member|t-1|0|m-c', 'task-redraw|t-1|0']);
  });

  it('never signs for a meter its utility does not hold', () => {
    const s = make();
    expect(() => s.identityFor('m-foreign')).toThrow(NotHeldError);
    expect(() => s.identityFor('m-unknown')).toThrow(/not held by this gateway/);
    expect(() => s.setSettings('m-unknown', { behaviour: 'silent' })).toThrow(NotHeldError);
    expect(s.identityFor('m-a').key).toBe('meter:m-a');
  });

  it('votes once per seat with the conditions it checked itself; a restart replaying the event does not vote again', async () => {
    const s = make();
    await s.handleEvent(ledger.emitEvents(drawn()));
    // The world records each committed vote, as the ledger would.
    ledger.result = (tx) => {
      if (tx.fn === 'admissions:vote') world.ballot.votes.push({ voter: world.pids[tx.signer]!, approve: JSON.parse(tx.args[1]!).approve, round: 0, ballot: 'admission' });
      return {};
    };
    await s.runOnce();
    expect(acts().sort()).toEqual([
      'meter:m-a admissions:vote p-new {"approve":true,"conditions":{"condition1":true,"condition2":true},"reason":"conditions checked on the ledger"}',
      'meter:m-c admissions:vote p-new {"approve":true,"conditions":{"condition1":true,"condition2":true},"reason":"conditions checked on the ledger"}',
    ]);
    // Neither re-reads at once after its vote: the votes' own events wake them. p-A's vote leaves the ballot
    // without quorum and p-A voted: m-a stays asleep, m-c (not voted yet) is woken; p-C's vote is the quorum.
    const store0 = new AgentStore(db, KEY);
    expect(store0.due(now, 64).filter((d) => d.kind === 'member')).toEqual([]);
    await s.handleEvent(ledger.emitEvents([{ name: 'VoteRecorded', payload: { taskId: 't-1', ballot: 'admission', round: 0, voter: 'p-A', approve: true } }]));
    expect(store0.due(now, 64).map((d) => d.id)).toEqual(['member|t-1|0|m-c']);
    await s.handleEvent(ledger.emitEvents([{ name: 'VoteRecorded', payload: { taskId: 't-1', ballot: 'admission', round: 0, voter: 'p-C', approve: true } }]));
    // m-c (woken, its tally dropped) is due now; m-a saw the quorum and does not lead slot 12 (p-B does): it
    // cannot decide first, so it sleeps one decide gap instead of reading now
    expect(store0.due(now, 64).map((d) => d.id)).toEqual(['member|t-1|0|m-c']);
    now += DECIDE_TURN_MS;
    expect(store0.due(now, 64).map((d) => d.id).sort()).toEqual(['member|t-1|0|m-a', 'member|t-1|0|m-c']);
    // 3 approvals now (entry + 2 votes): both seats race to decide; the second loses (CONFLICT) and that is fine.
    ledger.script.push({ stage: 'endorse', error: chaincodeError('[CONFLICT] participant p-new is active, not pending admission') });
    ledger.result = (tx) => {
      if (tx.fn === 'admissions:decide') {
        world.task = { ...world.task, status: 'CLOSED', outcome: 'APPROVED' };
        world.ballot.ballot = { ...world.ballot.ballot!, status: 'APPROVED' };
      }
      return {};
    };
    await s.runOnce();
    expect(acts().filter((a) => a.includes('decide'))).toHaveLength(1);
    // the decision's event ends the winner's duty (the task's only ballot approved: closed) without a read
    ledger.evaluated.length = 0;
    await s.handleEvent(ledger.emitEvents([{ name: 'BallotDecided', payload: { taskId: 't-1', kind: 'admission', subjectId: 'p-new#1', ballot: 'admission', round: 0, outcome: 'APPROVED', approvals: 3, refusals: 0 } }]));
    now += 10; // the loser re-reads after its (short) backoff
    await s.runOnce();
    const store = new AgentStore(db, KEY);
    expect(store.pending().filter((d) => d.kind === 'member')).toEqual([]);
    expect(store.get('member|t-1|0|m-a')!.state).toBe('DONE');
    await s.stop();

    // restart on the same database; the follower replays the CommitteeDrawn event (crash before the checkpoint)
    const before = acts().length;
    const again = make(new AgentStore(db, KEY));
    await again.handleEvent(ledger.chain[0]!);
    await again.runOnce();
    expect(acts().length).toBe(before);
  });

  describe('decide turns (quorum in slot 12, led by p-B of another utility: turns p-B 0, p-C 1, p-D 2, p-A 3)', () => {
    const decides = () => acts().filter((a) => a.includes('admissions:decide'));
    const quorumAt = inSlotAt(12);
    beforeEach(() => {
      // entry by p-D in slot 12 (its approval) plus p-B's and p-C's approvals: 2f+1 = 3, the last at the entry's time
      world.ballot = ballot('admission', { entryBy: 'p-D', slot: 12, votes: [['p-B', true], ['p-C', true]] });
      now = quorumAt * 1000;
      ledger.result = (tx) => {
        if (tx.fn === 'admissions:decide') decided();
        return {};
      };
    });
    const decided = () => {
      world.task = { ...world.task, status: 'CLOSED', outcome: 'APPROVED' };
      world.ballot = { ...world.ballot, ballot: { ...world.ballot.ballot!, status: 'APPROVED' } };
    };

    it('the slot leader decided at turn 0: the held members re-read at their turns and submit nothing', async () => {
      const s = make();
      await s.handleEvent(ledger.emitEvents(drawn()));
      await s.runOnce();
      expect(decides()).toEqual([]); // neither held member's turn yet
      decided(); // p-B (another utility's agent) decides at its turn
      for (const turn of [1, 2, 3]) {
        now = quorumAt * 1000 + turn * DECIDE_TURN_MS;
        await s.runOnce();
      }
      expect(decides()).toEqual([]);
      const store = new AgentStore(db, KEY);
      expect(store.get('member|t-1|0|m-a')!.state).toBe('DONE');
      expect(store.get('member|t-1|0|m-c')!.state).toBe('DONE');
    });

    it('derives the gap from the commit latency it observed: acts taking 4 s each move p-C\'s turn to quorum + 9.5 s', async () => {
      const s = make();
      // five keeper acts (index syncs after bans) that each take 4 s from submit to commit on this ledger
      world.candidate = { ...world.candidate, status: 'ACTIVE', bannedUntil: 1 } as typeof world.candidate;
      ledger.result = (tx) => {
        now += 2_000; // called at endorsement and again at commit: 4 s from submit to commit
        if (tx.fn === 'admissions:decide') decided();
        return {};
      };
      for (const pid of ['p-1', 'p-2', 'p-3', 'p-4', 'p-5']) {
        await s.handleEvent(ledger.emitEvents([{ name: 'ParticipantBanned', payload: { participantId: pid, bannedUntil: 1 } }]));
        await s.runOnce(); // one at a time, so each act's latency is its own 4 s
      }
      expect(acts().filter((a) => a.includes('syncCommitteeIndex'))).toHaveLength(5);
      expect(s.decideGapMs()).toBe(1_500 + 2 * 4_000);
      world.candidate = new World().candidate;
      now = quorumAt * 1000;
      await s.handleEvent(ledger.emitEvents(drawn()));
      await s.runOnce();
      now = quorumAt * 1000 + DECIDE_TURN_MS; // the fixed 5 s turn would be p-C's now
      await s.runOnce();
      expect(decides()).toEqual([]);
      now = quorumAt * 1000 + 9_500; // p-B silent: p-C's turn with the derived gap
      await s.runOnce();
      expect(decides()).toEqual(['meter:m-c admissions:decide p-new']);
    });

    it('learns from its own turn-0 decide how long quorum → commit takes, and waits that long at its later turns', async () => {
      // the quorum lands in slot 11, led by p-A (m-a): m-a decides at turn 0
      world.ballot = ballot('admission', { entryBy: 'p-D', slot: 11, votes: [['p-B', true], ['p-C', true]] });
      const q = inSlotAt(11);
      ledger.result = (tx) => {
        now += 2_000; // endorsement and commit: 4 s
        if (tx.fn === 'admissions:decide') decided();
        return {};
      };
      const s = make();
      expect(s.decideGapMs()).toBe(DECIDE_TURN_MS);
      now = q * 1000 + 7_000; // the quorum's event reached this gateway 7 s after its ledger time
      await s.handleEvent(ledger.emitEvents(drawn()));
      await s.runOnce();
      expect(decides()).toEqual(['meter:m-a admissions:decide p-new']);
      expect(s.decideGapMs()).toBe(7_000 + 4_000 + 500); // quorum → committed, + 0.5 s
    });

    it('a silent slot leader: the next member decides after one turn, the later ones do not', async () => {
      const s = make();
      await s.handleEvent(ledger.emitEvents(drawn()));
      await s.runOnce();
      now = quorumAt * 1000 + DECIDE_TURN_MS - 1;
      await s.runOnce();
      expect(decides()).toEqual([]); // p-C waits out p-B's turn
      now = quorumAt * 1000 + DECIDE_TURN_MS; // p-B said nothing: p-C's turn
      await s.runOnce();
      expect(decides()).toEqual(['meter:m-c admissions:decide p-new']);
      now = quorumAt * 1000 + 3 * DECIDE_TURN_MS; // p-A's turn: it re-reads the decided ballot
      await s.runOnce();
      await s.runOnce();
      expect(decides()).toHaveLength(1);
      expect(new AgentStore(db, KEY).get('member|t-1|0|m-a')!.state).toBe('DONE');
    });
  });

  it('after a crash between commit and record, the vote seen on the ledger is not repeated', async () => {
    const s = make();
    await s.handleEvent(ledger.emitEvents(drawn()));
    // m-a's vote committed earlier but its agent_acts row was lost: the ledger shows it
    world.ballot.votes.push({ voter: 'p-A', approve: true, round: 0, ballot: 'admission' });
    await s.runOnce();
    expect(acts().filter((a) => a.startsWith('meter:m-a'))).toEqual([]);
    expect(acts().filter((a) => a.startsWith('meter:m-c'))).toHaveLength(1);
    // a second vote the chaincode refuses (CONFLICT: already voted) is a lost race, not an error
    ledger.script.push({ stage: 'endorse', error: chaincodeError('[CONFLICT] p-C already voted on ballot "admission"') });
    world.ballot.votes = world.ballot.votes.filter((v) => v.voter !== 'p-C'); // our peer is behind
    const store = new AgentStore(db, KEY);
    store.reschedule('member|t-1|0|m-c', 0, 'test');
    await s.runOnce();
    expect(store.get('member|t-1|0|m-c')!.state).toBe('PENDING');
  });

  it('refuses with the failed condition when the entry was not made by the slot leader', async () => {
    world.ballot = ballot('admission', { entryBy: 'p-B', slot: 10 }); // slot 10 is p-D's
    const s = make();
    await s.handleEvent(ledger.emitEvents(drawn()));
    await s.runOnce();
    const votes = ledger.applied.filter((t) => t.fn === 'admissions:vote').map((t) => JSON.parse(t.args[1]!));
    expect(votes).toHaveLength(2);
    for (const v of votes) {
      expect(v).toMatchObject({ approve: false, conditions: { condition1: false, condition2: true } });
      expect(v.reason).toMatch(/Condition 1: slot 10 is led by p-D/);
    }
  });

  it('as the slot leader it enters at its slot; silent and refuse-all seats do nothing / refuse', async () => {
    world.ballot = { ballot: null, round: 0, votes: [] };
    const store = new AgentStore(db, KEY);
    const s = make(store);
    s.setSettings('m-c', { behaviour: 'silent' });
    await s.handleEvent(ledger.emitEvents(drawn()));
    now = inSlot(12); // p-B leads: m-a (p-A) waits for slot 15 (its next)
    await s.runOnce();
    expect(acts()).toEqual([]);
    expect(store.get('member|t-1|0|m-a')!.note).toBe('this meter leads slot 15');
    expect(store.get('member|t-1|0|m-c')).toMatchObject({ state: 'DONE', note: 'behaviour silent' });
    now = store.get('member|t-1|0|m-a')!.dueAt;
    await s.runOnce();
    expect(acts()).toEqual(['meter:m-a committees:recordEntries {"taskIds":["t-1"]}']);

    // refuse-all: never enters (an entry is an approval), votes no
    s.setSettings('m-a', { behaviour: 'refuse-all' });
    world.ballot = ballot('admission', { entryBy: 'p-D', slot: 10 });
    store.reschedule('member|t-1|0|m-a', 0, 'test');
    await s.runOnce();
    const v = ledger.applied.filter((t) => t.fn === 'admissions:vote').map((t) => JSON.parse(t.args[1]!));
    expect(v).toEqual([expect.objectContaining({ approve: false, reason: 'refuse-all (test behaviour)' })]);
    // switching the silent meter back to honest reopens its seat
    s.setSettings('m-c', { behaviour: 'honest' });
    expect(store.get('member|t-1|0|m-c')!.state).toBe('PENDING');
  });

  describe('one block per slot for every task the meter leads (seed 002)', () => {
    // In slot 11 p-A (m-a) leads t-1 (offset 1) and t-2 ((11 + 2) mod 4 = 1: p-A in [p-B, p-A, …]); p-B leads t-3.
    const tasks: Record<string, TaskView> = {
      't-1': task(),
      't-2': task({ taskId: 't-2', subjectId: 'p-new2#1', parties: ['p-new2'], committee: ['p-B', 'p-A', 'p-C', 'p-D'], leaderOffset: 2 }),
      't-3': task({ taskId: 't-3', subjectId: 'p-new3#1', parties: ['p-new3'], leaderOffset: 2 }),
    };
    let ballots: Record<string, BallotState>;
    const drawnAll = () => Object.values(tasks).map((t) => ({ name: 'CommitteeDrawn', payload: { taskId: t.taskId, kind: 'admission', subjectId: t.subjectId, round: 0, committee: t.committee, deadlineAt: t.deadlineAt } }));
    const blocks = () => ledger.applied.filter((t) => t.fn === 'committees:recordEntries').map((t) => ({ signer: t.signer, taskIds: (JSON.parse(t.args[0]!) as { taskIds: string[] }).taskIds.sort() }));

    beforeEach(() => {
      ballots = Object.fromEntries(Object.keys(tasks).map((id) => [id, { ballot: null, round: 0, votes: [] }]));
      const inner = ledger.evaluateImpl;
      ledger.evaluateImpl = async (id, fn, args) => {
        if (fn === 'committees:getTask') return Buffer.from(JSON.stringify(tasks[args[0]!]));
        if (fn === 'committees:getBallot') return Buffer.from(JSON.stringify(ballots[args[0]!]));
        if (fn === 'participants:get') {
          const taskId = Object.values(tasks).find((t) => t.subjectId.startsWith(`${args[0]!}#`))!.taskId;
          return Buffer.from(JSON.stringify({ ...world.candidate, participantId: args[0], admissionTaskId: taskId }));
        }
        return inner(id, fn, args);
      };
      // the ledger records the block's entries, as the chaincode would
      ledger.result = (tx) => {
        if (tx.fn !== 'committees:recordEntries') return {};
        const taskIds = (JSON.parse(tx.args[0]!) as { taskIds: string[] }).taskIds;
        for (const id of taskIds) ballots[id] = { ...ballot('admission', { entryBy: world.pids[tx.signer]!, slot: 11 }), ballot: { ...ballot('admission', { entryBy: world.pids[tx.signer]!, slot: 11 }).ballot!, taskId: id } };
        return {};
      };
    });

    it('enters every task it leads in its slot in ONE transaction, never a task another member leads', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      now = inSlot(11);
      await s.handleEvent(ledger.emitEvents(drawnAll()));
      await s.runOnce();
      await s.runOnce(); // the duty that waited for the block re-reads: its ballot is entered
      expect(blocks()).toEqual([{ signer: 'meter:m-a', taskIds: ['t-1', 't-2'] }]);
      expect(acts().filter((a) => /recordEntr/.test(a))).toHaveLength(1); // no single-task entry beside the block
      expect(store.get('member|t-3|0|m-a')!.note).toBe('this meter leads slot 14'); // p-B leads t-3 now
    });

    it('gathering its block, it reads only the tasks whose known slot schedule says it leads now (the schedule is fixed at the draw)', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      now = inSlot(12); // p-B leads t-1, p-C (m-c, held too) leads t-2 and t-3: m-a's duties read and wait
      await s.handleEvent(ledger.emitEvents(drawnAll()));
      await s.runOnce();
      expect(blocks()).toEqual([{ signer: 'meter:m-c', taskIds: ['t-2', 't-3'] }]);
      ballots['t-2'] = { ballot: null, round: 0, votes: [] }; // as if m-c's entry of t-2 had not been made
      // slot 15: p-A leads t-1 and t-2, p-B leads t-3. Only t-1's duty runs; its block gathers t-2 with a read
      // and leaves t-3 out without one.
      now = inSlot(15);
      for (const d of store.pending()) store.reschedule(d.id, now + 3_600_000, 'asleep', {}, now - 1);
      store.reschedule('member|t-1|0|m-a', 0, 'woken', {}, now - 1);
      ledger.evaluated.length = 0;
      const skipped = await counter('gateway_agent_wakeups_skipped_total', { rule: 'block-not-leader' });
      await s.runOnce();
      expect(blocks().filter((b) => b.signer === 'meter:m-a')).toEqual([{ signer: 'meter:m-a', taskIds: ['t-1', 't-2'] }]);
      expect(ledger.evaluated.map((e) => e.args[0])).toEqual(['t-1', 't-2']);
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'block-not-leader' })).toBe(skipped + 1);
    });

    it('after a restart it makes no second block in the slot: neither when the entries are visible nor when only the chaincode knows', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      now = inSlot(11);
      await s.handleEvent(ledger.emitEvents(drawnAll()));
      await s.runOnce();
      await s.stop();
      // restart, same store: the entries are on the ledger, so nothing to enter
      const again = make(new AgentStore(db, KEY));
      for (const id of ['member|t-1|0|m-a', 'member|t-2|0|m-a']) store.reschedule(id, 0, 'restart');
      await again.runOnce();
      expect(blocks()).toHaveLength(1);

      // a block that committed while our peer still shows no entry: the chaincode refuses the second (Condition 2)
      // and the agent makes no other block in that slot
      ballots['t-1'] = { ballot: null, round: 0, votes: [] };
      const restarted = make(new AgentStore(db, KEY));
      ledger.script.push({ stage: 'endorse', error: chaincodeError('[CONFLICT:LEADER_SLOT_USED] Condition 2: leader p-A already made an entry in slot 11') });
      store.reschedule('member|t-1|0|m-a', 0, 'restart');
      await restarted.runOnce();
      store.reschedule('member|t-1|0|m-a', 0, 'again');
      await restarted.runOnce();
      expect(blocks()).toHaveLength(1); // the refused one was never applied, and none after it
      expect(store.get('member|t-1|0|m-a')!.note).toBe('this meter leads slot 15');
    });
  });

  describe('holding the block for a stage about to open (docs/agents.md §2)', () => {
    // As above: p-A (m-a) leads slot 11 of t-1 and t-2; t-tr is a trade task it leads too (offset 1, index 0).
    const stages = [
      { name: 'execution', conditions: ['condition1', 'condition2'], requiresEntry: true },
      { name: 'final', conditions: ['condition3', 'condition4'], requiresEntry: true },
    ];
    const tasks: Record<string, TaskView> = {
      't-1': task(),
      't-2': task({ taskId: 't-2', subjectId: 'p-new2#1', parties: ['p-new2'], committee: ['p-B', 'p-A', 'p-C', 'p-D'], leaderOffset: 2 }),
      't-tr': task({ taskId: 't-tr', kind: 'trade', subjectId: 'trd-1', parties: ['p-S', 'p-B'], ballots: stages }),
    };
    const slotStartMs = (inSlotAt(11) - 5) * 1000;
    let ballots: Record<string, Record<string, BallotState>>;
    let tradeNow: ReturnType<typeof trade>;
    let reads: string[];
    const drawnOf = (id: string) => ({ name: 'CommitteeDrawn', payload: { taskId: id, kind: tasks[id]!.kind, subjectId: tasks[id]!.subjectId, round: 0, committee: tasks[id]!.committee, deadlineAt: tasks[id]!.deadlineAt } });
    /** a trade of the market whose delivery interval ended at the slot's start: its seller is delivering, its committee not drawn */
    const arriving = { name: 'TradeCreated', payload: { tradeId: 'trd-x', deliveryStart: slotStartMs / 1000 - 60, deliveryLength: 60, deliveryDeadline: slotStartMs / 1000 + 60 } };
    const arrived = { name: 'CommitteeDrawn', payload: { taskId: 'tt-x', kind: 'trade', subjectId: 'trd-x', round: 0, committee: ['p-B', 'p-D', 'p-E', 'p-F'], deadlineAt: tasks['t-1']!.deadlineAt } };
    const blocks = () => ledger.applied.filter((t) => t.fn === 'committees:recordEntries').map((t) => (JSON.parse(t.args[0]!) as { taskIds: string[] }).taskIds.sort());

    beforeEach(() => {
      reads = [];
      tradeNow = trade({ state: 'FINAL' });
      ballots = {
        't-1': { admission: { ballot: null, round: 0, votes: [] } },
        't-2': { admission: { ballot: null, round: 0, votes: [] } },
        't-tr': { execution: ballot('execution', { entryBy: 'p-D', slot: 10, status: 'APPROVED' }), final: { ballot: null, round: 0, votes: [] } },
      };
      const inner = ledger.evaluateImpl;
      ledger.evaluateImpl = async (id, fn, args) => {
        reads.push(fn);
        if (fn === 'committees:getTask') return Buffer.from(JSON.stringify(tasks[args[0]!]));
        if (fn === 'committees:getBallot') return Buffer.from(JSON.stringify(ballots[args[0]!]![args[1]!]));
        if (fn === 'trades:get') return Buffer.from(JSON.stringify(tradeNow));
        if (fn === 'participants:get') {
          const taskId = Object.values(tasks).find((t) => t.subjectId.startsWith(`${args[0]!}#`))!.taskId;
          return Buffer.from(JSON.stringify({ ...world.candidate, participantId: args[0], admissionTaskId: taskId }));
        }
        return inner(id, fn, args);
      };
      ledger.result = (tx) => {
        if (tx.fn !== 'committees:recordEntries') return {};
        for (const id of (JSON.parse(tx.args[0]!) as { taskIds: string[] }).taskIds) {
          const name = Object.keys(ballots[id]!).find((b) => ballots[id]![b]!.ballot?.status !== 'APPROVED')!;
          ballots[id]![name] = ballot(name, { entryBy: 'p-A', slot: 11 });
        }
        return {};
      };
    });

    it('waits while a trade is arriving, and makes ONE block with the task drawn meanwhile', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      now = slotStartMs + 4_000;
      await s.handleEvent(ledger.emitEvents([arriving, drawnOf('t-1')]));
      await s.runOnce();
      expect(blocks()).toEqual([]); // without the hold: a block of t-1 alone, and t-2 (drawn next) would wait for a later slot
      expect(store.get('member|t-1|0|m-a')).toMatchObject({ dueAt: slotStartMs + 20_000, note: 'holding the block of this slot: 1 trade(s) about to open a stage' });
      // woken meanwhile while the trade is still arriving: it reads nothing
      reads = [];
      store.reschedule('member|t-1|0|m-a', 0, 'woken');
      await s.runOnce();
      expect(reads).toEqual([]);
      expect(blocks()).toEqual([]);
      // t-2 is drawn (this meter leads it now) and the arriving trade's committee too: the hold ends at once
      now += 2_000;
      await s.handleEvent(ledger.emitEvents([drawnOf('t-2'), arrived]));
      await s.runOnce();
      await s.runOnce();
      expect(blocks()).toEqual([['t-1', 't-2']]);
    });

    it('holds no longer than the margin before the slot ends: then the block carries what is ready', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      now = slotStartMs + 4_000;
      await s.handleEvent(ledger.emitEvents([arriving, drawnOf('t-1')]));
      await s.runOnce();
      expect(blocks()).toEqual([]);
      now = store.get('member|t-1|0|m-a')!.dueAt; // 10 s before the slot's end; the trade is still arriving
      await s.runOnce();
      expect(blocks()).toEqual([['t-1']]);
    });

    it("waits for the final stage of a trade it leads (the buyer's evidence), then enters both in one block", async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      now = slotStartMs + 4_000;
      await s.handleEvent(ledger.emitEvents([drawnOf('t-tr'), drawnOf('t-1')]));
      await s.runOnce();
      expect(blocks()).toEqual([]);
      expect(store.get('member|t-1|0|m-a')!.note).toBe('holding the block of this slot: 1 task(s) it leads about to open a ballot');
      // held for its own task only: other tasks' events do not wake it (no reads until that task or the limit)
      reads = [];
      await s.handleEvent(ledger.emitEvents([{ name: 'VoteRecorded', payload: { taskId: 't-other', ballot: 'execution', round: 0, voter: 'p-Z', approve: true } }]));
      await s.runOnce();
      expect(reads).toEqual([]);
      // the buyer confirms: the final stage's facts are on the ledger, the trade's duty enters with t-1
      now += 3_000;
      tradeNow = trade({ state: 'FINAL', meteredWh: 200, buyerDeclaredWh: 200 });
      store.reschedule('member|t-tr|0|m-a', 0, 'TradeDeliveryEvidenced');
      await s.runOnce();
      await s.runOnce();
      expect(blocks()).toEqual([['t-1', 't-tr']]);
    });
  });

  describe('one evaluation per member wake-up (committees:getMemberView)', () => {
    it('an admission member reads task, ballot and candidate in ONE evaluation, then votes; counted by function', async () => {
      const s = make();
      await s.handleEvent(ledger.emitEvents(drawn()));
      ledger.evaluated.length = 0;
      await s.runOnce(); // both held seats (m-a, m-c) wake, read and vote
      expect(ledger.evaluated).toEqual([
        { signer: 'operator', fn: 'committees:getMemberView', args: ['t-1', 'true'] },
        { signer: 'operator', fn: 'committees:getMemberView', args: ['t-1', 'true'] },
      ]);
      expect(acts().filter((a) => a.includes('admissions:vote'))).toHaveLength(2);
      expect(await counter('gateway_agent_evaluations_total', { fn: 'committees:getMemberView' })).toBe(2);
    });

    it('a trade member checks the execution stage (trade and packets) from the same one read', async () => {
      const t = trade();
      world.task = task({ kind: 'trade', subjectId: t.tradeId, parties: ['p-S', 'p-B'], ballots: [
        { name: 'execution', conditions: ['condition1', 'condition2'], requiresEntry: true },
        { name: 'final', conditions: ['condition3', 'condition4'], requiresEntry: true },
      ] });
      world.ballot = ballot('execution', { entryBy: 'p-D', slot: 10, payload: { contractHash: t.contractHash, stage: 'execution', energyEscrowWh: 200, paymentEscrow: 50 } });
      const inner = ledger.evaluateImpl;
      ledger.evaluateImpl = async (id, fn, args) => {
        if (fn === 'trades:get') return Buffer.from(JSON.stringify(t));
        if (fn === 'energy:get') return Buffer.from(JSON.stringify({ packetId: 'pkt-1', owner: 'p-S', meterId: 'm-s', intervalStart: t.deliveryStart, escrowedWh: 200, tradeId: t.tradeId }));
        return inner(id, fn, args);
      };
      const s = make();
      await s.handleEvent(ledger.emitEvents([{ name: 'CommitteeDrawn', payload: { taskId: 't-1', kind: 'trade', subjectId: t.tradeId, round: 0, committee: world.task.committee, deadlineAt: world.task.deadlineAt } }]));
      ledger.evaluated.length = 0;
      await s.runOnce();
      expect(ledger.evaluated.map((e) => e.fn)).toEqual(['committees:getMemberView', 'committees:getMemberView']);
      const votes = ledger.applied.filter((x) => x.fn === 'trades:vote').map((x) => JSON.parse(x.args[1]!) as { approve: boolean; conditions: Record<string, boolean> });
      expect(votes).toEqual([expect.objectContaining({ approve: true, conditions: { condition1: true, condition2: true } }), expect.objectContaining({ approve: true })]);
      // the execution stage approved opens the final ballot: the members look; the redraw keeper (its deadline is
      // the round's, fixed at the draw) sleeps on, as the task's ballots are known from the members' reads
      const store = new AgentStore(db, KEY);
      for (const d of store.pending()) store.reschedule(d.id, now + 3_600_000, 'asleep', {}, now - 1);
      await s.handleEvent(ledger.emitEvents([{ name: 'BallotDecided', payload: { taskId: 't-1', kind: 'trade', subjectId: t.tradeId, ballot: 'execution', round: 0, outcome: 'APPROVED', approvals: 3, refusals: 0 } }]));
      expect(store.due(now, 64).map((d) => d.id).sort()).toEqual(['member|t-1|0|m-a', 'member|t-1|0|m-c']);
      expect(store.get('task-redraw|t-1|0')).toMatchObject({ state: 'PENDING', dueAt: now + 3_600_000 });
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'decision-keeps-deadline' })).toBe(1);
      // the final ballot approved closes the task: members and keeper end without a read
      await s.handleEvent(ledger.emitEvents([{ name: 'BallotDecided', payload: { taskId: 't-1', kind: 'trade', subjectId: t.tradeId, ballot: 'final', round: 0, outcome: 'APPROVED', approvals: 3, refusals: 0 } }]));
      expect(store.get('task-redraw|t-1|0')!.state).toBe('DONE');
    });
  });

  describe('wake-ups decided by the event, without a read (docs/agents.md §1)', () => {
    const voted = (voter: string, approve = true) => [{ name: 'VoteRecorded', payload: { taskId: 't-1', ballot: 'admission', round: 0, voter, approve } }];
    const dueMembers = (store: AgentStore) => store.due(now, 64).filter((d) => d.kind === 'member').map((d) => d.id).sort();

    it('a vote of another task wakes nothing here; a restart forgets what the duties knew, so a vote that was skipped before wakes them', async () => {
      world.ballot = ballot('admission', { entryBy: 'p-D', slot: 10, votes: [['p-A', true], ['p-C', false]] }); // 2 approvals, 1 refusal
      const store = new AgentStore(db, KEY);
      const s = make(store);
      await s.handleEvent(ledger.emitEvents(drawn()));
      await s.runOnce(); // both read: voted already, no quorum → wait
      expect(acts()).toEqual([]);
      expect(dueMembers(store)).toEqual([]);
      await s.handleEvent(ledger.emitEvents([{ name: 'VoteRecorded', payload: { taskId: 't-2', ballot: 'admission', round: 0, voter: 'p-B', approve: false } }]));
      await s.handleEvent(ledger.emitEvents(voted('p-C', false))); // replayed: already counted, no quorum
      expect(dueMembers(store)).toEqual([]);
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'voted-no-quorum' })).toBe(2);
      // a restart: nothing is known, so the same event wakes both seats, which read
      await s.stop();
      const again = make(new AgentStore(db, KEY));
      await again.handleEvent(ledger.emitEvents(voted('p-C', false)));
      expect(dueMembers(store)).toEqual(['member|t-1|0|m-a', 'member|t-1|0|m-c']);
      ledger.evaluated.length = 0;
      await again.runOnce();
      expect(ledger.evaluated.map((e) => e.fn)).toEqual(['committees:getMemberView', 'committees:getMemberView']);
      // p-B's refusal is the f+1-th: neither seat leads slot 12, so both sleep one decide gap, then read
      // and decide (their turns long past)
      world.ballot.votes.push({ voter: 'p-B', approve: false, round: 0, ballot: 'admission' });
      await again.handleEvent(ledger.emitEvents(voted('p-B', false)));
      expect(dueMembers(store)).toEqual([]);
      now += DECIDE_TURN_MS;
      expect(dueMembers(store)).toEqual(['member|t-1|0|m-a', 'member|t-1|0|m-c']);
      await again.runOnce();
      expect(acts().filter((a) => a.includes('admissions:decide')).length).toBeGreaterThan(0);
    });

    it('after a read that saw the ballot without quorum, a vote that keeps it so is skipped; the quorum-making vote wakes the leader of this slot and defers the others by a decide gap', async () => {
      world.ballot = ballot('admission', { entryBy: 'p-D', slot: 10, votes: [['p-A', true], ['p-C', false]] }); // 2 approvals, 1 refusal
      const store = new AgentStore(db, KEY);
      const s = make(store);
      await s.handleEvent(ledger.emitEvents(drawn()));
      await s.runOnce();
      ledger.evaluated.length = 0;
      // a replayed vote (already counted) keeps the ballot as it was: skipped for both seats
      await s.handleEvent(ledger.emitEvents(voted('p-A')));
      expect(dueMembers(store)).toEqual([]);
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'voted-no-quorum' })).toBe(2);
      await s.runOnce();
      expect(ledger.evaluated).toEqual([]);
      // p-B approves: 3 approvals. The decide turns start with the leader of the quorum's slot: in slot 15 that
      // is p-A, so m-a wakes and reads now; m-c (p-C) cannot be first and sleeps one decide gap, without a read
      now = inSlot(15);
      world.ballot.votes.push({ voter: 'p-B', approve: true, round: 0, ballot: 'admission' });
      await s.handleEvent(ledger.emitEvents(voted('p-B')));
      expect(dueMembers(store)).toEqual(['member|t-1|0|m-a']);
      expect(store.get('member|t-1|0|m-c')).toMatchObject({ state: 'PENDING', dueAt: now + DECIDE_TURN_MS, note: expect.stringMatching(/has its quorum; this member decides at its turn/) });
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'quorum-not-first' })).toBe(1);
      // the decision's event ends m-c before its gap is over: it never reads
      await s.handleEvent(ledger.emitEvents([{ name: 'BallotDecided', payload: { taskId: 't-1', kind: 'admission', subjectId: 'p-new#1', ballot: 'admission', round: 0, outcome: 'APPROVED', approvals: 3, refusals: 0 } }]));
      expect(store.get('member|t-1|0|m-c')!.state).toBe('DONE');
      expect(ledger.evaluated).toEqual([]);
    });

    it('a vote that arrives while a read is in flight leaves no tally behind: the next vote wakes the duty', async () => {
      world.ballot = ballot('admission', { entryBy: 'p-D', slot: 10, votes: [['p-A', true]] }); // 2 approvals, m-a voted; m-c not yet
      world.task = task({ committee: ['p-A', 'p-B', 'p-D', 'p-E'] }); // only m-a (p-A) sits here
      const store = new AgentStore(db, KEY);
      const s = make(store);
      await s.handleEvent(ledger.emitEvents(drawn()));
      // while m-a's read is in flight, p-B's refusal commits and its event is handled: the read is stale
      const inner = ledger.evaluateImpl;
      let once = true;
      ledger.evaluateImpl = async (id, fn, args) => {
        const out = await inner(id, fn, args);
        if (fn === 'committees:getMemberView' && once) {
          once = false;
          world.ballot.votes.push({ voter: 'p-B', approve: false, round: 0, ballot: 'admission' });
          now += 1; // the event is handled after the run started
          await s.handleEvent(ledger.emitEvents(voted('p-B', false)));
        }
        return out;
      };
      await s.runOnce();
      expect(dueMembers(store)).toEqual(['member|t-1|0|m-a']); // woken by the event during its run
      // before it re-reads, p-E refuses: the f+1-th refusal. A tally from the stale read (p-E's refusal alone)
      // would have skipped it; without one the duty stays due and its read sees the quorum.
      world.ballot.votes.push({ voter: 'p-E', approve: false, round: 0, ballot: 'admission' });
      await s.handleEvent(ledger.emitEvents(voted('p-E', false)));
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'voted-no-quorum' })).toBe(0);
      expect(dueMembers(store)).toEqual(['member|t-1|0|m-a']);
    });

    it('a member that voted reads without the facts; should the next ballot open without an event dropping that, it reads again with them', async () => {
      const stages = [
        { name: 'execution', conditions: ['condition1', 'condition2'], requiresEntry: true },
        { name: 'final', conditions: ['condition3', 'condition4'], requiresEntry: true },
      ];
      world.task = task({ kind: 'trade', subjectId: 'trd-1', ballots: stages, committee: ['p-A', 'p-B', 'p-D', 'p-E'] }); // m-a only
      const ballots: Record<string, BallotState> = { execution: ballot('execution', { entryBy: 'p-D', slot: 10, votes: [['p-A', true]] }), final: { ballot: null, round: 0, votes: [] } };
      let t = trade();
      const inner = ledger.evaluateImpl;
      ledger.evaluateImpl = async (id, fn, args) => {
        if (fn === 'committees:getBallot') return Buffer.from(JSON.stringify(ballots[args[1]!]));
        if (fn === 'trades:get') return Buffer.from(JSON.stringify(t));
        if (fn === 'energy:get') return Buffer.from(JSON.stringify({ packetId: 'pkt-1', owner: 'p-S', meterId: 'm-s', intervalStart: t.deliveryStart, escrowedWh: 200, tradeId: t.tradeId }));
        return inner(id, fn, args);
      };
      const store = new AgentStore(db, KEY);
      const s = make(store);
      await s.handleEvent(ledger.emitEvents([{ name: 'CommitteeDrawn', payload: { taskId: 't-1', kind: 'trade', subjectId: 'trd-1', round: 0, committee: world.task.committee, deadlineAt: world.task.deadlineAt } }]));
      await s.runOnce(); // voted already: waits for the quorum
      ledger.evaluated.length = 0;
      store.reschedule('member|t-1|0|m-a', 0, 'test');
      await s.runOnce();
      expect(ledger.evaluated.map((e) => e.args[1])).toEqual(['false']);
      // the execution stage approved and the final one entered, but nothing told this process: it reads
      // without the facts, sees a ballot it must check itself, and reads again with them — then votes
      t = trade({ state: 'FINAL', meteredWh: 200, buyerDeclaredWh: 200 });
      ballots.execution = ballot('execution', { entryBy: 'p-D', slot: 10, votes: [['p-A', true], ['p-B', true]], status: 'APPROVED' });
      ballots.final = ballot('final', { entryBy: 'p-D', slot: 12 });
      ledger.evaluated.length = 0;
      store.reschedule('member|t-1|0|m-a', 0, 'test');
      await s.runOnce();
      expect(ledger.evaluated.map((e) => e.args[1])).toEqual(['false', 'true']);
      expect(ledger.applied.filter((x) => x.fn === 'trades:vote').map((x) => JSON.parse(x.args[1]!) as { approve: boolean })).toEqual([expect.objectContaining({ approve: true, conditions: { condition3: true, condition4: true } })]);
    });

    it('a decision that closes the task ends its member duties and redraw keeper without a read; one that opens the next ballot wakes them', async () => {
      const stages = [
        { name: 'execution', conditions: ['condition1', 'condition2'], requiresEntry: true },
        { name: 'final', conditions: ['condition3', 'condition4'], requiresEntry: true },
      ];
      world.task = task({ kind: 'trade', subjectId: 'trd-1', ballots: stages });
      world.ballot = ballot('execution', { entryBy: 'p-D', slot: 10, votes: [['p-A', true], ['p-C', true]] });
      const inner = ledger.evaluateImpl;
      ledger.evaluateImpl = async (id, fn, args) => (fn === 'trades:get' ? Buffer.from(JSON.stringify(trade())) : fn === 'energy:get' ? Buffer.from('{}') : inner(id, fn, args));
      const store = new AgentStore(db, KEY);
      const s = make(store);
      await s.handleEvent(ledger.emitEvents([{ name: 'CommitteeDrawn', payload: { taskId: 't-1', kind: 'trade', subjectId: 'trd-1', round: 0, committee: world.task.committee, deadlineAt: world.task.deadlineAt } }]));
      now = inSlot(40); // the quorum is long past: any decide turn is due
      ledger.result = () => ({});
      ledger.script.push({ stage: 'endorse', error: chaincodeError('[CONFLICT:BALLOT_DECIDED] ballot "execution" of task t-1 is already APPROVED') });
      ledger.script.push({ stage: 'endorse', error: chaincodeError('[CONFLICT:BALLOT_DECIDED] ballot "execution" of task t-1 is already APPROVED') });
      await s.runOnce(); // the seats read (learning the task's ballots) and try to decide (another member was first)
      for (const d of store.pending()) store.reschedule(d.id, now + 3_600_000, 'asleep', {}, now - 1);
      // the execution ballot approved: the final one opens → the members are woken to read
      const decided = (ballotName: string, outcome: string) => [{ name: 'BallotDecided', payload: { taskId: 't-1', kind: 'trade', subjectId: 'trd-1', ballot: ballotName, round: 0, outcome, approvals: 3, refusals: 0 } }];
      await s.handleEvent(ledger.emitEvents(decided('execution', 'APPROVED')));
      expect(dueMembers(store)).toEqual(['member|t-1|0|m-a', 'member|t-1|0|m-c']);
      for (const d of store.pending()) store.reschedule(d.id, now + 3_600_000, 'asleep', {}, now - 1);
      // the final ballot approved: the task is closed → the duties end, nothing is read
      ledger.evaluated.length = 0;
      await s.handleEvent(ledger.emitEvents(decided('final', 'APPROVED')));
      for (const id of ['member|t-1|0|m-a', 'member|t-1|0|m-c', 'task-redraw|t-1|0']) expect(store.get(id)).toMatchObject({ state: 'DONE', note: 'task closed: ballot "final" APPROVED' });
      await s.runOnce();
      expect(ledger.evaluated).toEqual([]);
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'task-closed' })).toBe(3);
    });

    it('a refusal closes the task whatever this process knows (even after a restart)', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      await s.handleEvent(ledger.emitEvents(drawn()));
      await s.stop();
      const again = make(new AgentStore(db, KEY));
      await again.handleEvent(ledger.emitEvents([{ name: 'BallotDecided', payload: { taskId: 't-1', kind: 'admission', subjectId: 'p-new#1', ballot: 'admission', round: 0, outcome: 'REJECTED', approvals: 1, refusals: 2 } }]));
      expect(store.pending()).toEqual([]);
      // …but an approval of a task whose ballots it never read wakes the duties to read
      await again.handleEvent(ledger.emitEvents([{ name: 'CommitteeDrawn', payload: { taskId: 't-9', kind: 'admission', subjectId: 'p-new#2', round: 0, committee: world.task.committee, deadlineAt: world.task.deadlineAt } }]));
      const third = make(new AgentStore(db, KEY));
      await third.handleEvent(ledger.emitEvents([{ name: 'BallotDecided', payload: { taskId: 't-9', kind: 'admission', subjectId: 'p-new#2', ballot: 'admission', round: 0, outcome: 'APPROVED', approvals: 3, refusals: 0 } }]));
      expect(store.pending().map((d) => `${d.id} ${d.state}`).sort()).toEqual(['member|t-9|0|m-a PENDING', 'member|t-9|0|m-c PENDING', 'task-redraw|t-9|0 PENDING']);
    });

    it('a new round ends the replaced round\'s member duties and redraw keeper without a read, and does not wake its own keeper', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      await s.handleEvent(ledger.emitEvents(drawn(0)));
      ledger.evaluated.length = 0;
      await s.handleEvent(ledger.emitEvents(drawn(1)));
      for (const id of ['member|t-1|0|m-a', 'member|t-1|0|m-c', 'task-redraw|t-1|0']) expect(store.get(id)).toMatchObject({ state: 'DONE', note: 'round 0 replaced by round 1' });
      expect(store.due(now, 64).map((d) => d.id).sort()).toEqual(['member|t-1|1|m-a', 'member|t-1|1|m-c']); // its keeper sleeps until the deadline
      expect(ledger.evaluated).toEqual([]);
    });

    it('a trade whose event names parties this gateway does not hold gets no household duty; one of its meters does; an event without parties does', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      const D = Math.floor(now / 1000) + 600;
      const created = (tradeId: string, parties: Record<string, string>) => [{ name: 'TradeCreated', payload: { tradeId, deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120, ...parties } }];
      const foreign = { seller: 'p-X', buyer: 'p-Y', sellerMspId: 'Utility2MSP', buyerMspId: 'Utility3MSP', sellerMeterId: 'm-x', buyerMeterId: 'm-y' };
      await s.handleEvent(ledger.emitEvents(created('trd-f', foreign)));
      // m-foreign is a record of another utility's meter: not held here even though it is listed
      await s.handleEvent(ledger.emitEvents(created('trd-g', { ...foreign, sellerMeterId: 'm-foreign' })));
      await s.handleEvent(ledger.emitEvents(created('trd-b', { ...foreign, buyerMspId: MSP, buyerMeterId: 'm-c' }))); // our buyer
      await s.handleEvent(ledger.emitEvents(created('trd-o', {}))); // an older chaincode's event: unknown parties
      expect(store.pending().filter((d) => d.kind === 'household').map((d) => d.id).sort()).toEqual(['household|trd-b', 'household|trd-o']);
      expect(store.pending().filter((d) => d.kind === 'trade-timeout')).toHaveLength(4); // every trade's timeout keeper, ours or not
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'trade-not-ours' })).toBe(2);
      expect(ledger.evaluated).toEqual([]);
    });

    it("a closed trade ends its household autopilot and its timeout keeper without a read", async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      const D = Math.floor(now / 1000) + 600;
      await s.handleEvent(ledger.emitEvents([{ name: 'TradeCreated', payload: { tradeId: 'trd-1', deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120 } }]));
      expect(store.pending().map((d) => d.id).sort()).toEqual(['household|trd-1', 'trade-timeout|trd-1']);
      ledger.evaluated.length = 0;
      await s.handleEvent(ledger.emitEvents([{ name: 'TradeClosed', payload: { tradeId: 'trd-1', state: 'SETTLED' } }]));
      expect(store.pending()).toEqual([]);
      expect(store.get('household|trd-1')).toMatchObject({ state: 'DONE', note: 'trade SETTLED' });
      expect(store.get('trade-timeout|trd-1')).toMatchObject({ state: 'DONE', note: 'trade SETTLED' });
      expect(ledger.evaluated).toEqual([]);
    });

    it("the buyer's evidence ends the trade's household autopilot (no step left) and wakes its members, not its timeout keeper (the stage window did not move)", async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      const D = Math.floor(now / 1000) + 600;
      await s.handleEvent(ledger.emitEvents([{ name: 'TradeCreated', payload: { tradeId: 'trd-1', deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120 } }]));
      for (const d of store.pending()) store.reschedule(d.id, now + 3_600_000, 'asleep', {}, now - 1);
      // a stage that moves (here from an older chaincode, without its window in the event) wakes the keeper and the autopilot
      await s.handleEvent(ledger.emitEvents([{ name: 'TradeStageAdvanced', payload: { tradeId: 'trd-1', state: 'FINAL', decidedBy: 'committee' } }]));
      expect(store.due(now, 64).map((d) => d.id).sort()).toEqual(['household|trd-1', 'trade-timeout|trd-1']);
      for (const d of store.pending()) store.reschedule(d.id, now + 3_600_000, 'asleep', {}, now - 1);
      ledger.evaluated.length = 0;
      await s.handleEvent(ledger.emitEvents([{ name: 'TradeDeliveryEvidenced', payload: { tradeId: 'trd-1', declaredWh: 200, meteredWh: 200 } }]));
      expect(store.get('household|trd-1')).toMatchObject({ state: 'DONE', note: "the buyer's delivery evidence is recorded" });
      expect(store.get('trade-timeout|trd-1')).toMatchObject({ state: 'PENDING', dueAt: now + 3_600_000 });
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'evidence-keeps-deadline' })).toBe(1);
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'household-part-over' })).toBe(1);
      expect(ledger.evaluated).toEqual([]);
    });

    it('with the parties known: only their readings wake the household duty; the escrow ends a seller-only duty, and a held buyer waits for the final stage', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      const D = Math.floor(now / 1000) + 600;
      const parties = (seller: string, buyer: string) => ({ seller: 'p-S', buyer: 'p-B', sellerMspId: seller === 'm-x' ? 'Utility2MSP' : MSP, buyerMspId: buyer === 'm-y' ? 'Utility3MSP' : MSP, sellerMeterId: seller, buyerMeterId: buyer });
      const created = (tradeId: string, p: object) => [{ name: 'TradeCreated', payload: { tradeId, deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120, ...p } }];
      await s.handleEvent(ledger.emitEvents(created('trd-s', parties('m-a', 'm-y')))); // our seller, a foreign buyer
      await s.handleEvent(ledger.emitEvents(created('trd-b', parties('m-x', 'm-c')))); // a foreign seller, our buyer
      for (const d of store.pending()) store.reschedule(d.id, now + 3_600_000, 'asleep', {}, now - 1);
      const household = () => store.due(now, 64).filter((d) => d.kind === 'household').map((d) => d.id).sort();
      // another household's reading of the interval moves neither trade
      await s.handleEvent(ledger.emitEvents([{ name: 'ReadingRecorded', payload: { mspId: MSP, meterId: 'm-other', intervals: [D] } }]));
      expect(household()).toEqual([]);
      // the seller's reading wakes its trade only; the buyer's reading its own
      await s.handleEvent(ledger.emitEvents([{ name: 'ReadingRecorded', payload: { mspId: MSP, meterId: 'm-a', intervals: [D] } }]));
      expect(household()).toEqual(['household|trd-s']);
      await s.handleEvent(ledger.emitEvents([{ name: 'ReadingRecorded', payload: { mspId: MSP, meterId: 'm-c', intervals: [D] } }]));
      expect(household()).toEqual(['household|trd-b', 'household|trd-s']);
      for (const d of store.pending()) store.reschedule(d.id, now + 3_600_000, 'asleep', {}, now - 1);
      ledger.evaluated.length = 0;
      // the escrow: the seller-only duty is over; the buyer's waits for its final stage, asleep
      const escrowed = (tradeId: string) => [{ name: 'TradeEnergyEscrowed', payload: { tradeId, energyEscrowWh: 200, taskId: `trade-${tradeId}`, state: 'EXECUTION', stageDeadline: D + 400 } }];
      await s.handleEvent(ledger.emitEvents(escrowed('trd-s')));
      await s.handleEvent(ledger.emitEvents(escrowed('trd-b')));
      expect(store.get('household|trd-s')).toMatchObject({ state: 'DONE', note: "the energy is escrowed; the buyer's confirmation is not this gateway's" });
      expect(store.get('household|trd-b')).toMatchObject({ state: 'PENDING', dueAt: now + 3_600_000 });
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'household-waits-final' })).toBe(1);
      // its final stage wakes it
      await s.handleEvent(ledger.emitEvents([{ name: 'TradeStageAdvanced', payload: { tradeId: 'trd-b', state: 'FINAL', decidedBy: 'committee', stageDeadline: D + 700 } }]));
      expect(household()).toEqual(['household|trd-b']);
      expect(ledger.evaluated).toEqual([]);
    });

    it('an escrow or stage event with its stage window moves the timeout keeper to that window without a read; the autopilot still looks', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      const D = Math.floor(now / 1000) + 600;
      await s.handleEvent(ledger.emitEvents([{ name: 'TradeCreated', payload: { tradeId: 'trd-1', deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120 } }]));
      const delay = store.get('trade-timeout|trd-1')!.dueAt - (D + 120) * 1000; // this utility's keeper margin and stagger
      for (const d of store.pending()) store.reschedule(d.id, now + 3_600_000, 'asleep', {}, now - 1);
      ledger.evaluated.length = 0;
      const window = D + 400;
      await s.handleEvent(ledger.emitEvents([{ name: 'TradeEnergyEscrowed', payload: { tradeId: 'trd-1', energyEscrowWh: 200, taskId: 'trade-trd-1', state: 'EXECUTION', stageDeadline: window } }]));
      expect(store.due(now, 64).map((d) => d.id)).toEqual(['household|trd-1']);
      expect(store.get('trade-timeout|trd-1')).toMatchObject({ state: 'PENDING', dueAt: window * 1000 + delay });
      expect(store.get('trade-timeout|trd-1')!.note).toMatch(/EXECUTION stage window, from the event/);
      expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'stage-window-in-event' })).toBe(1);
      // the final stage's window, later than the execution's: the keeper moves with it
      await s.handleEvent(ledger.emitEvents([{ name: 'TradeStageAdvanced', payload: { tradeId: 'trd-1', state: 'FINAL', decidedBy: 'committee', stageDeadline: window + 300 } }]));
      expect(store.get('trade-timeout|trd-1')).toMatchObject({ state: 'PENDING', dueAt: (window + 300) * 1000 + delay });
      expect(ledger.evaluated.filter((e) => e.fn === 'trades:get')).toEqual([]);
      // a replayed event whose window already passed makes it due now: it reads, finds the trade, and acts or re-plans
      await s.handleEvent(ledger.emitEvents([{ name: 'TradeStageAdvanced', payload: { tradeId: 'trd-1', state: 'FINAL', decidedBy: 'facts', stageDeadline: Math.floor(now / 1000) - 600 } }]));
      expect(store.due(now, 64).map((d) => d.id).sort()).toEqual(['household|trd-1', 'trade-timeout|trd-1']);
    });
  });

  it("household autopilot: only a reading of the trade's delivery interval wakes its duty, which then mints at once", async () => {
    const D = 1_767_300_000;
    let t = trade({ state: 'AWAITING_ENERGY', sellerMeterId: 'm-a', sellerMspId: MSP, buyerMeterId: 'm-x', buyerMspId: 'Utility2MSP', deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120, energyEscrowWh: 0, packets: [] });
    let exported = false;
    const reads: string[] = [];
    ledger.evaluateImpl = async (_id, fn, args) => {
      reads.push(fn);
      if (fn === 'trades:get') return Buffer.from(JSON.stringify(t));
      if (fn === 'meters:getProof') {
        if (!exported) throw chaincodeError('[NOT_FOUND:NO_READING] no reading of meter m-a in that interval');
        return Buffer.from(JSON.stringify({ meterId: 'm-a', intervalStart: D, direction: 'export', wh: 500 }));
      }
      if (fn === 'energy:listByOwner') return Buffer.from(JSON.stringify({ items: [] }));
      throw new Error(`unexpected read ${fn} ${args.join(',')}`);
    };
    const store = new AgentStore(db, KEY);
    const s = make(store);
    s.setSettings('m-a', { autopilot: true });
    now = (D + 61) * 1000; // the interval ended; the seller meter's reading is not recorded yet
    await s.handleEvent(ledger.emitEvents([{ name: 'TradeCreated', payload: { tradeId: t.tradeId, deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120 } }]));
    await s.runOnce();
    expect(store.get(`household|${t.tradeId}`)!.note).toBe("the seller meter's reading of the delivery interval");
    // another interval's reading (e.g. the next trades' meters) wakes nothing: no reads
    reads.length = 0;
    await s.handleEvent(ledger.emitEvents([{ name: 'ReadingRecorded', payload: { mspId: MSP, meterId: 'm-z', intervals: [D + 60] } }]));
    await s.runOnce();
    expect(reads).toEqual([]);
    // its interval's reading: the duty runs now and mints from the proven export
    exported = true;
    await s.handleEvent(ledger.emitEvents([{ name: 'ReadingRecorded', payload: { mspId: MSP, meterId: 'm-a', intervals: [D] } }]));
    await s.runOnce();
    expect(acts()).toEqual([`meter:m-a energy:mint ${JSON.stringify({ intervalStart: D, amountWh: 200, source: 'solar' })}`]);
    // after a restart the pending duty looks at its trade once, so a later reading of its interval wakes it again
    await s.stop();
    t = { ...t };
    const again = make(new AgentStore(db, KEY));
    store.reschedule(`household|${t.tradeId}`, now + 3_600_000, 'far');
    const streams = ledger.streamOptions.length;
    again.start();
    expect(store.get(`household|${t.tradeId}`)!.dueAt).toBe(now);
    for (let i = 0; i < 5000 && ledger.streamOptions.length === streams; i++) await new Promise((r) => setImmediate(r)); // listening: stop() then ends the stream
  });

  it('household autopilot: a committed delivery ends a seller-only duty, and a committed confirmation a buyer\'s, without a re-read', async () => {
    const D = 1_767_300_000;
    const t = trade({ state: 'AWAITING_ENERGY', sellerMeterId: 'm-a', sellerMspId: MSP, buyerMeterId: 'm-x', buyerMspId: 'Utility2MSP', deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120, energyEscrowWh: 0, packets: [] });
    const reads: string[] = [];
    ledger.evaluateImpl = async (_id, fn, args) => {
      reads.push(fn);
      if (fn === 'trades:get') return Buffer.from(JSON.stringify(args[0] === t.tradeId ? t : bought));
      if (fn === 'meters:getProof') return Buffer.from(JSON.stringify({ meterId: args[0], intervalStart: D, direction: args[2], wh: 500 }));
      if (fn === 'energy:listByOwner') return Buffer.from(JSON.stringify({ items: [{ packetId: 'pkt-1', meterId: 'm-a', intervalStart: D, availableWh: 500 }] }));
      throw new Error(`unexpected read ${fn} ${args.join(',')}`);
    };
    // the other direction: a trade whose buyer is m-c (held), in its final stage, evidence not yet given
    const bought = trade({ tradeId: 'trd-2', state: 'FINAL', sellerMeterId: 'm-x', sellerMspId: 'Utility2MSP', buyerMeterId: 'm-c', buyerMspId: MSP, deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120, energyEscrowWh: 200, stageDeadline: D + 700 });
    const store = new AgentStore(db, KEY);
    const s = make(store);
    s.setSettings('m-a', { autopilot: true });
    s.setSettings('m-c', { autopilot: true });
    now = (D + 61) * 1000;
    await s.handleEvent(ledger.emitEvents([{ name: 'TradeCreated', payload: { tradeId: t.tradeId, deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120 } }]));
    await s.handleEvent(ledger.emitEvents([{ name: 'TradeCreated', payload: { tradeId: 'trd-2', deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120 } }]));
    await s.runOnce();
    expect(acts().sort()).toEqual([`meter:m-a trades:deliverEnergy ${t.tradeId} ${JSON.stringify([{ packetId: 'pkt-1', amountWh: 200 }])}`, 'meter:m-c trades:confirmDelivery trd-2 200'].sort());
    expect(store.get(`household|${t.tradeId}`)).toMatchObject({ state: 'DONE', note: "the energy is delivered; the buyer's confirmation is not this gateway's" });
    expect(store.get('household|trd-2')).toMatchObject({ state: 'DONE', note: "the buyer's delivery evidence is recorded" });
    expect(reads.filter((r) => r === 'trades:get')).toHaveLength(2); // one read each, none after its act
  });

  it("household autopilot: a seller's two trades of one interval take turns (read, mint, commit), so the second never simulates against the first's counter or packet", async () => {
    const D = 1_767_300_000;
    const base = { state: 'AWAITING_ENERGY' as const, sellerMeterId: 'm-a', sellerMspId: MSP, buyerMeterId: 'm-x', buyerMspId: 'Utility2MSP', deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120, energyEscrowWh: 0, packets: [] };
    const trades = [trade({ ...base, tradeId: 'trd-one', amountWh: 200 }), trade({ ...base, tradeId: 'trd-two', amountWh: 300 })];
    const log: string[] = [];
    ledger.evaluateImpl = async (_id, fn, args) => {
      if (fn === 'trades:get') return Buffer.from(JSON.stringify(trades.find((t) => t.tradeId === args[0])));
      if (fn === 'meters:getProof') return Buffer.from(JSON.stringify({ meterId: 'm-a', intervalStart: D, direction: 'export', wh: 1000 }));
      if (fn === 'energy:listByOwner') {
        log.push(`read packets after ${ledger.applied.length} acts`);
        await new Promise((r) => setTimeout(r, 5)); // a slow peer: the other duty would run meanwhile
        return Buffer.from(JSON.stringify({ items: [] }));
      }
      throw new Error(`unexpected read ${fn} ${args.join(',')}`);
    };
    const store = new AgentStore(db, KEY);
    const s = make(store);
    s.setSettings('m-a', { autopilot: true });
    now = (D + 61) * 1000;
    await s.handleEvent(ledger.emitEvents(trades.map((t) => ({ name: 'TradeCreated', payload: { tradeId: t.tradeId, deliveryStart: D, deliveryLength: 60, deliveryDeadline: D + 120 } }))));
    await s.runOnce(); // both duties due, run by two workers at once
    expect(acts().map((a) => a.split(' ').slice(0, 2).join(' '))).toEqual(['meter:m-a energy:mint', 'meter:m-a energy:mint']);
    // the second duty read the ledger only once the first had acted (without turns: both read before either acted)
    expect(log).toEqual(['read packets after 0 acts', 'read packets after 1 acts']);
  });

  it('as the slot leader of a trade stage whose facts fail (a lying buyer) it enters, and the entry is its refusal', async () => {
    const t = trade({ state: 'FINAL', meteredWh: 200, buyerDeclaredWh: 100 });
    world.task = task({ kind: 'trade', subjectId: t.tradeId, ballots: [
      { name: 'execution', conditions: ['condition1', 'condition2'], requiresEntry: true },
      { name: 'final', conditions: ['condition3', 'condition4'], requiresEntry: true },
    ] });
    const ballots: Record<string, BallotState> = { execution: ballot('execution', { entryBy: 'p-D', status: 'APPROVED' }), final: { ballot: null, round: 0, votes: [] } };
    const inner = ledger.evaluateImpl;
    ledger.evaluateImpl = async (id, fn, args) => {
      if (fn === 'trades:get') return Buffer.from(JSON.stringify(t));
      if (fn === 'committees:getBallot') return Buffer.from(JSON.stringify(ballots[args[1]!]));
      return inner(id, fn, args);
    };
    const store = new AgentStore(db, KEY);
    const s = make(store);
    now = inSlot(11); // p-A (m-a) leads slot 11
    await s.handleEvent(ledger.emitEvents([{ name: 'CommitteeDrawn', payload: { taskId: 't-1', kind: 'trade', subjectId: t.tradeId, round: 0, committee: world.task.committee, deadlineAt: world.task.deadlineAt } }]));
    await s.runOnce();
    expect(acts()).toEqual(['meter:m-a committees:recordEntries {"taskIds":["t-1"]}']);
    // p-C, not leading, waits for the entry (and then votes no: its own Condition 3 fails)
    expect(store.get('member|t-1|0|m-c')!.note).toBe('this meter leads slot 13');
    ballots.final = ballot('final', { entryBy: 'p-A', slot: 11 });
    ballots.final.votes[0]!.approve = false;
    store.reschedule('member|t-1|0|m-c', 0, 'test');
    store.reschedule('member|t-1|0|m-a', now + 60_000, 'test');
    await s.runOnce();
    const v = ledger.applied.filter((x) => x.fn === 'trades:vote').map((x) => ({ signer: x.signer, vote: JSON.parse(x.args[1]!) }));
    expect(v).toEqual([{ signer: 'meter:m-c', vote: expect.objectContaining({ approve: false, conditions: { condition3: false, condition4: true } }) }]);

    // Woken after its vote, it reads ONCE: task, both ballots and the trade in one committees:getMemberView.
    ballots.final.votes.push({ voter: 'p-C', approve: false, round: 0, ballot: 'final' });
    ledger.evaluated.length = 0;
    store.reschedule('member|t-1|0|m-c', 0, 'test');
    await s.runOnce();
    expect(ledger.evaluated).toEqual([{ signer: 'operator', fn: 'committees:getMemberView', args: ['t-1', 'true'] }]);
    expect(store.get('member|t-1|0|m-c')!.state).toBe('PENDING');
    // f+1 refusals (the entry's and p-C's): p-C decides at its turn, again after one read
    ledger.evaluated.length = 0;
    now = inSlot(11) + 60_000;
    store.reschedule('member|t-1|0|m-c', 0, 'test');
    await s.runOnce();
    // both seats are due by now (m-a's was put at +60 s above): one read each. m-c's last read showed its own
    // vote on the open ballot, so it reads without the trade (withSubject false); m-a's last read was before
    // its entry, so it asks for the facts.
    expect(ledger.evaluated.map((e) => `${e.fn} ${e.args.join(' ')}`).sort()).toEqual(['committees:getMemberView t-1 false', 'committees:getMemberView t-1 true']);
    expect(acts()).toContain(`meter:m-c trades:decide ${t.tradeId}`);
  });

  it('keeper: expires an offer at its expiry as the operator; a keeper of another utility that was first is a lost race', async () => {
    const offer = { offerId: 'o-1', expiresAt: 1_767_300_000, status: 'OPEN' };
    const base = ledger.evaluateImpl;
    ledger.evaluateImpl = async (id, fn, args) => (fn === 'offers:get' ? Buffer.from(JSON.stringify(offer)) : base(id, fn, args));
    const store = new AgentStore(db, KEY);
    const s = make(store);
    await s.handleEvent(ledger.emitEvents([{ name: 'OfferCreated', payload: { offerId: 'o-1', expiresAt: offer.expiresAt } }]));
    expect(store.get('offer-expire|o-1')!.dueAt).toBe(offer.expiresAt * 1000); // margin 0 in this config
    now = offer.expiresAt * 1000 - 5000;
    await s.runOnce();
    expect(acts()).toEqual([]); // not due yet
    now = offer.expiresAt * 1000;
    await s.runOnce();
    expect(acts()).toEqual(['operator offers:expire o-1']);
    // the committed expiry closed the offer for good: over without the read that would only confirm it
    expect(store.get('offer-expire|o-1')).toMatchObject({ state: 'DONE', note: 'offer expired' });
    expect(ledger.evaluated.filter((e) => e.fn === 'offers:get' && e.args[0] === 'o-1')).toHaveLength(1);
    // a second offer: another utility's keeper expired it first
    const other = { ...offer, offerId: 'o-2' };
    ledger.evaluateImpl = async (id, fn, args) => (fn === 'offers:get' ? Buffer.from(JSON.stringify(args[0] === 'o-2' ? other : { ...offer, status: 'EXPIRED' })) : base(id, fn, args));
    await s.handleEvent(ledger.emitEvents([{ name: 'OfferCreated', payload: { offerId: 'o-2', expiresAt: other.expiresAt } }]));
    ledger.script.push({ stage: 'endorse', error: chaincodeError('[CONFLICT] offer o-2 is EXPIRED') });
    await s.runOnce();
    expect(store.get('offer-expire|o-2')).toMatchObject({ state: 'PENDING', attempts: 1 });
    other.status = 'EXPIRED';
    now += 10;
    await s.runOnce();
    expect(store.get('offer-expire|o-2')).toMatchObject({ state: 'DONE', note: 'offer expired' });
    expect(store.get('offer-expire|o-1')).toMatchObject({ state: 'DONE' });
    expect(acts()).toEqual(['operator offers:expire o-1']);
  });

  it("keeper: the seller's own utility expires its offer first; the others stand in backupMs later, unless its OfferClosed ended their duty", async () => {
    const at = 1_767_300_000;
    const open = (offerId: string, sellerMspId?: string) => ({ offerId, expiresAt: at, status: 'OPEN', ...(sellerMspId ? { sellerMspId } : {}) });
    const offers: Record<string, object> = { 'o-own': open('o-own', MSP), 'o-other': open('o-other', 'Utility2MSP'), 'o-down': open('o-down', 'Utility2MSP'), 'o-old': open('o-old') };
    const base = ledger.evaluateImpl;
    /** an offer as offers:get answers it: EXPIRED once an offers:expire of it committed */
    const read = (offerId: string) => (ledger.applied.some((t) => t.fn === 'offers:expire' && t.args[0] === offerId) ? { ...offers[offerId], status: 'EXPIRED' } : offers[offerId]);
    ledger.evaluateImpl = async (id, fn, args) => (fn === 'offers:get' ? Buffer.from(JSON.stringify(read(args[0]!))) : base(id, fn, args));
    const store = new AgentStore(db, KEY);
    const s = make(store, { ...CONFIG, keeper: { ...CONFIG.keeper, backupMs: 20_000 } });
    await s.handleEvent(ledger.emitEvents(Object.values(offers).map((o) => ({ name: 'OfferCreated', payload: o as Record<string, unknown> }))));
    const due = (id: string) => store.get(`offer-expire|${id}`)!.dueAt - at * 1000;
    // its own seller's offer and an offer whose event names no utility (older chaincode): at the margin (0 here)
    expect([due('o-own'), due('o-old'), due('o-other'), due('o-down')]).toEqual([0, 0, 20_000, 20_000]);
    now = at * 1000;
    await s.runOnce();
    expect(acts().sort()).toEqual(['operator offers:expire o-old', 'operator offers:expire o-own']);
    // Utility2's keeper expired o-other in time: its event ends this keeper's duty, nothing read or sent
    ledger.evaluated.length = 0;
    await s.handleEvent(ledger.emitEvents([{ name: 'OfferClosed', payload: { offerId: 'o-other', status: 'EXPIRED', returned: 10, forfeited: 0 } }]));
    now = at * 1000 + 19_999;
    await s.runOnce();
    expect(ledger.evaluated.filter((e) => e.args[0] === 'o-other')).toEqual([]);
    // Utility2's gateway is down: o-down is still open after the backup delay, so this keeper stands in
    now = at * 1000 + 20_000;
    await s.runOnce();
    expect(store.get('offer-expire|o-other')).toMatchObject({ state: 'DONE', note: 'offer expired' });
    expect(acts().sort()).toEqual(['operator offers:expire o-down', 'operator offers:expire o-old', 'operator offers:expire o-own']);
  });

  it('keeper: an accepted or closed offer ends its expiry keeper without a read (an acceptance takes the whole offer)', async () => {
    const store = new AgentStore(db, KEY);
    const s = make(store);
    const at = Math.floor(now / 1000) + 3600;
    for (const id of ['o-1', 'o-2', 'o-3']) await s.handleEvent(ledger.emitEvents([{ name: 'OfferCreated', payload: { offerId: id, expiresAt: at } }]));
    ledger.evaluated.length = 0;
    await s.handleEvent(ledger.emitEvents([{ name: 'OfferAccepted', payload: { offerId: 'o-1', tradeId: 'trd-1' } }]));
    await s.handleEvent(ledger.emitEvents([{ name: 'OfferClosed', payload: { offerId: 'o-2', status: 'WITHDRAWN', returned: 10, forfeited: 0 } }]));
    expect(store.get('offer-expire|o-1')).toMatchObject({ state: 'DONE', note: 'offer accepted' });
    expect(store.get('offer-expire|o-2')).toMatchObject({ state: 'DONE', note: 'offer withdrawn' });
    expect(store.get('offer-expire|o-3')).toMatchObject({ state: 'PENDING', dueAt: at * 1000 }); // untouched
    expect(await counter('gateway_agent_wakeups_skipped_total', { rule: 'offer-closed' })).toBe(2);
    await s.runOnce();
    expect(ledger.evaluated).toEqual([]);
  });

  describe('keeper: folds the score credits of its own participants once they are quiet (score-fold)', () => {
    const QUIET = 60_000; // DEFAULT_FOLD_POLICY: this CONFIG sets none
    /** p-A (meter m-a, held here) on the ledger: its credit summary as participants:get answers it */
    let pa: { participantId: string; mspId: string; zone: string; status: string; pendingCredits: number; oldestCreditAt: number; newestCreditAt: number };
    const credited = (pid: string, credited = true) => ({ name: 'QScoreChanged', payload: { participantId: pid, delta: 1_000_000, reason: 'trade settled', ref: 'trd-1', ...(credited ? { credited: true } : { qScore: 9_000_000 }) } });
    /** a fold committed on the ledger empties p-A's credits (FakeLedger.applied holds only valid transactions) */
    let foldsSeen = 0;
    const sync = () => {
      const n = ledger.applied.filter((t) => t.fn === 'participants:foldScore').length;
      if (n > foldsSeen) pa = { ...pa, pendingCredits: 0, oldestCreditAt: 0, newestCreditAt: 0 };
      foldsSeen = n;
    };
    const earn = (n = 1) => {
      sync();
      const t = Math.floor(now / 1000);
      pa.pendingCredits += n;
      if (!pa.oldestCreditAt) pa.oldestCreditAt = t;
      pa.newestCreditAt = t;
    };
    beforeEach(() => {
      pa = { participantId: 'p-A', mspId: MSP, zone: 'zone-a', status: 'ACTIVE', pendingCredits: 0, oldestCreditAt: 0, newestCreditAt: 0 };
      foldsSeen = 0;
      const base = ledger.evaluateImpl;
      ledger.evaluateImpl = async (id, fn, args) => {
        sync();
        return fn === 'participants:get' && args[0] === 'p-A' ? Buffer.from(JSON.stringify(pa)) : base(id, fn, args);
      };
    });
    const folds = () => acts().filter((a) => a.includes('participants:foldScore'));

    it('a credit of a held participant opens one duty; credits of other utilities\' participants and lowerings open none', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      earn(2);
      await s.handleEvent(ledger.emitEvents([credited('p-A'), credited('p-A'), credited('p-B'), credited('p-C', false)]));
      expect(store.pending().filter((d) => d.kind === 'score-fold').map((d) => [d.id, d.meterId, d.dueAt])).toEqual([['score-fold|p-A', '', now + QUIET]]);
    });

    it('waits while credits keep arriving, folds once quiet as the operator, then ends; the next credit reopens it', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      const t0 = now;
      earn();
      await s.handleEvent(ledger.emitEvents([credited('p-A')]));
      now = t0 + 40_000;
      earn(); // a settlement 40 s later
      await s.handleEvent(ledger.emitEvents([credited('p-A')]));
      now = t0 + QUIET;
      await s.runOnce();
      expect(folds()).toEqual([]); // the newest credit is 20 s old: not quiet yet
      expect(store.get('score-fold|p-A')).toMatchObject({ state: 'PENDING', dueAt: Math.floor((t0 + 40_000) / 1000) * 1000 + QUIET });
      now = store.get('score-fold|p-A')!.dueAt;
      await s.runOnce();
      expect(folds()).toEqual(['operator participants:foldScore p-A']);
      await s.runOnce(); // the re-read: nothing pending
      expect(store.get('score-fold|p-A')).toMatchObject({ state: 'DONE', note: 'no credits pending' });
      expect(store.acts('score-fold|p-A').map((a) => a.act)).toEqual([`score-fold|p-A|${Math.floor((t0 + 40_000) / 1000)}|2`]);

      earn();
      await s.handleEvent(ledger.emitEvents([credited('p-A')]));
      expect(store.get('score-fold|p-A')).toMatchObject({ state: 'PENDING', dueAt: now + QUIET, attempts: 0 });
      now += QUIET;
      await s.runOnce();
      await s.runOnce();
      expect(folds()).toHaveLength(2);
      expect(store.get('score-fold|p-A')).toMatchObject({ state: 'DONE' });
    });

    it("on slots longer than the devnet's it waits two of them (governance:getParameters, read once per ten minutes)", async () => {
      const base = ledger.evaluateImpl;
      ledger.evaluateImpl = async (id, fn, args) => (fn === 'governance:getParameters' ? Buffer.from(JSON.stringify({ slotSeconds: 300 })) : base(id, fn, args));
      const store = new AgentStore(db, KEY);
      const s = make(store);
      const t0 = now;
      earn();
      await s.handleEvent(ledger.emitEvents([credited('p-A')]));
      now = t0 + QUIET;
      await s.runOnce();
      expect(folds()).toEqual([]); // a minute without a credit is not quiet when settlements take two 300 s slots
      expect(store.get('score-fold|p-A')).toMatchObject({ state: 'PENDING', dueAt: Math.floor(t0 / 1000) * 1000 + 600_000 });
      now = store.get('score-fold|p-A')!.dueAt;
      await s.runOnce();
      expect(folds()).toEqual(['operator participants:foldScore p-A']);
      expect(ledger.evaluated.filter((e) => e.fn === 'governance:getParameters')).toHaveLength(1);
    });

    it('lost race: the credits were folded by someone else first (a lowering, a re-stake, the meter): nothing is sent', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      earn(3);
      await s.handleEvent(ledger.emitEvents([credited('p-A')]));
      pa = { ...pa, pendingCredits: 0, oldestCreditAt: 0, newestCreditAt: 0 }; // folded by a penalty in a settlement
      now += QUIET;
      await s.runOnce();
      expect(folds()).toEqual([]);
      expect(store.get('score-fold|p-A')).toMatchObject({ state: 'DONE', note: 'no credits pending' });
    });

    it('a fold invalidated by a credit committed meanwhile (MVCC) is retried on a fresh read: it waits for the new quiet time', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      earn();
      await s.handleEvent(ledger.emitEvents([credited('p-A')]));
      now += QUIET;
      // both tries of the submitter are invalidated (code 11): a settlement crediting p-A committed first
      ledger.script.push({ stage: 'conflict' }, { stage: 'conflict' });
      await s.runOnce();
      expect(ledger.applied).toEqual([]);
      expect(store.get('score-fold|p-A')).toMatchObject({ state: 'PENDING', attempts: 1 });
      earn(); // a settlement committed meanwhile
      now += 10;
      await s.runOnce();
      expect(folds()).toEqual([]); // the re-read sees the new credit: quiet again first
      expect(store.get('score-fold|p-A')!.note).toMatch(/^waits for /);
    });

    it('after a restart the pending duty folds once; a crash after the fold committed sends no second fold', async () => {
      const store = new AgentStore(db, KEY);
      const s = make(store);
      earn(2);
      await s.handleEvent(ledger.emitEvents([credited('p-A')]));
      await s.stop();
      now += QUIET;
      const t = make(new AgentStore(db, KEY));
      await t.runOnce();
      expect(folds()).toEqual(['operator participants:foldScore p-A']);
      // the process dies before it re-reads and ends the duty: the next process finds nothing pending
      await t.stop();
      const u = make(new AgentStore(db, KEY));
      await u.runOnce();
      expect(folds()).toHaveLength(1);
      expect(store.get('score-fold|p-A')).toMatchObject({ state: 'DONE', note: 'no credits pending' });
    });

    it('with the keeper off, no fold duty is opened', async () => {
      const store = new AgentStore(db, KEY);
      const s = new AgentService({ ledger, submitter: new Submitter(ledger, { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 }), store, operator: identity('operator'), meters, logger: silentLogger, metrics: new Metrics(), config: { ...CONFIG, keeper: { ...CONFIG.keeper, enabled: false } }, now: () => now });
      services.push(s);
      earn();
      await s.handleEvent(ledger.emitEvents([credited('p-A')]));
      expect(store.pending().filter((d) => d.kind === 'score-fold')).toEqual([]);
    });
  });

  it('keeper: a task left seeded (its draw found too few eligible members) is drawn again once a member is admitted', async () => {
    world.task = task({ status: 'SEEDED', committee: [] });
    const store = new AgentStore(db, KEY);
    const s = make(store);
    // the beacon completed without a committee (no CommitteeDrawn in that transaction): a draw duty
    await s.handleEvent(ledger.emitEvents([{ name: 'EntropyContributed', payload: { taskId: 't-1', round: 0, mspId: 'Utility2MSP', contributions: 2, quorum: 2 } }]));
    // a beacon that drew its committee in the same transaction needs none; an incomplete one neither
    await s.handleEvent(ledger.emitEvents([
      { name: 'EntropyContributed', payload: { taskId: 't-2', round: 0, mspId: 'Utility2MSP', contributions: 2, quorum: 2 } },
      { name: 'CommitteeDrawn', payload: { taskId: 't-2', kind: 'admission', subjectId: 'p-x#1', round: 0, committee: ['p-B', 'p-D', 'p-E', 'p-F'], deadlineAt: world.task.deadlineAt } },
    ]));
    await s.handleEvent(ledger.emitEvents([{ name: 'EntropyContributed', payload: { taskId: 't-3', round: 0, mspId: 'Utility2MSP', contributions: 1, quorum: 2 } }]));
    expect(new AgentStore(db, KEY).pending().filter((d) => d.kind === 'task-draw').map((d) => d.id)).toEqual(['task-draw|t-1|0']);

    // still too few eligible: the chaincode refuses the draw; that is a wait, not a failure
    ledger.script.push({ stage: 'endorse', error: chaincodeError('[PRECONDITION_FAILED:TOO_FEW_ELIGIBLE] task t-1: only 3 of 4 eligible members found') });
    await s.runOnce();
    expect(acts()).toEqual([]);
    expect(store.get('task-draw|t-1|0')).toMatchObject({ state: 'PENDING', attempts: 0, dueAt: now + SEEDED_RETRY_MS });
    expect(store.get('task-draw|t-1|0')!.note).toMatch(/^seeded: .*only 3 of 4/);
    // an admission wakes it at once; the draw commits, the re-read shows the committee, the duty ends
    await s.handleEvent(ledger.emitEvents([{ name: 'ParticipantAdmitted', payload: { participantId: 'p-E' } }]));
    expect(store.get('task-draw|t-1|0')!.dueAt).toBe(now);
    ledger.result = (tx) => {
      if (tx.fn === 'committees:draw') world.task = task();
      return { ok: true };
    };
    await s.runOnce();
    expect(acts()).toEqual(['operator committees:draw t-1']);
    await s.runOnce();
    expect(store.get('task-draw|t-1|0')).toMatchObject({ state: 'DONE', note: 'committee drawn' });
  });

  it('auction autopilot: keeps the secrets of a held meter only, reveals at t1 and claims the award, never logging the secrets', async () => {
    const a: { requestId: string; t1: number; t2: number; claimDeadline: number; status: string; winnerOfferId?: string; sellerClaim?: { participantId: string } } = {
      requestId: 'r-1', t1: 1_767_300_000, t2: 1_767_300_060, claimDeadline: 1_767_300_120, status: 'OPEN',
    };
    const base = ledger.evaluateImpl;
    ledger.evaluateImpl = async (id, fn, args) => (fn === 'auctions:get' ? Buffer.from(JSON.stringify(a)) : base(id, fn, args));
    const lines: string[] = [];
    const logger = (await import('pino')).default({ level: 'debug' }, { write: (l: string) => lines.push(l) });
    const store = new AgentStore(db, KEY);
    const s = new AgentService({ ledger, submitter: new Submitter(ledger, { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 }), store, operator: identity('operator'), meters, logger, metrics: new Metrics(), config: CONFIG, now: () => now });
    services.push(s);
    const secret = { meterId: 'm-a', requestId: 'r-1', role: 'seller' as const, secret: 'identity-secret-of-m-a', offerId: 'o-1', pricePerKwh: 180, salt: 'salt-of-the-bid-1234' };
    expect(() => s.storeAuctionSecret({ ...secret, meterId: 'm-foreign' })).toThrow(NotHeldError);
    expect(s.storeAuctionSecret(secret)).toBe('stored');
    expect(s.storeAuctionSecret(secret)).toBe('same');
    expect(s.storeAuctionSecret({ ...secret, salt: 'another-salt-entirely' })).toBe('different');
    // the autopilot is a per-meter policy: off, nothing happens
    now = a.t1 * 1000 + 1000;
    await s.runOnce();
    expect(acts()).toEqual([]);
    expect(store.get('auction|r-1|seller|m-a')!.note).toBe('autopilot off for this meter');
    s.setSettings('m-a', { autopilot: true });
    store.reschedule('auction|r-1|seller|m-a', 0, 'test');
    await s.runOnce();
    expect(acts()).toEqual(['meter:m-a auctions:reveal r-1 o-1 {"pricePerKwh":180,"salt":"salt-of-the-bid-1234"}']);
    await s.runOnce(); // re-read: revealed, waits for t2
    expect(store.get('auction|r-1|seller|m-a')).toMatchObject({ state: 'PENDING', dueAt: a.t2 * 1000 });
    // closed and awarded to this bid: an AuctionClosed event wakes it, it claims with its identity secret
    a.status = 'AWARDED';
    a.winnerOfferId = 'o-1';
    now = a.t2 * 1000 + 5000;
    await s.handleEvent(ledger.emitEvents([{ name: 'AuctionClosed', payload: { requestId: 'r-1', status: 'AWARDED', winnerOfferId: 'o-1' } }]));
    await s.runOnce();
    expect(acts()[1]).toBe('meter:m-a auctions:claimSeller r-1 identity-secret-of-m-a');
    a.status = 'TRADED';
    await s.runOnce();
    expect(store.get('auction|r-1|seller|m-a')).toMatchObject({ state: 'DONE', note: 'auction TRADED' });
    // never in a log line
    expect(lines.join('\n')).not.toMatch(/identity-secret-of-m-a|salt-of-the-bid/);
    expect(lines.some((l) => l.includes('auction secrets kept'))).toBe(true);
  });

  it('auction autopilot after a restart: the sealed secrets open with the same wallet key and the reveal goes out; another key is refused by name', async () => {
    const a = { requestId: 'r-1', t1: 1_767_300_000, t2: 1_767_300_060, claimDeadline: 1_767_300_120, status: 'OPEN' };
    const base = ledger.evaluateImpl;
    ledger.evaluateImpl = async (id, fn, args) => (fn === 'auctions:get' ? Buffer.from(JSON.stringify(a)) : base(id, fn, args));
    const before = make();
    before.setSettings('m-a', { autopilot: true });
    expect(before.storeAuctionSecret({ meterId: 'm-a', requestId: 'r-1', role: 'seller', secret: 'identity-secret-of-m-a', offerId: 'o-1', pricePerKwh: 180, salt: 'salt-of-the-bid-1234' })).toBe('stored');
    await before.stop();
    db.close();

    // a gateway started with another wallet key: the duty fails with the key named, and nothing is revealed
    db = openDatabase(dir);
    now = a.t1 * 1000 + 1000;
    const wrong = make(new AgentStore(db, Buffer.alloc(32, 9)));
    await wrong.runOnce();
    expect(acts()).toEqual([]);
    expect(new AgentStore(db, KEY).get('auction|r-1|seller|m-a')!.lastError).toBe('cannot decrypt auction secrets: wrong GATEWAY_WALLET_KEY or tampered data');
    await wrong.stop();

    // the same key: the reveal goes out with the price and salt handed over before the restart
    const after = make();
    new AgentStore(db, KEY).reschedule('auction|r-1|seller|m-a', 0, 'test');
    await after.runOnce();
    expect(acts()).toEqual(['meter:m-a auctions:reveal r-1 o-1 {"pricePerKwh":180,"salt":"salt-of-the-bid-1234"}']);
  });

  it('REST: POST /agents/{meterId}/auction-secrets answers what was kept, never the secrets; a mismatch is a 4xx', async () => {
    const store = new AgentStore(db, KEY);
    const s = make(store);
    const h = agentHandlers({ agents: s, store, meters: { get: (id: string) => (id === 'm-a' ? ({ status: 'ACTIVE' } as never) : undefined) } });
    const call = (meterId: string, body: unknown) => h.putAuctionSecrets!({ params: { meterId }, body } as unknown as HandlerContext);
    const body = { meterId: 'm-a', requestId: 'r-1', role: 'buyer', secret: 'identity-secret-of-m-a' };
    const r = await call('m-a', body);
    expect(r).toEqual({ status: 201, body: { meterId: 'm-a', requestId: 'r-1', role: 'buyer', stored: true } });
    expect(JSON.stringify(r)).not.toContain('identity-secret');
    expect((await call('m-a', body)).body).toMatchObject({ stored: false });
    await expect(call('m-a', { ...body, secret: 'another-identity-secret' })).rejects.toMatchObject({ status: 409 });
    await expect(call('m-a', { ...body, meterId: 'm-c' })).rejects.toMatchObject({ status: 400 });
    await expect(call('m-a', { ...body, role: 'seller' })).rejects.toMatchObject({ status: 400 }); // a seller's bid is missing
    await expect(call('m-b', { ...body, meterId: 'm-b' })).rejects.toMatchObject({ status: 404 }); // not held here
    expect(store.pending().filter((d) => d.kind === 'auction').map((d) => d.id)).toEqual(['auction|r-1|buyer|m-a']);
  });

  it('the follower resumes from its checkpoint after a restart and does not add duties twice', async () => {
    const s = make();
    s.start();
    ledger.emitEvents(drawn());
    const store = new AgentStore(db, KEY);
    for (let i = 0; i < 5000 && !store.checkpoint(); i++) await new Promise((r) => setImmediate(r));
    await s.stop();
    expect(store.checkpoint()).toEqual({ block: 1, txId: 'evtx1' });
    const t = make();
    t.start();
    ledger.emitEvents([{ name: 'OfferCreated', payload: { offerId: 'o-1', expiresAt: 2_000_000_000 } }]);
    for (let i = 0; i < 5000 && store.checkpoint()!.block < 2; i++) await new Promise((r) => setImmediate(r));
    await t.stop();
    expect(ledger.streamOptions.at(-1)).toEqual({ startBlock: 1, afterTxId: 'evtx1' });
    expect(store.pending().map((d) => d.id).sort()).toContain('offer-expire|o-1');
  });
});
