import type { Logger } from 'pino';
import { parseResult } from '../delivery/worker';
import { EVENTS, mapLimit, MAX_BLOCK_ENTRIES, taskIdFor, TRADE_TASK_KIND, unpackEvents } from '@gridledger/protocol';
import { LedgerError, normalizeLedgerError } from '../fabric/errors';
import type { ActingIdentity, EventStream, LedgerClient, LedgerEvent } from '../fabric/ledger';
import type { Submitter } from '../fabric/submitter';
import { blockBatches } from '../events/batches';
import type { Metrics } from '../ops/metrics';
import type { AgentSettings, Behaviour } from './behaviour';
import { ARRIVAL_WINDOW_MS, blockHold, blockMarginMs, nextMemberStep, nextEntryImminent, currentBallot, decideGapMs, decideTurn, decisionClosesTask, entryBlock, needsOwnCheck, quorumTime, tallyOf, voteWakeup, type EntryCandidate, type MemberStep, type OpenBallotTally } from './duties/committee';
import { leaderAt, slotStartAt } from './duties/slots';
import { admissionConditions, entryApproves, executionConditions, finalConditions } from './duties/conditions';
import { nextHouseholdStep, TERMINAL_TRADE_STATES, type HouseholdInput } from './duties/household';
import { auctionClosePlan, auctionExpirePlan, DEFAULT_KEEPER_BACKUP_MS, drawPlan, foldPlan, foldPolicyFor, indexSyncPlan, KEEPER_FN, KEEPER_READ, keeperDelayMs, offerPlan, redrawPlan, SEEDED_RETRY_MS, tradePlan, type FoldPolicy, type KeeperKind, type KeeperPlan } from './duties/keeper';
import type { AuctionView, BallotState, MemberViewState, OfferView, PacketView, ParticipantView, TaskView, TradeView, Verdict } from './duties/types';
import { AGENTS_CHECKPOINT, type AgentStore, type AuctionSecret, type Duty, type DutyChange, type DutyInput } from './store';
import { nextAuctionStep } from './duties/auction';

/** The meters whose keys this gateway holds (the wallet), and the identity to sign with for one. */
export interface MeterKeys {
  activeMeters(): Array<{ meterId: string; mspId: string }>;
  /** One held meter by id (a keyed read: the agents check it on every act, so it must not scan all meters). */
  activeMeter(meterId: string): { meterId: string; mspId: string } | undefined;
  actingIdentity(meterId: string): ActingIdentity;
}

export interface AgentsConfig {
  enabled: boolean;
  /** block to start from when there is no checkpoint yet (0 = the whole chain) */
  startBlock: number;
  reconnectMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** a duty that failed this many times in a row is given up (logged, counted, listed as failed) */
  maxAttempts: number;
  /** how many duties run at once */
  concurrency: number;
  /**
   * `backupMs`: how much later than an offer's own utility the others' keepers stand in (duties/keeper.ts
   * `keeperDelayMs`; DEFAULT_KEEPER_BACKUP_MS where absent). `fold`: when `score-fold` folds a participant's
   * score credits (duties/keeper.ts `foldPlan`); what is unset follows the ledger's slot length (`foldPolicyFor`).
   */
  keeper: { enabled: boolean; marginMs: number; staggerMs: number; backupMs?: number; fold?: Partial<FoldPolicy> };
  /** settings of a meter the operator did not set through the API */
  defaults: AgentSettings;
  /** per-meter settings from the configuration (the API overrides them) */
  meters: Record<string, Partial<AgentSettings>>;
}

export interface AgentOptions {
  ledger: LedgerClient;
  submitter: Pick<Submitter, 'submit'>;
  store: AgentStore;
  operator: ActingIdentity;
  meters: MeterKeys;
  logger: Logger;
  metrics: Metrics;
  config: AgentsConfig;
  now?: () => number;
}

export class NotHeldError extends Error {}

/** A member duty's next step on fresh reads, with what acting on it needs. */
interface MemberView {
  id: ActingIdentity;
  task: TaskView;
  /** the contract's subject argument (participant id of an admission, trade id) */
  subjectArg: string;
  step: MemberStep;
  /** the ballots read (what `perform` needs to time a decide) and this member's participant id */
  ballots: Record<string, BallotState>;
  me: string;
  /** the task's next ballot is about to open for an entry (`nextEntryImminent`; only computed for a task this meter leads now) */
  imminent?: boolean;
}

/** How many recent commit latencies the decide gap is derived from. */
const COMMIT_SAMPLES = 50;

/** How long the slot length behind the score-fold policy is trusted before it is read again (`foldPolicy`). */
const FOLD_PARAMS_TTL_MS = 600_000;

/**
 * After a member's act committed, the event it emitted (LeaderEntryRecorded, VoteRecorded, BallotDecided)
 * wakes the duty, so it does not re-read at once; it re-reads by itself after this long (or at the round's
 * deadline, if sooner) only if no event woke it meanwhile.
 */
export const MEMBER_BACKSTOP_MS = 60_000;

type ActOutcome = 'acted' | 'lost-race' | 'refused' | 'retry' | 'failed';

/**
 * The agents of this utility's meters (issue 17; docs/agents.md): ONE checkpointed follower of the
 * chaincode events for all of them, a duty scheduler that wakes on events and on ledger-derived times
 * (slot starts, deadlines), and an executor that re-reads the ledger, decides with the pure functions in
 * `duties/`, and submits through the gateway's Submitter (MVCC conflicts and transient failures retried,
 * a new tx id each time).
 *
 * Exactly once: the duty rows and the checkpoint move together (SQLite transaction), and before every act
 * the duty reads the ledger, which shows an act that committed even if its record did not survive a crash;
 * the chaincode refuses a second vote/entry (CONFLICT), which therefore counts as a lost race, not an error.
 */
export class AgentService {
  private stopped = true;
  private stream: EventStream | undefined;
  private listening: Promise<void> | undefined;
  private working: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** duty id → when its current run started (an event after that keeps it due) */
  private readonly running = new Map<string, number>();
  /** (meter|slot) where an entry was refused by Condition 2 before the agent saw the other entry's event */
  private readonly refusedSlots = new Set<string>();
  /** (meter|slot) of the leader blocks this process made or found made (Condition 2: one per slot) */
  private readonly madeBlocks = new Set<string>();
  /** (meter|slot) -> the block being made now: other duties of that meter and slot wait for it */
  private readonly blocks = new Map<string, Promise<void>>();
  /** key → the last step queued in turn under it (`inTurn`): one meter's household steps run one at a time */
  private readonly turns = new Map<string, Promise<void>>();
  /**
   * Trades without a committee yet → when their delivery interval ends (ms), from TradeCreated until their
   * committee is drawn or they close: what a slot leader may hold its block for (`blockHold`). In memory:
   * after a restart only trades created since are known, and the leaders then hold less (never longer).
   */
  private readonly arriving = new Map<string, number>();
  /** (meter|slot) → when the meter first had a ballot to enter in that slot (ms): the hold is bounded from it */
  private readonly readySince = new Map<string, number>();
  /**
   * tradeId → its delivery interval's start, for open trades (TradeCreated, or the household duty's own read
   * after a restart): a reading of that interval wakes the trade's household duty, and no other's.
   */
  private readonly tradeIntervals = new Map<string, number>();
  /**
   * tradeId → its party meters and whether the buyer's is held here, for open trades (TradeCreated when it
   * names them, or the household duty's own read): only readings of those meters can move its household
   * duty, and once the energy is escrowed only a buyer held here has a step left (docs/agents.md §1).
   */
  private readonly tradeParties = new Map<string, { sellerMeterId: string; buyerMeterId: string; buyerHeld: boolean }>();
  /**
   * duty id → the block hold it waits out. One held for arriving trades is woken once, when none is arriving
   * any more (`forArrivals` then cleared); one held only for its own tasks' next ballots is woken by those
   * tasks (the first to be ready makes the block) or at the hold's limit.
   */
  private readonly holding = new Map<string, { slotKey: string; subject: string; untilMs: number; forArrivals: boolean }>();
  /** the last COMMIT_SAMPLES commit latencies (ms, submit → committed) of this gateway's acts: the decide gap is derived from them */
  private readonly commitMs: number[] = [];
  /** the last COMMIT_SAMPLES times (ms) from a ballot's quorum (ledger time) to this gateway's turn-0 decide committed */
  private readonly turn0DecideMs: number[] = [];
  /**
   * member duty id → the open ballot as its last read showed it, kept current by the vote events: a vote
   * that leaves the step unchanged wakes nothing (`voteWakeup`). In memory: empty after a restart (then
   * every event wakes the duty and it reads).
   */
  private readonly tallies = new Map<string, OpenBallotTally>();
  /**
   * member duties whose last read showed the open ballot voted on by this member or at its quorum, so their
   * step is decide-at-its-turn or wait whatever the facts (`needsOwnCheck`): they read without the subject
   * (`withSubject` false). Dropped by anything that may open another ballot (every wake-up but a vote's).
   */
  private readonly factsDone = new Set<string>();
  /** member duty id → the task as its last read showed it (its round's slot schedule: whether the meter leads now) */
  private readonly lastTasks = new Map<string, TaskView>();
  /** taskId → its ballots' names in order, fixed when it opened: whether an approved ballot closes it (`decisionClosesTask`) */
  private readonly taskBallots = new Map<string, string[]>();
  /**
   * taskId → the sequence number of the last event naming it that this process handled (`eventSeq` counts
   * them all). A read keeps its tally only if no event of its task came while it was in flight: a tally read
   * before a vote and stored after that vote's event would miss the vote. Pruned wholesale when large
   * (`prunedAt`: reads started before the pruning keep no tally).
   */
  private readonly taskEvents = new Map<string, number>();
  private eventSeq = 0;
  private prunedAt = 0;
  private readonly now: () => number;
  private readonly keeperDelay: number;
  /** the fold policy in force and when the slot length behind it was read (`foldPolicy`) */
  private fold: { policy: FoldPolicy; readAtMs?: number };

