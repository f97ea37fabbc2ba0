import type { DutyState } from '@gridledger/protocol';
import { prepared, withoutFsync, type Db } from '../store/db';
import { openSecret, sealSecret } from '../identity/wallet';
import { DEFAULT_SETTINGS, isBehaviour, type AgentSettings, type Behaviour } from './behaviour';

/**
 * Durable state of the gateway's agents, in the gateway's SQLite database (fsynced, like the queue, except
 * the duties' own bookkeeping: `reschedule`, `finish`, `recordAct`):
 * - the event checkpoint `agents` (table `event_checkpoints`, shared with the beacon listener under its
 *   own name): the last chaincode event whose duties were recorded;
 * - `agent_duties`: one row per duty (a committee seat of one meter in one task round, a keeper
 *   deadline, or a participant's recurring score fold, reopened when it has credits again), written
 *   in the SAME transaction as the checkpoint that moves past the event creating or waking it — a
 *   restart neither misses a duty nor creates one twice;
 * - `agent_acts`: every act submitted and committed (entry, vote, decision, keeper call), keyed by what it
 *   was (`vote|task|round|ballot|meter`): the agent's own record of what it did. The ledger stays the
 *   authority — a duty re-reads it before acting, so an act whose record was lost in a crash is seen
 *   there and never repeated;
 * - `agent_entries`: leader entries seen in the event stream, by (leader, slot) — what a member checks
 *   Condition 2 against;
 * - `agent_meters`: each meter's participant id (`participants:whoAmI`) and settings (behaviour, autopilot);
 * - `agent_auction_secrets`: the sealed-bid secrets meters handed over, sealed with the wallet key like the
 *   meters' keys (`sealAuctionSecret`): the SQLite file alone never shows a price, salt or identity secret.
 */
export type DutyKind = 'member' | 'household' | 'offer-expire' | 'trade-timeout' | 'auction-close' | 'auction-expire' | 'task-redraw' | 'task-draw' | 'index-sync' | 'score-fold' | 'auction';
export type { DutyState };