  constructor(private readonly o: AgentOptions) {
    this.now = o.now ?? Date.now;
    this.keeperDelay = keeperDelayMs(o.operator.mspId, o.config.keeper.marginMs, o.config.keeper.staggerMs);
    this.fold = { policy: foldPolicyFor(undefined, o.config.keeper.fold) };
  }

  /** A meter's effective settings: API-set, else configured per meter, else the defaults. */
  settings(meterId: string): AgentSettings {
    const configured = { ...this.o.config.defaults, ...(this.o.config.meters[meterId] ?? {}) };
    return this.o.store.settings(meterId, configured);
  }

  setSettings(meterId: string, s: { behaviour?: Behaviour; autopilot?: boolean }): AgentSettings {
    this.identityFor(meterId); // only meters this gateway holds
    const configured = { ...this.o.config.defaults, ...(this.o.config.meters[meterId] ?? {}) };
    const next = this.o.store.setSettings(meterId, s, configured);
    if (next.behaviour !== 'silent' && this.o.store.reopenForMeter(meterId)) this.kick();
    this.o.logger.info({ meterId, ...next }, 'agent settings changed');
    return next;
  }

  /**
   * The identity an agent signs with: only a meter whose key this gateway holds, of this gateway's own
   * utility. Anything else is refused here (and the chaincode would refuse it too).
   */
  identityFor(meterId: string): ActingIdentity {
    const held = this.o.meters.activeMeter(meterId);
    if (!held || held.mspId !== this.o.operator.mspId) throw new NotHeldError(`meter ${meterId} is not held by this gateway (${this.o.operator.mspId})`);
    const id = this.o.meters.actingIdentity(meterId);
    if (id.mspId !== this.o.operator.mspId) throw new NotHeldError(`meter ${meterId} belongs to ${id.mspId}, not ${this.o.operator.mspId}`);
    return id;
  }

  /** Learns the participant id of every held meter not known yet (`participants:whoAmI`). */
  async refreshMeters(): Promise<Map<string, string>> {
    for (const m of this.o.meters.activeMeters()) {
      if (m.mspId !== this.o.operator.mspId || this.o.store.participantOf(m.meterId)) continue;
      try {
        const me = await this.read<{ participantId?: unknown } | null>('participants:whoAmI', [], this.identityFor(m.meterId));
        if (typeof me?.participantId === 'string') this.o.store.setParticipant(m.meterId, me.participantId);
      } catch (e) {
        this.o.logger.warn({ meterId: m.meterId, err: (e as Error).message }, 'could not learn the participant id of a meter');
      }
    }
    return this.o.store.meterByParticipant();
  }

  /**
   * Takes a held meter's sealed-bid secrets for one auction (its own client made the commitments): the
   * auction autopilot reveals and claims with them. Returns whether they were new; different secrets for
   * the same (meter, auction, role) are refused (a commitment opens with one secret only).
   */
  storeAuctionSecret(s: AuctionSecret): 'stored' | 'same' | 'different' {
    this.identityFor(s.meterId); // only meters this gateway holds
    const out = this.o.store.putAuctionSecret(s, this.now());
    if (out === 'stored') {
      this.o.logger.info({ meterId: s.meterId, requestId: s.requestId, role: s.role }, 'auction secrets kept for the autopilot'); // never the secrets
      this.kick();
    }
    return out;
  }

  // ---------------------------------------------------------------- events → duties

  /** Turns one chaincode event into new and woken duties, recorded with the checkpoint in one SQLite transaction. */
  async handleEvent(ev: LedgerEvent): Promise<{ added: number; woken: number }> {
    return this.handleEvents([ev]);
  }

  /**
   * Turns a batch of chaincode events (one block's, events/batches.ts) into new and woken duties, recorded
   * with the checkpoint past the batch's last event in ONE SQLite transaction (AgentStore.advanceBatch: each
   * event's changes applied in ledger order, as one event at a time did, then the checkpoint). A crash
   * before the commit loses the whole batch and its checkpoint together: the events are read again.
   */
  async handleEvents(evs: LedgerEvent[]): Promise<{ added: number; woken: number }> {
    const last = evs.at(-1);
    if (!last) return { added: 0, woken: 0 };
    const now = this.now();
    const changes: DutyChange[] = [];
    for (const ev of evs) changes.push(await this.changeOf(ev, now));
    const r = this.o.store.advanceBatch({ block: last.blockNumber, txId: last.txId }, changes, now);
    for (const c of changes) for (const f of c.finish ?? []) this.o.metrics.agentDuties.inc({ kind: f.id.split('|')[0]!, outcome: 'done' });
    if (r.added) this.o.logger.info({ block: last.blockNumber, txId: last.txId, duties: changes.flatMap((c) => c.add.map((d) => d.id)) }, 'agent duties due');
    if (r.added || r.woken) this.kick();
    return r;
  }

  /** What one chaincode event changes in the duties (and in this process's memory of arriving trades and holds). */
  private async changeOf(ev: LedgerEvent, now: number): Promise<DutyChange> {
    const events = unpackEvents(ev);
    const add: DutyInput[] = [];
    const wake: string[] = [];
    /** subjects (tasks) whose member duties only are due now */
    const wakeMembers: string[] = [];
    const wakeKinds: Array<'task-draw'> = [];
    /** duties woken by id: the household duties of the trades a reading's interval concerns */
    const wakeIds: string[] = [];
    /** tasks whose committee was drawn in this transaction: their beacon's completion needs no keeper */
    const drawnNow = new Set<string>();
    const seeded: DutyInput[] = [];
    const entries: Array<{ leader: string; slot: number; taskId: string; ballot: string }> = [];
    /** duties the event shows over (docs/agents.md §1 "Wake-ups"): ended without a read */
    const finish: Array<{ id: string; note: string }> = [];
    /** duties the event gives their next due time (a trade's stage window for its timeout keeper) */
    const defer: Array<{ id: string; dueAt: number; note: string }> = [];
    const keeper = this.o.config.keeper.enabled;
    const later = (ms: number) => ms + this.keeperDelay;
    let local: Map<string, string> | undefined;
    for (const { name, payload: p } of events) {
      const named = typeof p.taskId === 'string' ? p.taskId : typeof p.tradeId === 'string' ? taskIdFor(TRADE_TASK_KIND, p.tradeId) : undefined;
      if (named) {
        if (this.taskEvents.size >= 10_000) {
          this.taskEvents.clear();
          this.prunedAt = this.eventSeq + 1;
        }
        this.taskEvents.set(named, ++this.eventSeq);
      }
      const s = (k: string) => (typeof p[k] === 'string' ? p[k] : undefined);
      const n = (k: string) => (typeof p[k] === 'number' ? p[k] : undefined);
      switch (name) {
        case EVENTS.committeeDrawn: {
          const taskId = s('taskId');
          const round = n('round');
          if (s('kind') === TRADE_TASK_KIND && s('subjectId')) this.arriving.delete(s('subjectId')!);
          if (!taskId || round === undefined || !Array.isArray(p.committee)) break;
          local ??= await this.refreshMeters();
          for (const pid of p.committee as string[]) {
            const meterId = local.get(pid);
            if (meterId) add.push({ id: `member|${taskId}|${round}|${meterId}`, kind: 'member', meterId, subject: taskId, round, dueAt: now });
          }
          drawnNow.add(`${taskId}|${round}`);
          const deadline = n('deadlineAt');
          if (keeper && deadline !== undefined) add.push({ id: `task-redraw|${taskId}|${round}`, kind: 'task-redraw', meterId: '', subject: taskId, round, dueAt: later((deadline + 1) * 1000) });
          // What the draw ends needs no read: the earlier rounds' member duties and redraw keeper (their round
          // is replaced) and the task's draw keeper (drawn). The new round's redraw keeper sleeps until its
          // deadline and its member duties are due now; one already pending (this event replayed after a
          // restart) is woken to read, as before.
          for (const d of this.o.store.pendingOf(taskId)) {
            if (this.running.has(d.id)) wakeIds.push(d.id);
            else if (d.kind === 'task-draw' || (d.round < round && (d.kind === 'member' || d.kind === 'task-redraw'))) {
              finish.push({ id: d.id, note: d.kind === 'task-draw' ? 'committee drawn' : `round ${d.round} replaced by round ${round}` });
              this.forget(d.id);
              this.o.metrics.agentWakeupsSkipped.inc({ rule: 'committee-drawn' });
            } else if (d.kind === 'member') wakeIds.push(d.id);
          }
          break;
        }
        case EVENTS.entropyContributed: {
          // The beacon is complete: the draw ran in this transaction. If it drew no committee the task stays
          // seeded (too few eligible members, or CUSTODIAN_CAP) and a keeper retries committees:draw.
          const taskId = s('taskId');
          const round = n('round');
          const got = n('contributions');
          const quorum = n('quorum');
          if (keeper && taskId && round !== undefined && got !== undefined && quorum !== undefined && got >= quorum) {
            seeded.push({ id: `task-draw|${taskId}|${round}`, kind: 'task-draw', meterId: '', subject: taskId, round, dueAt: later(now) });
          }
          break;
        }
        case EVENTS.participantAdmitted:
        case EVENTS.participantReinstated:
          wakeKinds.push('task-draw'); // one more eligible member: a seeded task's draw may succeed now
          break;
        case EVENTS.leaderEntryRecorded: {
          const taskId = s('taskId');
          const leader = s('leader');
          const ballot = s('ballot');
          const slot = Number(p.slot);
          if (taskId && leader && ballot && Number.isSafeInteger(slot)) entries.push({ leader, slot, taskId, ballot });
          if (taskId) wakeMembers.push(taskId);
          break;
        }
        case EVENTS.voteRecorded: {
          // A vote changes what the members may do (quorum, decide turn), never the round's deadline, which
          // the draw fixed: the task's keeper (task-redraw) sleeps until then (docs/agents.md §3). A member
          // that voted and whose ballot has no quorum yet stays asleep: its step cannot change (`voteWakeup`).
          const taskId = s('taskId');
          if (!taskId) break;
          const ballot = s('ballot');
          const round = n('round');
          const voter = s('voter');
          if (ballot === undefined || round === undefined || voter === undefined || typeof p.approve !== 'boolean') {
            wakeMembers.push(taskId);
            break;
          }
          for (const d of this.o.store.pendingOf(taskId, 'member')) {
            // a duty reading now may have read before this vote: it is woken (and its tally dropped)
            const w = this.running.has(d.id) ? undefined : voteWakeup(this.tallies.get(d.id), { round, ballot, voter, approve: p.approve });
            const known = this.lastTasks.get(d.id);
            const me = this.o.store.participantOf(d.meterId);
            if (w?.skip) {
              this.tallies.set(d.id, w.tally);
              this.o.metrics.agentWakeupsSkipped.inc({ rule: 'voted-no-quorum' });
            } else if (w?.quorum && known?.round === round && me && leaderAt(known, Math.floor(now / 1000)).leader !== me) {
              // The quorum starts the decide turns, led by the leader of the quorum's slot — the slot now, but
              // for a vote that crossed a slot boundary on its way. A member that does not lead this slot
              // cannot be first: it sleeps one decide gap (the earliest a second turn comes) and then reads,
              // unless the decision's event ends it first; a read now would only have told it to wait. The
              // leader of this slot is woken and reads at once. If the quorum fell in the previous slot, its
              // leader decides one gap later than it would have (after its read then), never not at all.
              this.tallies.delete(d.id);
              defer.push({ id: d.id, dueAt: now + this.decideGapMs(), note: `ballot "${ballot}" has its quorum; this member decides at its turn unless another did` });
              this.o.metrics.agentWakeupsSkipped.inc({ rule: 'quorum-not-first' });
            } else {
              this.tallies.delete(d.id);
              wakeIds.push(d.id);
            }
          }
          break;
        }
        case EVENTS.ballotDecided: {
          // A decision that closes the task (a refusal, or its last ballot approved) ends its member duties
          // and its redraw keeper of that round: a read would only find the task closed.
          const taskId = s('taskId');
          if (!taskId) break;
          const round = n('round');
          const ballot = s('ballot');
          const known = this.taskBallots.get(taskId);
          if (round === undefined || ballot === undefined || !decisionClosesTask(s('outcome'), ballot, known)) {
            // A decision that opens the next ballot (a trade's execution stage approved) changes what the members
            // may do, not the round's deadline: the task's keeper would read only to sleep until it again. Whether
            // it is the last ballot is known from a read in this process; unknown, everything is woken.
            if (round !== undefined && ballot !== undefined && known !== undefined && s('outcome') === 'APPROVED') {
              wakeMembers.push(taskId);
              if (this.o.store.pendingOf(taskId, 'task-redraw').length) this.o.metrics.agentWakeupsSkipped.inc({ rule: 'decision-keeps-deadline' });
            } else wake.push(taskId);
            break;
          }
          wake.push(taskId);
          for (const d of this.o.store.pendingOf(taskId)) {
            if (d.round !== round || (d.kind !== 'member' && d.kind !== 'task-redraw') || this.running.has(d.id)) continue;
            finish.push({ id: d.id, note: `task closed: ballot "${ballot}" ${s('outcome')}` });
            this.forget(d.id);
            this.o.metrics.agentWakeupsSkipped.inc({ rule: 'task-closed' });
          }
          this.taskBallots.delete(taskId);
          break;
        }
        case EVENTS.taskCancelled:
        case EVENTS.taskOpened: {
          const taskId = s('taskId');
          if (taskId) wake.push(taskId);
          if (taskId && name === EVENTS.taskCancelled) this.taskBallots.delete(taskId);
          break;
        }
        case EVENTS.tradeCreated: {
          const tradeId = s('tradeId');
          const deadline = n('deliveryDeadline');
          const start = n('deliveryStart');
          const length = n('deliveryLength');
          if (tradeId && start !== undefined && length !== undefined) this.arriving.set(tradeId, (start + length) * 1000);
          if (tradeId && start !== undefined) this.tradeIntervals.set(tradeId, start);
          // The autopilot looks at the trade when its delivery interval starts. The event names the parties'
          // meters (chaincode settlement.ts createTrade): a trade of no meter this gateway holds gets no duty,
          // whose first read would only find that out. An event without them (older chaincode): the duty reads.
          const partiesNamed = typeof p.sellerMeterId === 'string' && typeof p.buyerMeterId === 'string';
          const buyerHeld = partiesNamed && this.heldMeter(p.buyerMeterId as string, s('buyerMspId'));
          const ours = !partiesNamed || buyerHeld || this.heldMeter(p.sellerMeterId as string, s('sellerMspId'));
          if (tradeId && partiesNamed && ours) this.tradeParties.set(tradeId, { sellerMeterId: p.sellerMeterId as string, buyerMeterId: p.buyerMeterId as string, buyerHeld });
          if (tradeId && start !== undefined && ours) add.push({ id: `household|${tradeId}`, kind: 'household', meterId: '', subject: tradeId, round: 0, dueAt: Math.max(now, start * 1000) });
          else if (tradeId && start !== undefined) this.o.metrics.agentWakeupsSkipped.inc({ rule: 'trade-not-ours' });
          if (keeper && tradeId && deadline !== undefined) add.push({ id: `trade-timeout|${tradeId}`, kind: 'trade-timeout', meterId: '', subject: tradeId, round: 0, dueAt: later(deadline * 1000) });
          break;
        }
        case EVENTS.tradeEnergyEscrowed:
        case EVENTS.tradeDeliveryEvidenced:
        case EVENTS.tradeStageAdvanced:
        case EVENTS.tradeClosed: {
          const tradeId = s('tradeId');
          if (name === EVENTS.tradeClosed && tradeId) {
            this.arriving.delete(tradeId);
            this.tradeIntervals.delete(tradeId);
            this.tradeParties.delete(tradeId);
          }
          // trade events name the trade, member duties the task; the task's keeper only needs the trade's end.
          // The buyer's evidence moves neither the trade's state nor its stage window: its timeout keeper
          // would only read it to sleep until the same deadline (duties/keeper.ts tradePlan), so only the
          // trade's household autopilot is woken.
          if (tradeId && name === EVENTS.tradeDeliveryEvidenced) {
            // the buyer's evidence is recorded, after the escrow: neither party has a household step left
            this.endHousehold(tradeId, "the buyer's delivery evidence is recorded", finish, wakeIds);
            wakeMembers.push(taskIdFor(TRADE_TASK_KIND, tradeId));
            if (this.o.store.pendingOf(tradeId, 'trade-timeout').length) this.o.metrics.agentWakeupsSkipped.inc({ rule: 'evidence-keeps-deadline' });
          } else if (tradeId && name !== EVENTS.tradeClosed && n('stageDeadline') !== undefined && (s('state') === 'EXECUTION' || s('state') === 'FINAL')) {
            // The escrow and the stage's end carry the new state and stage window (chaincode trades.contract.ts
            // deliverEnergy, services/settlement.ts endStage): the timeout keeper's plan is that window
            // (duties/keeper.ts tradePlan), so it sleeps until then without reading the trade; the household
            // autopilot and the members still look.
            const parties = this.tradeParties.get(tradeId);
            if (name === EVENTS.tradeEnergyEscrowed && parties && !parties.buyerHeld) {
              // the seller's part ends with the escrow, and the buyer's meter is not held here
              this.endHousehold(tradeId, "the energy is escrowed; the buyer's confirmation is not this gateway's", finish, wakeIds);
            } else if (name === EVENTS.tradeEnergyEscrowed && parties) {
              // a buyer held here has its next step in the final stage: its TradeStageAdvanced wakes the duty
              if (this.o.store.get(`household|${tradeId}`)?.state === 'PENDING') this.o.metrics.agentWakeupsSkipped.inc({ rule: 'household-waits-final' });
            } else wakeIds.push(`household|${tradeId}`);
            wakeMembers.push(taskIdFor(TRADE_TASK_KIND, tradeId));
            const dueAt = later(n('stageDeadline')! * 1000);
            for (const d of this.o.store.pendingOf(tradeId, 'trade-timeout')) {
              if (this.running.has(d.id)) continue; // it reads the trade now anyway
              defer.push({ id: d.id, dueAt, note: `waits for ${new Date(n('stageDeadline')! * 1000).toISOString()} (${s('state')} stage window, from the event)` });
              this.o.metrics.agentWakeupsSkipped.inc({ rule: 'stage-window-in-event' });
            }
          } else if (tradeId) {
            wake.push(tradeId);
            (name === EVENTS.tradeClosed ? wake : wakeMembers).push(taskIdFor(TRADE_TASK_KIND, tradeId));
          }
          if (tradeId && name === EVENTS.tradeClosed) {
            // a closed trade leaves its household autopilot and its timeout keeper nothing to do: a read
            // would only find it SETTLED, DECLINED or FAILED_LATE (duties/household.ts, duties/keeper.ts)
            for (const d of this.o.store.pendingOf(tradeId)) {
              if ((d.kind !== 'household' && d.kind !== 'trade-timeout') || this.running.has(d.id)) continue;
              finish.push({ id: d.id, note: `trade ${s('state') ?? 'closed'}` });
              this.o.metrics.agentWakeupsSkipped.inc({ rule: 'trade-closed' });
            }
          }
          break;
        }
        case EVENTS.readingRecorded: {
          // a reading a seller or buyer autopilot may be waiting for: the household duties of the trades
          // delivering in that interval (waking every household duty on every reading made each gateway read
          // all its trades again, right when the sellers mint: docs/benchmarks.md "Market")
          const intervals = Array.isArray(p.intervals) ? (p.intervals as unknown[]) : [];
          // — and of those only the trades whose party meter posted it, where the parties are known
          const meterId = s('meterId');
          for (const [tradeId, start] of this.tradeIntervals) {
            if (!intervals.includes(start)) continue;
            const parties = this.tradeParties.get(tradeId);
            if (parties && meterId !== undefined && meterId !== parties.sellerMeterId && meterId !== parties.buyerMeterId) continue;
            wakeIds.push(`household|${tradeId}`);
          }
          break;
        }
        case EVENTS.offerCreated: {
          const offerId = s('offerId');
          const expiresAt = n('expiresAt');
          if (keeper && offerId && expiresAt !== undefined) add.push({ id: `offer-expire|${offerId}`, kind: 'offer-expire', meterId: '', subject: offerId, round: 0, dueAt: expiresAt * 1000 + this.keeperDelayFor(s('sellerMspId')) });
          break;
        }
        case EVENTS.offerAccepted:
        case EVENTS.offerClosed: {
          // An acceptance takes the whole offer and a closure ends it (chaincode offers.contract.ts accept,
          // release): it is no longer OPEN, so its expiry keeper is over (duties/keeper.ts offerPlan) without
          // the read that would only find that. One reading right now sees it anyway.
          const offerId = s('offerId');
          if (!offerId) break;
          for (const d of this.o.store.pendingOf(offerId)) {
            if (d.kind !== 'offer-expire' || this.running.has(d.id)) {
              wakeIds.push(d.id);
              continue;
            }
            finish.push({ id: d.id, note: name === EVENTS.offerAccepted ? 'offer accepted' : `offer ${(s('status') ?? 'closed').toLowerCase()}` });
            this.o.metrics.agentWakeupsSkipped.inc({ rule: 'offer-closed' });
          }
          break;
        }
        case EVENTS.auctionRequested: {
          const requestId = s('requestId');
          const t2 = n('t2');
          if (keeper && requestId && t2 !== undefined) {
            add.push({ id: `auction-close|${requestId}`, kind: 'auction-close', meterId: '', subject: requestId, round: 0, dueAt: later(t2 * 1000) });
            add.push({ id: `auction-expire|${requestId}`, kind: 'auction-expire', meterId: '', subject: requestId, round: 0, dueAt: later(t2 * 1000) });
          }
          break;
        }
        case EVENTS.auctionClosed:
        case EVENTS.auctionReawarded:
        case EVENTS.auctionFailed:
        case EVENTS.auctionTraded: {
          const requestId = s('requestId');
          if (requestId) wake.push(requestId);
          break;
        }
        case EVENTS.qScoreChanged: {
          // A raise credited to a participant of one of this gateway's meters: its custodian folds the credits
          // once it is quiet (duties/keeper.ts foldPlan). Only the custodian: the utilities never race on one
          // record, and nobody else may (participants:foldScore). One duty per participant, reopened after a fold.
          const pid = s('participantId');
          if (!keeper || p.credited !== true || !pid) break;
          local ??= await this.refreshMeters();
          if (local.has(pid)) add.push({ id: `score-fold|${pid}`, kind: 'score-fold', meterId: '', subject: pid, round: 0, dueAt: later(now + this.fold.policy.quietMs), reopen: true });
          break;
        }
        case EVENTS.participantBanned: {
          const pid = s('participantId');
          const until = n('bannedUntil');
          if (keeper && pid && until !== undefined) add.push({ id: `index-sync|${pid}|${until}`, kind: 'index-sync', meterId: '', subject: pid, round: 0, dueAt: later((until + 1) * 1000) });
          break;
        }
        default:
          break;
      }
    }
    // A duty woken by anything but a vote it could count re-reads: what it knew of its ballot may be stale
    // (an entry adds the leader's approval, a decision opens the next ballot).
    for (const subject of [...wake, ...wakeMembers]) {
      for (const id of this.tallies.keys()) if (id.startsWith(`member|${subject}|`)) this.tallies.delete(id);
      for (const id of this.factsDone) if (id.startsWith(`member|${subject}|`)) this.factsDone.delete(id);
    }
    for (const d of seeded) if (!drawnNow.has(`${d.subject}|${d.round}`)) add.push(d);
    if (this.holding.size) {
      // a leader holding its block for arriving trades re-checks once none is arriving (or at its hold's limit)
      for (const [id, h] of this.holding) if (h.untilMs <= now) this.holding.delete(id);
      for (const h of this.holding.values()) {
        if (h.forArrivals && this.arrivingBy(now, h.untilMs).length === 0) {
          h.forArrivals = false;
          wake.push(h.subject);
        }
      }
    }
    // a duty this event also wakes (another event of the same transaction) is not deferred
    const woken = new Set(wakeIds);
    const deferred = defer.filter((d) => {
      if (woken.has(d.id)) return false;
      const duty = this.o.store.get(d.id);
      return !duty || (!wake.includes(duty.subject) && !(duty.kind === 'member' && wakeMembers.includes(duty.subject)));
    });
    return { add, wake, wakeMembers, wakeKinds, wakeIds, entries, finish, defer: deferred };
  }