export interface Duty {
  id: string;
  kind: DutyKind;
  /** the meter acting ('' for keeper duties, which the operator identity performs) */
  meterId: string;
  /** task id, offer id, trade id, auction request id or participant id */
  subject: string;
  round: number;
  state: DutyState;
  dueAt: number;
  attempts: number;
  /** what the duty waits for, or how it ended */
  note: string;
  lastError: string | null;
  /** when the event that last woke it was seen (the lag metric's start) */
  eventAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface DutyInput {
  id: string;
  kind: DutyKind;
  meterId: string;
  subject: string;
  round: number;
  dueAt: number;
  /**
   * A duty that recurs under one id (`score-fold|<participant>`): a finished one (DONE or FAILED) is
   * opened again with this due time and fresh attempts; a pending one is left alone, like any duty.
   */
  reopen?: boolean;
}

export interface Checkpoint {
  block: number;
  txId: string;
}

export const AGENTS_CHECKPOINT = 'agents';

/** What one chaincode event changes in the duties (AgentService.changeOf → AgentStore.advanceBatch). */
export interface DutyChange {
  add: DutyInput[];
  /** subjects whose pending duties are due now */
  wake: string[];
  /**
   * subjects (tasks) whose pending MEMBER duties are due now: events that change what members may do but
   * not the round's deadline (entries, votes, a trade's progress), so the task's keeper is not woken to
   * read the task only to sleep until the same deadline again
   */
  wakeMembers?: string[];
  wakeKinds?: DutyKind[];
  /** duty ids due now */
  wakeIds?: string[];
  /** leader entries seen (Condition 2) */
  entries: Array<{ leader: string; slot: number; taskId: string; ballot: string }>;
  /**
   * pending duties whose end the event itself shows (a task closed by a decided ballot, a closed trade):
   * ended DONE with the note, without the read that would only have found the same (AgentService.changeOf)
   */
  finish?: Array<{ id: string; note: string }>;
  /**
   * pending duties whose next due time the event itself shows (a trade's new stage window, for its timeout
   * keeper): set to `dueAt` with the note, without the read that would only have found the same
   */
  defer?: Array<{ id: string; dueAt: number; note: string }>;
}

/** A meter's secrets for one sealed-bid auction (docs/agents.md §4): never logged, never returned by the API. */
export interface AuctionSecret {
  meterId: string;
  requestId: string;
  role: 'buyer' | 'seller';
  /** the identity secret U_vb / U_vs that opens the identity commitment at the claim */
  secret: string;
  offerId?: string;
  pricePerKwh?: number;
  salt?: string;
}

/**
 * The table of sealed auction secrets: the row's key in clear (the duty finds it), everything the meter
 * handed over in one sealed JSON value. Also the form schema version 2's migration rebuilds a 0.2.0 table
 * into (store/migrations.ts), hence the table name as a parameter.
 */
export const auctionSecretsDdl = (table = 'agent_auction_secrets'): string =>
  `CREATE TABLE IF NOT EXISTS ${table} (meter_id TEXT NOT NULL, request_id TEXT NOT NULL, role TEXT NOT NULL, sealed TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (meter_id, request_id, role))`;

/** The row's identity in the AAD: a sealed value opens for its own meter, auction and role only (wallet.ts). */
const auctionAad = (meterId: string, requestId: string, role: string): string => `gridledger-agents:v1:auction-secret:${meterId}:${requestId}:${role}`;

/** A meter's auction secrets sealed for its row (the wallet's AES-256-GCM with `key`, the gateway's walletKey). */
export function sealAuctionSecret(key: Buffer, s: AuctionSecret): string {
  const { secret, offerId, pricePerKwh, salt } = s;
  return sealSecret(key, JSON.stringify({ secret, offerId, pricePerKwh, salt }), auctionAad(s.meterId, s.requestId, s.role));
}

export class AgentStore {
  /** `key`: the gateway's walletKey (GATEWAY_WALLET_KEY), which seals the auction secrets as it seals meter keys */
  constructor(
    private readonly db: Db,
    private readonly key: Buffer,
  ) {
    if (key.length !== 32) throw new Error('the agents\' sealing key (walletKey) must be 32 bytes');
    db.exec(`
      CREATE TABLE IF NOT EXISTS event_checkpoints (name TEXT PRIMARY KEY, block INTEGER NOT NULL, tx_id TEXT NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS agent_duties (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, meter_id TEXT NOT NULL, subject TEXT NOT NULL, round INTEGER NOT NULL,
        state TEXT NOT NULL, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, note TEXT NOT NULL DEFAULT '',
        last_error TEXT, event_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS agent_duties_due ON agent_duties (state, due_at);
      CREATE INDEX IF NOT EXISTS agent_duties_subject ON agent_duties (subject, state);
      CREATE INDEX IF NOT EXISTS agent_duties_meter ON agent_duties (meter_id, state);
      CREATE TABLE IF NOT EXISTS agent_acts (act TEXT PRIMARY KEY, duty_id TEXT NOT NULL, tx_id TEXT, outcome TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS agent_entries (leader TEXT NOT NULL, slot INTEGER NOT NULL, task_id TEXT NOT NULL, ballot TEXT NOT NULL, PRIMARY KEY (leader, slot, task_id, ballot));
      ${auctionSecretsDdl()};
      CREATE TABLE IF NOT EXISTS agent_meters (meter_id TEXT PRIMARY KEY, participant_id TEXT, behaviour TEXT, autopilot INTEGER, updated_at INTEGER NOT NULL);
    `);
  }

  checkpoint(name = AGENTS_CHECKPOINT): Checkpoint | undefined {
    const r = prepared(this.db, 'SELECT block, tx_id FROM event_checkpoints WHERE name = ?').get(name) as { block: number; tx_id: string } | undefined;
    return r ? { block: r.block, txId: r.tx_id } : undefined;
  }