  /** Ends a trade's pending household duty from an event that shows it has no step left (one reading right now is woken instead). */
  private endHousehold(tradeId: string, note: string, finish: Array<{ id: string; note: string }>, wakeIds: string[]): void {
    const id = `household|${tradeId}`;
    if (this.o.store.get(id)?.state !== 'PENDING') return;
    if (this.running.has(id)) {
      wakeIds.push(id);
      return;
    }
    finish.push({ id, note });
    this.o.metrics.agentWakeupsSkipped.inc({ rule: 'household-part-over' });
  }

  // ---------------------------------------------------------------- executing duties

  /** Runs every due duty once (at most `concurrency` at a time); returns how many ran. */
  async runOnce(): Promise<number> {
    const due = this.o.store.due(this.now(), 64).filter((d) => !this.running.has(d.id));
    await mapLimit(due, this.o.config.concurrency, async (d) => {
      this.running.set(d.id, this.now());
      try {
        await this.runDuty(d);
      } catch (e) {
        this.o.logger.error({ duty: d.id, err: (e as Error).message }, 'agent duty failed unexpectedly');
        this.retry(d, (e as Error).message);
      } finally {
        this.running.delete(d.id);
      }
    });
    this.o.metrics.agentPending.reset();
    for (const [kind, c] of Object.entries(this.o.store.counts())) this.o.metrics.agentPending.set({ kind }, c);
    return due.length;
  }

  async runDuty(d: Duty): Promise<void> {
    if (d.kind === 'member') return this.runMember(d);
    if (d.kind === 'household') return this.runHousehold(d);
    if (d.kind === 'auction') return this.runAuction(d);
    return this.runKeeper(d);
  }

  /** Every ledger read of the agents: one evaluation (a signed proposal through the gateway and the chaincode), counted by function. */
  private async read<T>(fn: string, args: string[], as: ActingIdentity = this.o.operator): Promise<T> {
    this.o.metrics.agentEvaluations.inc({ fn });
    return parseResult(await this.o.ledger.evaluate(as, fn, args)) as T;
  }

  private reschedule(d: Duty, at: number, note: string, opts: { attempt?: boolean; error?: string } = {}): void {
    this.o.store.reschedule(d.id, at, note, { ...opts, since: this.running.get(d.id) ?? this.now() }, this.now());
  }

  private retry(d: Duty, error: string): void {
    if (d.attempts + 1 >= this.o.config.maxAttempts) {
      this.forget(d.id);
      this.o.store.finish(d.id, 'FAILED', `gave up after ${d.attempts + 1} attempts`, error.slice(0, 500));
      this.o.metrics.agentDuties.inc({ kind: d.kind, outcome: 'failed' });
      this.o.logger.error({ duty: d.id, err: error }, 'agent duty given up');
      return;
    }
    const delay = Math.min(this.o.config.retryMaxMs, this.o.config.retryBaseMs * 2 ** Math.min(d.attempts, 20));
    this.reschedule(d, this.now() + Math.round(delay / 2 + Math.random() * (delay / 2)), d.note, { attempt: true, error: error.slice(0, 500) });
  }

  private finish(d: Duty, why: string, state: 'DONE' | 'FAILED' = 'DONE'): void {
    this.forget(d.id);
    this.o.store.finish(d.id, state, why);
    this.o.metrics.agentDuties.inc({ kind: d.kind, outcome: state === 'DONE' ? 'done' : 'failed' });
    this.o.logger.info({ duty: d.id, why }, state === 'DONE' ? 'agent duty over' : 'agent duty failed');
  }

  /** Drops what this process remembers of a duty's last read (the duty is over, or an event made it stale). */
  private forget(dutyId: string): void {
    this.tallies.delete(dutyId);
    this.factsDone.delete(dutyId);
    this.lastTasks.delete(dutyId);
  }

  /**
   * Submits one act. Outcomes by the chaincode's error CODE (never its wording), then the duty re-reads:
   * CONFLICT = someone else did it or it is already done (a lost race, fine); FORBIDDEN = not (any more)
   * this meter's turn; PRECONDITION_FAILED / transient = try again later.
   */
  private async act(d: Duty, id: ActingIdentity, actKey: string, fn: string, args: string[], transient?: Record<string, string>): Promise<{ outcome: ActOutcome; code?: string; subCode?: string; text?: string }> {
    const log = this.o.logger.child({ duty: d.id, act: actKey, fn });
    const started = this.now();
    try {
      const r = await this.o.submitter.submit(id, fn, args, {}, transient);
      this.o.store.recordAct(actKey, d.id, r.txId, 'committed');
      this.commitMs.push(this.now() - started);
      if (this.commitMs.length > COMMIT_SAMPLES) this.commitMs.shift();
      this.o.metrics.agentDecideGap.set(this.decideGapMs() / 1000);
      this.o.metrics.agentActs.inc({ act: actKey.split('|')[0]!, outcome: 'acted' });
      const since = Math.max(d.eventAt ?? 0, Math.min(d.dueAt, started));
      this.o.metrics.agentLag.observe({ kind: d.kind }, Math.max(0, this.now() - since) / 1000);
      log.info({ txId: r.txId, block: r.blockNumber, attempts: r.attempts }, 'agent act committed');
      return { outcome: 'acted' };
    } catch (e) {
      if (e instanceof NotHeldError) throw e;
      const err = e instanceof LedgerError ? e : normalizeLedgerError(e, 'endorse');
      const code = err.chaincode?.code;
      const text = err.chaincode?.text ?? err.message;
      const outcome: ActOutcome = code === 'CONFLICT' ? 'lost-race' : code === 'FORBIDDEN' || code === 'NOT_FOUND' || code === 'INVALID_ARGUMENT' ? 'refused' : 'retry';
      this.o.metrics.agentActs.inc({ act: actKey.split('|')[0]!, outcome });
      log[outcome === 'retry' ? 'warn' : 'info']({ code, reason: text }, outcome === 'lost-race' ? 'agent act not needed: already done on the ledger' : 'agent act refused');
      const subCode = err.chaincode?.subCode;
      return { outcome, ...(code ? { code } : {}), ...(subCode ? { subCode } : {}), text };
    }
  }

  /**
   * When the delivery intervals of the arriving trades end (ms): those ending by `limitMs` and ended at most
   * ARRIVAL_WINDOW_MS ago (older ones are forgotten: a seller that never delivers holds nobody).
   */
  private arrivingBy(nowMs: number, limitMs: number): number[] {
    const out: number[] = [];
    for (const [tradeId, end] of this.arriving) {
      if (nowMs > end + ARRIVAL_WINDOW_MS) this.arriving.delete(tradeId);
      else if (end <= limitMs) out.push(end);
    }
    return out;
  }

  /** This utility's keeper delay after a deadline whose subject is `custodianMspId`'s (duties/keeper.ts `keeperDelayMs`). */
  private keeperDelayFor(custodianMspId: string | undefined): number {
    if (!custodianMspId) return this.keeperDelay;
    const k = this.o.config.keeper;
    return keeperDelayMs(this.o.operator.mspId, k.marginMs, k.staggerMs, custodianMspId, k.backupMs ?? DEFAULT_KEEPER_BACKUP_MS);
  }

  /**
   * The fold policy in force (duties/keeper.ts `foldPolicyFor`): this gateway's settings over what the
   * ledger's slot length gives (`governance:getParameters`), read again after FOLD_PARAMS_TTL_MS since the
   * regulator may change it. A failed read keeps the policy in force and is tried at the next fold.
   */
  private async foldPolicy(): Promise<FoldPolicy> {
    const now = this.now();
    if (this.fold.readAtMs !== undefined && now - this.fold.readAtMs < FOLD_PARAMS_TTL_MS) return this.fold.policy;
    try {
      const { slotSeconds } = await this.read<{ slotSeconds?: unknown }>('governance:getParameters', []);
      if (typeof slotSeconds === 'number') this.fold = { policy: foldPolicyFor(slotSeconds, this.o.config.keeper.fold), readAtMs: now };
    } catch (e) {
      this.o.logger.warn({ err: (e as Error).message }, 'could not read the slot length for the score-fold policy; keeping the one in force');
    }
    return this.fold.policy;
  }

  /** The gap between decide turns this gateway's members use now (duties/committee.ts `decideGapMs`). */
  decideGapMs(): number {
    return decideGapMs(this.commitMs, this.turn0DecideMs);
  }

  private async runKeeper(d: Duty): Promise<void> {
    const kind = d.kind as KeeperKind;
    let obj: unknown;
    try {
      obj = await this.read(KEEPER_READ[kind], [d.subject]);
    } catch (e) {
      const err = normalizeLedgerError(e, 'evaluate');
      if (err.chaincode?.code === 'NOT_FOUND') return this.finish(d, `${d.subject} not on the ledger`, 'FAILED');
      return this.retry(d, err.message);
    }
    const now = this.now();
    let plan: KeeperPlan;
    switch (kind) {
      case 'offer-expire': plan = offerPlan(obj as OfferView, now); break;
      case 'trade-timeout': plan = tradePlan(obj as TradeView, now); break;
      case 'auction-close': plan = auctionClosePlan(obj as AuctionView, now); break;
      case 'auction-expire': plan = auctionExpirePlan(obj as AuctionView, now); break;
      case 'task-redraw': plan = redrawPlan(obj as TaskView, d.round, now); break;
      case 'task-draw': plan = drawPlan(obj as TaskView, d.round, now); break;
      case 'index-sync': plan = indexSyncPlan(obj as ParticipantView, now); break;
      case 'score-fold': plan = foldPlan(obj as ParticipantView, now, await this.foldPolicy()); break;
    }
    if ('done' in plan) return this.finish(d, plan.done);
    if (!plan.act) {
      const custodian = kind === 'offer-expire' ? (obj as OfferView).sellerMspId : undefined;
      this.reschedule(d, plan.atMs + this.keeperDelayFor(custodian), `waits for ${new Date(plan.atMs).toISOString()}`);
      return;
    }
    // a score fold recurs under one duty: its act is named by the credits it folds (up to the newest pending)
    const actKey = kind === 'score-fold' ? `${kind}|${d.subject}|${(obj as ParticipantView).newestCreditAt ?? 0}|${(obj as ParticipantView).pendingCredits ?? 0}` : `${kind}|${d.subject}|${d.round}`;
    const r = await this.act(d, this.o.operator, actKey, KEEPER_FN[kind], [d.subject]);
    if (r.outcome === 'acted') {
      if (kind === 'index-sync') return this.finish(d, 'committee index synced');
      // an expiry that committed closed the offer for good (chaincode market/domain/offer.ts expire: OPEN → EXPIRED)
      if (kind === 'offer-expire') return this.finish(d, 'offer expired');
      // re-read: done when nothing is pending; a page more (more than 100 were pending) folds at once; new credits wait
      this.reschedule(d, this.now(), 'acted; re-reading');
      return;
    }
    if (r.outcome === 'refused') return this.finish(d, `refused: ${r.code} ${r.text}`, 'FAILED');
    if (kind === 'task-draw' && r.code === 'PRECONDITION_FAILED') {
      // still too few eligible members (or utilities): not an error; an admission or reinstatement wakes the duty
      this.reschedule(d, this.now() + SEEDED_RETRY_MS, `seeded: ${(r.text ?? '').slice(0, 200)}`);
      return;
    }
    // lost race or not yet (clock skew, peers behind): re-read a little later
    this.retry(d, `${r.code ?? ''} ${r.text ?? ''}`.trim());
  }