  /**
   * Records one handled event atomically: new duties (a duty already known is left alone), duties woken
   * (their subject named by the event: due now, unless already done), leader entries seen, the checkpoint.
   */
  advance(cp: Checkpoint, change: DutyChange, now = Date.now(), name = AGENTS_CHECKPOINT): { added: number; woken: number } {
    return this.advanceBatch(cp, [change], now, name);
  }

  /**
   * Records a batch of handled events (one block's, events/batches.ts) in ONE SQLite transaction: each
   * event's change applied in order, exactly as one `advance` per event would, then the checkpoint `cp`
   * (the batch's last event). The checkpoint never moves past an event whose duties are not committed with
   * it, and a block costs one commit (one fsync) instead of one per transaction in it.
   */
  advanceBatch(cp: Checkpoint, changes: DutyChange[], now = Date.now(), name = AGENTS_CHECKPOINT): { added: number; woken: number } {
    let added = 0;
    let woken = 0;
    const ins = prepared(this.db, `INSERT OR IGNORE INTO agent_duties (id, kind, meter_id, subject, round, state, due_at, event_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?)`);
    const reopen = prepared(this.db, `INSERT INTO agent_duties (id, kind, meter_id, subject, round, state, due_at, event_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET state = 'PENDING', due_at = excluded.due_at, attempts = 0, note = '', last_error = NULL, event_at = excluded.event_at, updated_at = excluded.updated_at
      WHERE agent_duties.state <> 'PENDING'`);
    const wake = prepared(this.db, `UPDATE agent_duties SET due_at = MIN(due_at, ?), event_at = ?, updated_at = ? WHERE subject = ? AND state = 'PENDING'`);
    const wakeMember = prepared(this.db, `UPDATE agent_duties SET due_at = MIN(due_at, ?), event_at = ?, updated_at = ? WHERE subject = ? AND state = 'PENDING' AND kind = 'member'`);
    const wakeKind = prepared(this.db, `UPDATE agent_duties SET due_at = MIN(due_at, ?), event_at = ?, updated_at = ? WHERE kind = ? AND state = 'PENDING'`);
    const wakeId = prepared(this.db, `UPDATE agent_duties SET due_at = MIN(due_at, ?), event_at = ?, updated_at = ? WHERE id = ? AND state = 'PENDING'`);
    const ent = prepared(this.db, 'INSERT OR IGNORE INTO agent_entries (leader, slot, task_id, ballot) VALUES (?, ?, ?, ?)');
    const fin = prepared(this.db, `UPDATE agent_duties SET state = 'DONE', note = ?, updated_at = ? WHERE id = ? AND state = 'PENDING'`);
    const defer = prepared(this.db, `UPDATE agent_duties SET due_at = ?, note = ?, event_at = ?, updated_at = ? WHERE id = ? AND state = 'PENDING'`);
    this.db.transaction(() => {
      for (const change of changes) {
        for (const d of change.add) added += (d.reopen ? reopen : ins).run(d.id, d.kind, d.meterId, d.subject, d.round, d.dueAt, now, now, now).changes;
        for (const s of new Set(change.wake)) woken += wake.run(now, now, now, s).changes;
        for (const s of new Set(change.wakeMembers ?? [])) if (!change.wake.includes(s)) woken += wakeMember.run(now, now, now, s).changes;
        for (const k of new Set(change.wakeKinds ?? [])) woken += wakeKind.run(now, now, now, k).changes;
        for (const id of new Set(change.wakeIds ?? [])) woken += wakeId.run(now, now, now, id).changes;
        for (const d of change.defer ?? []) defer.run(d.dueAt, d.note, now, now, d.id);
        for (const e of change.entries) ent.run(e.leader, e.slot, e.taskId, e.ballot);
        for (const f of change.finish ?? []) fin.run(f.note, now, f.id);
      }
      prepared(this.db, 'INSERT INTO event_checkpoints (name, block, tx_id, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET block = excluded.block, tx_id = excluded.tx_id, updated_at = excluded.updated_at').run(name, cp.block, cp.txId, now);
    })();
    return { added, woken };
  }

  due(now: number, limit = 32): Duty[] {
    return (prepared(this.db, `SELECT * FROM agent_duties WHERE state = 'PENDING' AND due_at <= ? ORDER BY due_at, id LIMIT ?`).all(now, limit) as Row[]).map(toDuty);
  }

  nextDueAt(): number | undefined {
    const r = prepared(this.db, `SELECT MIN(due_at) AS t FROM agent_duties WHERE state = 'PENDING'`).get() as { t: number | null };
    return r.t ?? undefined;
  }

  get(id: string): Duty | undefined {
    const r = prepared(this.db, 'SELECT * FROM agent_duties WHERE id = ?').get(id) as Row | undefined;
    return r ? toDuty(r) : undefined;
  }

  pending(meterIds?: string[]): Duty[] {
    const rows = prepared(this.db, `SELECT * FROM agent_duties WHERE state = 'PENDING' ORDER BY due_at, id`).all() as Row[];
    const all = rows.map(toDuty);
    return meterIds ? all.filter((d) => meterIds.includes(d.meterId)) : all;
  }

  /** The pending duties of one subject (a task, a trade), optionally of one kind: what an event about it may wake. */
  pendingOf(subject: string, kind?: DutyKind): Duty[] {
    const rows = prepared(this.db, `SELECT * FROM agent_duties WHERE subject = ? AND state = 'PENDING' ORDER BY id`).all(subject) as Row[];
    return rows.map(toDuty).filter((d) => kind === undefined || d.kind === kind);
  }

  counts(): Record<string, number> {
    const rows = prepared(this.db, 'SELECT kind, COUNT(*) AS c FROM agent_duties WHERE state = ? GROUP BY kind').all('PENDING') as Array<{ kind: string; c: number }>;
    return Object.fromEntries(rows.map((r) => [r.kind, r.c]));
  }

  /**
   * Reschedules a pending duty (what it waits for in `note`); `attempt` counts a failed try. An event that
   * woke the duty after `since` (while it was running on older reads) keeps it due now.
   *
   * Committed without its own fsync (store/db.ts withoutFsync; the next fsynced commit makes it durable): a
   * duty's due time, note, attempts and end are bookkeeping that nothing is acknowledged on. A power cut
   * that loses them only makes a duty run again sooner, and every run re-reads the ledger before acting
   * (the chaincode refuses a second vote or entry), so nothing is done twice. Every duty re-run did one
   * such commit, an fsync each on the event loop: 15–18 % of a gateway's busy time in the profile
   * (docs/benchmarks.md "Gateway CPU per settled trade").
   */
  reschedule(id: string, dueAt: number, note: string, opts: { attempt?: boolean; error?: string | null; since?: number } = {}, now = Date.now()): void {
    withoutFsync(this.db, () => prepared(this.db, `UPDATE agent_duties SET due_at = CASE WHEN COALESCE(event_at, 0) > ? THEN MIN(?, ?) ELSE ? END, note = ?, attempts = attempts + ?,
         last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ? AND state = 'PENDING'`).run(opts.since ?? Number.MAX_SAFE_INTEGER, now, dueAt, dueAt, note, opts.attempt ? 1 : 0, opts.error ?? null, now, id));
  }

  /** Ends a duty (committed without its own fsync, as `reschedule`). */
  finish(id: string, state: Exclude<DutyState, 'PENDING'>, note: string, error: string | null = null, now = Date.now()): void {
    withoutFsync(this.db, () => prepared(this.db, 'UPDATE agent_duties SET state = ?, note = ?, last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ?').run(state, note, error, now, id));
  }