  /** The held meter (of this utility) among a trade's parties, if any. */
  private heldMeter(meterId: string, mspId: string | undefined): boolean {
    return (mspId === undefined || mspId === this.o.operator.mspId) && this.o.meters.activeMeter(meterId)?.mspId === this.o.operator.mspId;
  }

  /** A flow of a held meter in an interval, from its own utility's peer; null when it has no reading yet. */
  private async flowWh(meterId: string, intervalStart: number, direction: 'export' | 'import'): Promise<{ wh: number; proof: unknown } | null> {
    try {
      const proof = await this.read<{ wh: number }>('meters:getProof', [meterId, String(intervalStart), direction], this.identityFor(meterId));
      return { wh: proof.wh, proof };
    } catch (e) {
      if (normalizeLedgerError(e, 'evaluate').chaincode?.code === 'NOT_FOUND') return null;
      throw e;
    }
  }

  /**
   * Runs `fn` after every earlier call with the same key has finished (in-process, in call order). The
   * household steps of one meter go through it: a seller's two trades of one interval would otherwise
   * mint at once (both update the meter's minted counter of that interval) or deliver from the same
   * packet, and a buyer's two confirmations update its import claim of the interval — each pair
   * simulated together is one MVCC-invalid transaction retried in full (docs/benchmarks.md "Hot
   * records"). In turn, the second step reads what the first committed (its packet, the counters).
   */
  private async inTurn<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.turns.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = before.then(() => new Promise<void>((r) => (release = r)));
    this.turns.set(key, mine);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (this.turns.get(key) === mine) this.turns.delete(key);
    }
  }

  private async runHousehold(d: Duty): Promise<void> {
    const trade = await this.read<TradeView>('trades:get', [d.subject]);
    // the meter this step may act for: the seller's until its energy is escrowed, then the buyer's
    const meter = trade.state === 'AWAITING_ENERGY' ? trade.sellerMeterId : trade.buyerMeterId;
    return this.inTurn(`household|${meter}`, () => this.householdStep(d, trade));
  }

  private async householdStep(d: Duty, trade: TradeView): Promise<void> {
    if (TERMINAL_TRADE_STATES.has(trade.state)) this.tradeIntervals.delete(trade.tradeId);
    else this.tradeIntervals.set(trade.tradeId, trade.deliveryStart); // a reading of its interval wakes this duty
    const sellerHeld = this.heldMeter(trade.sellerMeterId, trade.sellerMspId);
    const buyerHeld = this.heldMeter(trade.buyerMeterId, trade.buyerMspId);
    if (TERMINAL_TRADE_STATES.has(trade.state)) this.tradeParties.delete(trade.tradeId);
    else this.tradeParties.set(trade.tradeId, { sellerMeterId: trade.sellerMeterId, buyerMeterId: trade.buyerMeterId, buyerHeld });
    const seller = sellerHeld ? this.settings(trade.sellerMeterId) : undefined;
    const buyer = buyerHeld ? this.settings(trade.buyerMeterId) : undefined;
    const input: HouseholdInput = { trade, nowMs: this.now(), ...(seller ? { seller } : {}), ...(buyer ? { buyer } : {}) };
    let exportProof: unknown;
    let importProof: unknown;
    const ended = this.now() >= (trade.deliveryStart + trade.deliveryLength) * 1000;
    if (seller?.autopilot && trade.state === 'AWAITING_ENERGY' && ended) {
      const f = await this.flowWh(trade.sellerMeterId, trade.deliveryStart, 'export');
      input.exportWh = f?.wh ?? null;
      exportProof = f?.proof;
      const page = await this.read<{ items: PacketView[] }>('energy:listByOwner', [trade.seller, '100', '']);
      input.packets = page.items
        .filter((p) => p.meterId === trade.sellerMeterId && p.intervalStart === trade.deliveryStart && !p.tradeId)
        .map((p) => ({ packetId: p.packetId, availableWh: p.availableWh ?? 0 }));
    }
    if (buyer?.autopilot && trade.state === 'FINAL' && trade.meteredWh === undefined) {
      const f = await this.flowWh(trade.buyerMeterId, trade.deliveryStart, 'import');
      input.importWh = f?.wh ?? null;
      importProof = f?.proof;
    }
    const step = nextHouseholdStep(input);
    switch (step.kind) {
      case 'done':
        return this.finish(d, step.why);
      case 'wait':
        return this.reschedule(d, step.atMs ?? Math.max(this.now() + 1000, trade.deliveryDeadline * 1000, (trade.stageDeadline ?? 0) * 1000), step.why);
      case 'mint': {
        const r = await this.act(d, this.identityFor(trade.sellerMeterId), `mint|${trade.tradeId}`, 'energy:mint', [JSON.stringify({ intervalStart: step.intervalStart, amountWh: step.amountWh, source: 'solar' })], { exportProof: JSON.stringify(exportProof) });
        return this.after(d, r);
      }
      case 'deliver': {
        const r = await this.act(d, this.identityFor(trade.sellerMeterId), `deliver|${trade.tradeId}`, 'trades:deliverEnergy', [trade.tradeId, JSON.stringify([{ packetId: step.packetId, amountWh: step.amountWh }])]);
        // committed: the seller's part is over (escrowed, or the trade closed late); with no buyer's step here
        // the duty ends without the re-read that would only find that
        if (r.outcome === 'acted' && !buyerHeld) return this.finish(d, "the energy is delivered; the buyer's confirmation is not this gateway's");
        return this.after(d, r);
      }
      case 'confirm': {
        const r = await this.act(d, this.identityFor(trade.buyerMeterId), `confirm|${trade.tradeId}`, 'trades:confirmDelivery', [trade.tradeId, String(step.receivedWh)], { importProof: JSON.stringify(importProof) });
        // committed: the buyer's evidence is recorded, its last step (the seller's ended with the escrow)
        if (r.outcome === 'acted') return this.finish(d, "the buyer's delivery evidence is recorded");
        return this.after(d, r);
      }
    }
  }

  /** The auction autopilot of one held meter in one auction (duties/auction.ts). */
  private async runAuction(d: Duty): Promise<void> {
    const role = d.id.split('|')[2] as 'buyer' | 'seller';
    const secret = this.o.store.auctionSecret(d.meterId, d.subject, role);
    if (!secret) return this.finish(d, 'no secrets kept for this auction', 'FAILED');
    if (!this.settings(d.meterId).autopilot) {
      // kept until the operator turns the autopilot on (PUT …/agent {autopilot: true} reopens nothing: look again later)
      return this.reschedule(d, this.now() + 60_000, 'autopilot off for this meter');
    }
    let id: ActingIdentity;
    try {
      id = this.identityFor(d.meterId);
    } catch (e) {
      return this.finish(d, (e as Error).message, 'FAILED');
    }
    const auction = await this.read<AuctionView>('auctions:get', [d.subject]);
    const revealKey = `reveal|${d.subject}|${secret.offerId ?? ''}|${d.meterId}`;
    const step = nextAuctionStep(auction, secret, { nowMs: this.now(), revealed: this.o.store.hasAct(revealKey), me: this.o.store.participantOf(d.meterId) });
    switch (step.kind) {
      case 'done':
        return this.finish(d, step.why);
      case 'wait':
        // auction events (closed, re-awarded, traded, failed) name the request and wake the duty
        return this.reschedule(d, step.atMs ?? Math.max(this.now() + 60_000, auction.claimDeadline * 1000 + 1000), step.why);
      case 'reveal': {
        const r = await this.act(d, id, revealKey, 'auctions:reveal', [d.subject, step.offerId, JSON.stringify({ pricePerKwh: step.pricePerKwh, salt: step.salt })]);
        if (r.outcome === 'lost-race') this.o.store.recordAct(revealKey, d.id, null, 'already on the ledger'); // a replay: revealed before
        return this.after(d, r.outcome === 'lost-race' ? { outcome: 'acted' } : r);
      }
      case 'claim-seller':
      case 'claim-buyer': {
        const fn = step.kind === 'claim-seller' ? 'auctions:claimSeller' : 'auctions:claimBuyer';
        const r = await this.act(d, id, `${step.kind}|${d.subject}|${auction.winnerOfferId ?? ''}|${d.meterId}`, fn, [d.subject, secret.secret]);
        return this.after(d, r);
      }
    }
  }

  private async runMember(d: Duty): Promise<void> {
    const held = this.holding.get(d.id);
    if (held?.forArrivals && this.now() < held.untilMs && this.arrivingBy(this.now(), held.untilMs).length > 0 && !this.madeBlocks.has(held.slotKey)) {
      // still holding its block for arriving trades: nothing to read until they have their committees
      return this.reschedule(d, held.untilMs, 'holding the block of this slot: trades about to open a stage');
    }
    this.holding.delete(d.id);
    const v = await this.memberView(d);
    if ('finish' in v) return this.finish(d, v.finish, v.state);
    if (v.step.kind === 'enter') return this.enterBlock(d, v);
    await this.perform(d, v.id, v.task, v.subjectArg, v.step, v.ballots, v.me);
  }

  /**
   * What a member duty should do now, from fresh reads. `leadsOnly`: stop after the task read unless this
   * meter leads the task's current slot (all that gathering a block needs to know of the meter's other tasks).
   */
  private async memberView(d: Duty, leadsOnly = false): Promise<MemberView | { finish: string; state?: 'FAILED' }> {
    const meterId = d.meterId;
    const settings = this.settings(meterId);
    let id: ActingIdentity;
    try {
      id = this.identityFor(meterId);
    } catch (e) {
      return { finish: (e as Error).message, state: 'FAILED' };
    }
    const me = this.o.store.participantOf(meterId);
    if (!me) return { finish: 'participant id unknown', state: 'FAILED' };
    if (settings.behaviour === 'silent') return { finish: 'behaviour silent' };

    // ONE evaluation: the task, its ballots up to the open one with their votes, and the subject (the
    // candidate, or the trade and its packets) — what getTask, getBallot per ballot and the subject's reads
    // answered in up to five (docs/agents.md §1 "Executor")
    const startedAt = this.eventSeq;
    const withSubject = !this.factsDone.has(d.id);
    const view = await this.read<MemberViewState>('committees:getMemberView', [d.subject, String(withSubject)]);
    const task = view.task;
    if (task.round !== d.round) return { finish: `round ${d.round} replaced by round ${task.round}` };
    this.lastTasks.set(d.id, task);
    this.taskBallots.set(task.taskId, task.ballots.map((b) => b.name));
    const ballots: Record<string, BallotState> = {};
    for (const b of view.ballots) ballots[b.name] = { ballot: b.ballot, round: b.round, votes: b.votes };
    const quiet = this.prunedAt <= startedAt && (this.taskEvents.get(d.subject) ?? 0) <= startedAt;
    const tally = quiet ? tallyOf(task, ballots, me) : undefined;
    if (tally) this.tallies.set(d.id, tally);
    else this.tallies.delete(d.id);
    if (leadsOnly && (task.status !== 'ACTIVE' || leaderAt(task, Math.floor(this.now() / 1000)).leader !== me)) {
      return { id, task, subjectArg: task.subjectId, step: { kind: 'wait', why: "not this meter's slot" }, ballots: {}, me };
    }
    const subject = view.subject;
    const cur = currentBallot(task, ballots, task.round);
    const ownCheck = task.status === 'ACTIVE' && !('closed' in cur) && (task.kind === 'admission' || task.kind === 'trade') && needsOwnCheck(task, ballots, me);
    if (ownCheck && !withSubject) {
      // read without the facts, yet the open ballot wants this member's own check (not expected: only a new
      // ballot does that, and everything that opens one drops factsDone): read again, with them
      this.factsDone.delete(d.id);
      return this.memberView(d, leadsOnly);
    }
    if (quiet && task.status === 'ACTIVE' && !('closed' in cur) && !ownCheck) this.factsDone.add(d.id);
    else this.factsDone.delete(d.id);
    let verdict: Verdict | undefined;
    let notReady: string | undefined;
    let entryVerdict: boolean | undefined;
    let subjectArg = task.subjectId;
    if (task.status === 'ACTIVE' && !('closed' in cur) && (task.kind === 'admission' || task.kind === 'trade') && !needsOwnCheck(task, ballots, me)) {
      // quorum reached or already voted: the step is decide-at-its-turn or wait, whatever the facts
      if (task.kind === 'admission') subjectArg = task.subjectId.split('#')[0]!;
      notReady = `ballot "${cur.spec.name}" has its quorum or this member's vote; the facts are not needed`;
    } else if (task.status === 'ACTIVE' && !('closed' in cur)) {
      if (task.kind === 'admission') {
        subjectArg = task.subjectId.split('#')[0]!;
        if (!subject || !('participant' in subject)) throw new Error(`the member view of ${task.taskId} has no candidate`);
        const candidate = subject.participant;
        const ballot = cur.state?.ballot && cur.state.ballot.round === task.round ? cur.state.ballot : null;
        if (ballot?.entry) {
          verdict = admissionConditions(task, ballot, candidate, this.o.store.entriesInSlot(ballot.entry.leader, Number(ballot.entry.slot)));
        } else {
          // as the would-be leader: the request is pending on this task (the chaincode writes the identity the utility enrolled into the entry)
          const ok = candidate.status === 'PENDING' && candidate.admissionTaskId === task.taskId;
          verdict = { conditions: { condition1: ok, condition2: true }, reasons: ok ? [] : [`${candidate.participantId} is ${candidate.status}`] };
        }
      } else if (task.kind === 'trade') {
        if (!subject || !('trade' in subject)) throw new Error(`the member view of ${task.taskId} has no trade`);
        const trade = subject.trade;
        const stage = trade.state === 'EXECUTION' ? 'execution' : trade.state === 'FINAL' ? 'final' : undefined;
        if (!stage) return { finish: `trade ${trade.state}` };
        if (stage !== cur.spec.name) notReady = `the trade is in its ${stage} stage, the open ballot is ${cur.spec.name}`;
        else if (stage === 'execution') {
          const packets: Record<string, PacketView | undefined> = {};
          for (const p of subject.packets) packets[p.packetId] = p;
          verdict = executionConditions(trade, packets);
          entryVerdict = entryApproves(trade, stage);
        } else {
          verdict = finalConditions(trade);
          if (!verdict) notReady = "waiting for the buyer's delivery evidence";
          entryVerdict = entryApproves(trade, stage);
        }
      } else {
        return { finish: `no duty for task kind ${task.kind}` };
      }
    }
    const enteredSlots = this.o.store.enteredSlots(me);
    for (const k of this.refusedSlots) if (k.startsWith(`${meterId}|`)) enteredSlots.add(Number(k.split('|')[1]));
    for (const k of this.madeBlocks) if (k.startsWith(`${meterId}|`)) enteredSlots.add(Number(k.split('|')[1]));
    const step = nextMemberStep({ task, ballots, me, nowMs: this.now(), behaviour: settings.behaviour, verdict, ...(notReady ? { notReady } : {}), ...(entryVerdict !== undefined ? { entryApproves: entryVerdict } : {}), enteredSlots, decideGapMs: this.decideGapMs() });
    const imminent = leadsOnly && step.kind !== 'enter' && nextEntryImminent(task, ballots, verdict !== undefined, this.now());
    return { id, task, subjectArg, step, ballots, me, ...(imminent ? { imminent } : {}) };
  }

  /**
   * This meter leads the slot and a ballot waits for its entry: it makes its ONE block of the slot (seed 002;
   * `committees:recordEntries`), carrying every task it leads now whose ballot waits for an entry — it looks
   * at its other pending member duties (one task read each; the full check only for the tasks it leads now),
   * so no task waits for a later slot because another took this one. One block per meter and slot at a time:
   * a duty that reaches its entry while the block is being made waits for it and re-reads (its ballot is then
   * entered, or it enters in the next slot it leads).
   */
  private async enterBlock(d: Duty, v: MemberView): Promise<void> {
    const step = v.step as Extract<MemberStep, { kind: 'enter' }>;
    const slotKey = `${d.meterId}|${step.slot}`;
    const running = this.blocks.get(slotKey);
    if (running || this.madeBlocks.has(slotKey)) {
      await running;
      return this.reschedule(d, this.now(), `the block of slot ${step.slot} is made; re-reading`);
    }
    const made = this.makeBlock(d, v, step, slotKey);
    this.blocks.set(slotKey, made);
    try {
      await made;
    } finally {
      this.blocks.delete(slotKey);
    }
  }

  private async makeBlock(d: Duty, v: MemberView, step: Extract<MemberStep, { kind: 'enter' }>, slotKey: string): Promise<void> {
    const candidates: EntryCandidate[] = [{ taskId: v.task.taskId, step }];
    const imminent: string[] = [];
    const nowSec = Math.floor(this.now() / 1000);
    for (const other of this.o.store.pending([d.meterId])) {
      if (candidates.length >= MAX_BLOCK_ENTRIES) break;
      if (other.kind !== 'member' || other.id === d.id || other.subject === v.task.taskId) continue;
      // The slot schedule of a round is fixed at its draw: a task this meter's last read shows led by another
      // member now (or no longer active in that round) has nothing to enter in this block, without a read.
      const known = this.lastTasks.get(other.id);
      if (known && known.round === other.round && (known.status !== 'ACTIVE' || leaderAt(known, nowSec).leader !== v.me)) {
        this.o.metrics.agentWakeupsSkipped.inc({ rule: 'block-not-leader' });
        continue;
      }
      try {
        const ov = await this.memberView(other, true);
        if ('finish' in ov) continue;
        candidates.push({ taskId: ov.task.taskId, step: ov.step });
        if (ov.imminent) imminent.push(ov.task.taskId);
      } catch (e) {
        this.o.logger.warn({ duty: other.id, err: (e as Error).message }, "could not check a task for this slot's block; it waits for its own turn");
      }
    }
    const now = this.now();
    if (!this.readySince.has(slotKey)) {
      for (const [k, at] of this.readySince) if (at < now - 600_000) this.readySince.delete(k);
      this.readySince.set(slotKey, now);
    }
    const hold = blockHold({ nowMs: now, slotStartAt: slotStartAt(step.slot, v.task.genesisAt, v.task.slotSeconds), slotSeconds: v.task.slotSeconds, readySinceMs: this.readySince.get(slotKey)!, marginMs: blockMarginMs(this.commitMs), imminent, arrivingEndsMs: this.arrivingBy(now, Infinity) });
    if (hold.hold) {
      // the tasks it leads that become ready meanwhile wake their own duties, which make the block with this one
      this.holding.set(d.id, { slotKey, subject: d.subject, untilMs: hold.untilMs, forArrivals: hold.arriving > 0 });
      this.o.metrics.agentActs.inc({ act: 'enter', outcome: 'held' });
      return this.reschedule(d, hold.untilMs, hold.why);
    }
    const taskIds = entryBlock(candidates, step.slot, undefined, MAX_BLOCK_ENTRIES);
    const r = await this.act(d, v.id, `enter|${d.meterId}|${step.slot}`, 'committees:recordEntries', [JSON.stringify({ taskIds })]);
    // (the entered tasks' duties, this one included, are woken by their LeaderEntryRecorded events)
    if (r.outcome === 'acted') {
      this.madeBlocks.add(slotKey);
      for (const [id, h] of this.holding) if (h.slotKey === slotKey) this.holding.delete(id);
      this.o.logger.info({ duty: d.id, slot: step.slot, tasks: taskIds, heldMs: this.now() - (this.readySince.get(slotKey) ?? this.now()) }, 'leader block recorded');
    } else if (r.subCode === 'LEADER_SLOT_USED') {
      this.madeBlocks.add(slotKey); // Condition 2: this meter's block of the slot is on the ledger already (made before a restart)
    }
    // The entered tasks' duties, this one included, are woken by their LeaderEntryRecorded events; after a
    // refusal this one re-reads after a back-off (all or nothing: the next reads leave out what failed).
    return this.afterMemberAct(d, r, v.task);
  }

  private async perform(d: Duty, id: ActingIdentity, task: TaskView, subjectArg: string, step: MemberStep, ballots: Record<string, BallotState>, me: string): Promise<void> {
    const contract = task.kind === 'admission' ? 'admissions' : 'trades';
    switch (step.kind) {
      case 'done':
        return this.finish(d, step.why);
      case 'wait': {
        // Without a time, the next event naming the task wakes the duty; the deadline is the backstop.
        const at = step.atMs ?? Math.max(this.now() + 1000, (task.deadlineAt + 1) * 1000);
        this.reschedule(d, at, step.why);
        return;
      }
      case 'enter':
        return this.retry(d, 'entries are made in blocks (enterBlock)');
      case 'vote': {
        const key = `vote|${task.taskId}|${task.round}|${step.ballot}|${d.meterId}`;
        if (this.o.store.hasAct(key)) {
          // recorded as done but not on the ledger we read: our peer is behind; look again shortly
          return this.retry(d, 'vote recorded, not visible on the peer yet');
        }
        const vote = { approve: step.approve, conditions: step.conditions, reason: step.reason };
        const r = await this.act(d, id, key, `${contract}:vote`, [subjectArg, JSON.stringify(vote)]);
        return this.afterMemberAct(d, r, task);
      }
      case 'decide': {
        const key = `decide|${task.taskId}|${task.round}|${step.ballot}|${d.meterId}`;
        const r = await this.act(d, id, key, `${contract}:decide`, [subjectArg]);
        const quorumAt = quorumTime(task, ballots[step.ballot]);
        if (r.outcome === 'acted' && quorumAt > 0 && decideTurn(task, me, quorumAt) === 0) {
          // what the next member in turn must wait out: quorum → this decide committed (decideGapMs)
          this.turn0DecideMs.push(Math.max(0, this.now() - quorumAt * 1000));
          if (this.turn0DecideMs.length > COMMIT_SAMPLES) this.turn0DecideMs.shift();
          this.o.metrics.agentDecideGap.set(this.decideGapMs() / 1000);
        }
        return this.afterMemberAct(d, r, task);
      }
    }
  }

  /**
   * After a member's act: when it committed, the event it emitted (LeaderEntryRecorded, VoteRecorded,
   * BallotDecided) wakes the duty — or shows that nothing changed for it (`voteWakeup`, `decisionClosesTask`)
   * — so it does not re-read at once as other duties do; it re-reads by itself only if no event came within
   * MEMBER_BACKSTOP_MS (or by the round's deadline). An event handled while the act was in flight keeps the
   * duty due now (AgentStore.reschedule). Anything but a commit: as `after`.
   */
  private afterMemberAct(d: Duty, r: { outcome: ActOutcome; code?: string; text?: string }, task: TaskView): void {
    if (r.outcome !== 'acted') return this.after(d, r);
    const now = this.now();
    this.reschedule(d, Math.min(now + MEMBER_BACKSTOP_MS, Math.max(now + 1000, (task.deadlineAt + 1) * 1000)), 'acted; the event of its act wakes it');
  }

  private after(d: Duty, r: { outcome: ActOutcome; code?: string; text?: string }): void {
    if (r.outcome === 'acted' || r.outcome === 'lost-race' || r.outcome === 'refused') {
      // look again at once: the next step (vote → decide, next ballot) or the end of the duty
      if (r.outcome === 'acted') this.reschedule(d, this.now(), 'acted; re-reading');
      else this.retry(d, `${r.code ?? ''} ${r.text ?? ''}`.trim());
      return;
    }
    this.retry(d, `${r.code ?? ''} ${r.text ?? ''}`.trim());
  }

  // ---------------------------------------------------------------- lifecycle

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    // Household duties are woken by the readings of their trade's interval, which this process learns from
    // TradeCreated or from the duty's own read: after a restart each pending one looks at its trade once.
    const now = this.now();
    for (const d of this.o.store.pending()) if (d.kind === 'household' && d.dueAt > now) this.reschedule(d, now, 'restart: reading its trade');
    this.listening = this.listen();
    this.working = this.work();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.close();
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await Promise.allSettled([this.listening, this.working]);
  }

  kick(): void {
    this.wake?.();
  }

  private arm(at: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), Math.max(0, Math.min(at - this.now(), 2 ** 31 - 1)));
    this.timer.unref();
  }

  private async listen(): Promise<void> {
    while (!this.stopped) {
      const cp = this.o.store.checkpoint(AGENTS_CHECKPOINT);
      const opts = cp ? { startBlock: cp.block, afterTxId: cp.txId } : { startBlock: this.o.config.startBlock };
      try {
        await this.refreshMeters();
        this.stream = await this.o.ledger.chaincodeEvents(this.o.operator, opts);
        this.o.logger.info({ ...opts }, 'listening for chaincode events (agents)');
        for await (const batch of blockBatches(this.stream)) {
          if (this.stopped) break;
          await this.handleEvents(batch);
        }
      } catch (e) {
        if (this.stopped) break;
        this.o.logger.warn({ err: (e as Error).message }, 'chaincode event stream failed; reconnecting from the checkpoint');
      } finally {
        this.stream?.close();
        this.stream = undefined;
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, this.o.config.reconnectMs).unref());
    }
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.runOnce();
      } catch (e) {
        this.o.logger.error({ err: (e as Error).message }, 'agent worker pass failed');
      }
      if (this.stopped) break;
      const next = this.o.store.nextDueAt();
      if (next !== undefined) this.arm(next);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}