  /** Reopens a finished duty (e.g. a meter's behaviour changed back from silent). */
  reopenForMeter(meterId: string, now = Date.now()): number {
    return prepared(this.db, `UPDATE agent_duties SET state = 'PENDING', due_at = ?, updated_at = ? WHERE meter_id = ? AND state = 'DONE' AND note = 'behaviour silent'`).run(now, now, meterId).changes;
  }

  /**
   * Keeps a meter's sealed-bid secrets for one auction and opens its `auction` duty, in one transaction.
   * The same secrets again are accepted (a client's retry); different ones for the same (meter, auction,
   * role) are refused: a commitment on the ledger opens with exactly one secret.
   */
  putAuctionSecret(s: AuctionSecret, now = Date.now()): 'stored' | 'same' | 'different' {
    let out: 'stored' | 'same' | 'different' = 'stored';
    this.db.transaction(() => {
      const old = this.auctionSecret(s.meterId, s.requestId, s.role);
      if (old) {
        out = old.secret === s.secret && old.offerId === s.offerId && old.pricePerKwh === s.pricePerKwh && old.salt === s.salt ? 'same' : 'different';
        return;
      }
      prepared(this.db, 'INSERT INTO agent_auction_secrets (meter_id, request_id, role, sealed, created_at) VALUES (?, ?, ?, ?, ?)').run(s.meterId, s.requestId, s.role, sealAuctionSecret(this.key, s), now);
      prepared(this.db, `INSERT OR IGNORE INTO agent_duties (id, kind, meter_id, subject, round, state, due_at, event_at, created_at, updated_at) VALUES (?, 'auction', ?, ?, 0, 'PENDING', ?, ?, ?, ?)`).run(`auction|${s.requestId}|${s.role}|${s.meterId}`, s.meterId, s.requestId, now, now, now, now);
    })();
    return out;
  }

  /** The meter's secrets, opened; throws "cannot decrypt auction secrets: wrong GATEWAY_WALLET_KEY …" under another key. */
  auctionSecret(meterId: string, requestId: string, role: string): AuctionSecret | undefined {
    const r = prepared(this.db, 'SELECT role, sealed FROM agent_auction_secrets WHERE meter_id = ? AND request_id = ? AND role = ?').get(meterId, requestId, role) as
      | { role: 'buyer' | 'seller'; sealed: string }
      | undefined;
    if (!r) return undefined;
    const o = JSON.parse(openSecret(this.key, r.sealed, auctionAad(meterId, requestId, r.role), 'auction secrets')) as { secret: string; offerId?: string; pricePerKwh?: number; salt?: string };
    return {
      meterId,
      requestId,
      role: r.role,
      secret: o.secret,
      ...(o.offerId !== undefined ? { offerId: o.offerId } : {}),
      ...(o.pricePerKwh !== undefined ? { pricePerKwh: o.pricePerKwh } : {}),
      ...(o.salt !== undefined ? { salt: o.salt } : {}),
    };
  }

  hasAct(act: string): boolean {
    return prepared(this.db, 'SELECT 1 FROM agent_acts WHERE act = ?').get(act) !== undefined;
  }

  /** Records a committed act (without its own fsync, as `reschedule`: the ledger, which the duty re-reads before acting, is the authority). */
  recordAct(act: string, dutyId: string, txId: string | null, outcome: string, now = Date.now()): void {
    withoutFsync(this.db, () => prepared(this.db, 'INSERT OR IGNORE INTO agent_acts (act, duty_id, tx_id, outcome, at) VALUES (?, ?, ?, ?, ?)').run(act, dutyId, txId, outcome, now));
  }

  acts(dutyId: string): Array<{ act: string; txId: string | null; outcome: string; at: number }> {
    return (prepared(this.db, 'SELECT act, tx_id, outcome, at FROM agent_acts WHERE duty_id = ? ORDER BY at, act').all(dutyId) as Array<{ act: string; tx_id: string | null; outcome: string; at: number }>).map((r) => ({
      act: r.act,
      txId: r.tx_id,
      outcome: r.outcome,
      at: r.at,
    }));
  }

  /** Other entries by `leader` in `slot` seen on the ledger (admission Condition 2). */
  entriesInSlot(leader: string, slot: number): Array<{ taskId: string; ballot: string }> {
    return (prepared(this.db, 'SELECT task_id, ballot FROM agent_entries WHERE leader = ? AND slot = ?').all(leader, slot) as Array<{ task_id: string; ballot: string }>).map((r) => ({ taskId: r.task_id, ballot: r.ballot }));
  }

  /** Slots in which `leader` made an entry, among `slots`. */
  enteredSlots(leader: string): Set<number> {
    return new Set((prepared(this.db, 'SELECT slot FROM agent_entries WHERE leader = ?').all(leader) as Array<{ slot: number }>).map((r) => r.slot));
  }

  participantOf(meterId: string): string | undefined {
    const r = prepared(this.db, 'SELECT participant_id FROM agent_meters WHERE meter_id = ?').get(meterId) as { participant_id: string | null } | undefined;
    return r?.participant_id ?? undefined;
  }

  setParticipant(meterId: string, participantId: string, now = Date.now()): void {
    prepared(this.db, `INSERT INTO agent_meters (meter_id, participant_id, updated_at) VALUES (?, ?, ?) ON CONFLICT(meter_id) DO UPDATE SET participant_id = excluded.participant_id, updated_at = excluded.updated_at`).run(meterId, participantId, now);
  }

  /** meterId by participant id, for the meters whose participant id is known. */
  meterByParticipant(): Map<string, string> {
    const rows = prepared(this.db, 'SELECT meter_id, participant_id FROM agent_meters WHERE participant_id IS NOT NULL').all() as Array<{ meter_id: string; participant_id: string }>;
    return new Map(rows.map((r) => [r.participant_id, r.meter_id]));
  }

  /** A meter's settings: what the operator set through the API, else the configured defaults. */
  settings(meterId: string, defaults: AgentSettings = DEFAULT_SETTINGS): AgentSettings {
    const r = prepared(this.db, 'SELECT behaviour, autopilot FROM agent_meters WHERE meter_id = ?').get(meterId) as { behaviour: string | null; autopilot: number | null } | undefined;
    return {
      behaviour: r && isBehaviour(r.behaviour) ? r.behaviour : defaults.behaviour,
      autopilot: r && r.autopilot !== null ? r.autopilot === 1 : defaults.autopilot,
    };
  }

  setSettings(meterId: string, s: { behaviour?: Behaviour; autopilot?: boolean }, defaults: AgentSettings = DEFAULT_SETTINGS, now = Date.now()): AgentSettings {
    const cur = this.settings(meterId, defaults);
    const next: AgentSettings = { behaviour: s.behaviour ?? cur.behaviour, autopilot: s.autopilot ?? cur.autopilot };
    prepared(this.db, `INSERT INTO agent_meters (meter_id, behaviour, autopilot, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(meter_id) DO UPDATE SET behaviour = excluded.behaviour, autopilot = excluded.autopilot, updated_at = excluded.updated_at`).run(meterId, next.behaviour, next.autopilot ? 1 : 0, now);
    return next;
  }
}

interface Row {
  id: string;
  kind: DutyKind;
  meter_id: string;
  subject: string;
  round: number;
  state: DutyState;
  due_at: number;
  attempts: number;
  note: string;
  last_error: string | null;
  event_at: number | null;
  created_at: number;
  updated_at: number;
}

const toDuty = (r: Row): Duty => ({
  id: r.id,
  kind: r.kind,
  meterId: r.meter_id,
  subject: r.subject,
  round: r.round,
  state: r.state,
  dueAt: r.due_at,
  attempts: r.attempts,
  note: r.note,
  lastError: r.last_error,
  eventAt: r.event_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
