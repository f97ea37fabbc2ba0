import { EVENTS, type ChaincodeEvent } from '@gridledger/protocol';
import { prepared, type Db } from '../store/db';
import { DDL, META_DDL, SCHEMA_VERSION, TABLES } from './schema';


/** Immutable fields of records an event names but does not carry, read from the ledger before applying. */
export interface TradeFacts {
  seller: string | null;
  buyer: string | null;
  sellerMspId: string | null;
  buyerMspId: string | null;
  sellerMeterId: string | null;
  buyerMeterId: string | null;
}
export interface OfferFacts {
  seller: string | null;
  sellerMspId: string | null;
  sellerMeterId: string | null;
}
export interface ReadingFacts {
  intervalLength: number | null;
  importWh: number | null;
  exportWh: number | null;
}
export interface Enrichment {
  trades: Map<string, TradeFacts>;
  offers: Map<string, OfferFacts>;
  /** key `<meterId>@<intervalStart>` */
  readings: Map<string, ReadingFacts>;
}

export interface AppliedTx {
  blockNumber: number;
  txId: string;
  events: ChaincodeEvent[];
}

export interface AnalyticsCheckpoint {
  block: number;
  txId: string;
  /** named events applied so far (the ingest counter) */
  events: number;
}

export const CHECKPOINT = 'analytics';

/** The ballot that ends a task when approved, per task kind's ballot list in the chaincode. */
const LAST_BALLOTS: ReadonlySet<string> = new Set(['admission', 'final']);

export const emptyEnrichment = (): Enrichment => ({ trades: new Map(), offers: new Map(), readings: new Map() });

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);

/**
 * The off-chain analytics tables of one utility (schema.ts). `apply` handles one transaction's events
 * and moves the checkpoint past it in ONE SQLite transaction, so after a crash the store resumes exactly
 * after the last transaction it holds; a transaction already applied (its id is recorded) changes nothing —
 * re-applying never counts anything twice.
 */
export class AnalyticsStore {
  constructor(
    readonly db: Db,
    /** the MSP whose meters' readings this store keeps (the gateway's own utility) */
    readonly mspId: string,
  ) {
    db.exec(META_DDL);
    const v = (db.prepare("SELECT value FROM an_meta WHERE name = 'schema'").get() as { value: string } | undefined)?.value;
    if (v !== String(SCHEMA_VERSION)) {
      // written by another version (or new): start over; the listener replays the chain from block 0
      this.rebuilt = v !== undefined;
      db.transaction(() => {
        for (const t of TABLES) db.exec(`DROP TABLE IF EXISTS ${t.name}`);
        db.exec(DDL);
        db.prepare("INSERT INTO an_meta (name, value) VALUES ('schema', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value").run(String(SCHEMA_VERSION));
      })();
    } else db.exec(DDL);
  }

  /** true when the constructor dropped a store written by another schema version (to be rebuilt) */
  readonly rebuilt: boolean = false;

  checkpoint(): AnalyticsCheckpoint | undefined {
    const r = prepared(this.db, 'SELECT block_number, tx_id, events FROM an_checkpoint WHERE name = ?').get(CHECKPOINT) as { block_number: number; tx_id: string; events: number } | undefined;
    return r ? { block: r.block_number, txId: r.tx_id, events: r.events } : undefined;
  }

  /**
   * Applies a batch of transactions (one block's, events/batches.ts) in ONE SQLite transaction, in order,
   * each as `apply` does; the checkpoint ends past the batch's last transaction. Returns how many were new.
   */
  applyBatch(txs: Array<{ tx: AppliedTx; enrich: Enrichment }>): number {
    return this.db.transaction(() => txs.filter(({ tx, enrich }) => this.apply(tx, enrich)).length)();
  }

  /** Applies one transaction; returns false when it had been applied before (nothing counted again). */
  apply(tx: AppliedTx, enrich: Enrichment = emptyEnrichment()): boolean {
    return this.db.transaction(() => {
      // Already applied (a stream that re-delivers, a replayed test input): nothing changes, not even the
      // checkpoint, which is at or after this transaction.
      if (prepared(this.db, 'SELECT 1 AS x FROM an_applied_tx WHERE tx_id = ?').get(tx.txId)) return false;
      const events = this.checkpoint()?.events ?? 0;
      tx.events.forEach((e, idx) => this.applyEvent(tx, idx, e, enrich));
      prepared(this.db, 'INSERT INTO an_applied_tx (tx_id, block_number) VALUES (?, ?)').run(tx.txId, tx.blockNumber);
      prepared(this.db, 'INSERT INTO an_checkpoint (name, block_number, tx_id, events) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET block_number = excluded.block_number, tx_id = excluded.tx_id, events = excluded.events').run(CHECKPOINT, tx.blockNumber, tx.txId, events + tx.events.length);
      return true;
    })();
  }

  /** Every table in key order (rebuild comparisons, debugging). */
  dump(): Record<string, unknown[]> {
    const out: Record<string, unknown[]> = {};
    for (const t of TABLES) out[t.name] = prepared(this.db, `SELECT * FROM ${t.name} ORDER BY ${t.key}`).all();
    return out;
  }

  private run(sql: string, ...args: unknown[]): void {
    prepared(this.db, sql).run(...args);
  }

  private applyEvent(tx: AppliedTx, idx: number, e: ChaincodeEvent, x: Enrichment): void {
    const p = e.payload;
    const b = tx.blockNumber;
    switch (e.name) {
      case EVENTS.meterEnrolled:
        this.run(
          'INSERT INTO an_meters (meter_id, msp_id, zone, block_number) VALUES (?, ?, ?, ?) ON CONFLICT (meter_id) DO UPDATE SET msp_id = excluded.msp_id, zone = excluded.zone, block_number = excluded.block_number',
          str(p.meterId), str(p.mspId), str(p.zone) ?? 'unknown', b,
        );
        return;
      case EVENTS.participantJoined:
        this.run(
          `INSERT INTO an_participants (participant_id, msp_id, zone, status, q_score, penalty_count, banned_until, block_number) VALUES (?, ?, ?, 'PENDING', NULL, 0, NULL, ?)
           ON CONFLICT (participant_id) DO UPDATE SET msp_id = excluded.msp_id, zone = excluded.zone, status = 'PENDING', block_number = excluded.block_number`,
          str(p.participantId), str(p.mspId), str(p.zone), b,
        );
        return;
      case EVENTS.participantAdmitted:
        this.participant(str(p.participantId), b);
        this.run('UPDATE an_participants SET status = ?, q_score = ?, zone = COALESCE(?, zone), block_number = ? WHERE participant_id = ?', 'ACTIVE', int(p.qScore), str(p.zone), b, str(p.participantId));
        return;
      case EVENTS.participantRejected:
        this.participant(str(p.participantId), b);
        this.run('UPDATE an_participants SET status = ?, block_number = ? WHERE participant_id = ?', 'REJECTED', b, str(p.participantId));
        return;
      case EVENTS.participantReinstated:
        this.participant(str(p.participantId), b);
        this.run('UPDATE an_participants SET status = ?, block_number = ? WHERE participant_id = ?', 'ACTIVE', b, str(p.participantId));
        return;
      case EVENTS.participantSuspended:
      case EVENTS.participantBanned:
      case EVENTS.participantPenalised: {
        const pid = str(p.participantId);
        this.participant(pid, b);
        const kind = e.name === EVENTS.participantSuspended ? 'suspension' : e.name === EVENTS.participantBanned ? 'ban' : 'penalty';
        if (kind === 'penalty') this.run('UPDATE an_participants SET penalty_count = ?, block_number = ? WHERE participant_id = ?', int(p.penaltyCount) ?? 0, b, pid);
        else this.run('UPDATE an_participants SET status = ?, banned_until = COALESCE(?, banned_until), block_number = ? WHERE participant_id = ?', kind === 'ban' ? 'BANNED' : 'SUSPENDED', int(p.bannedUntil), b, pid);
        this.run(
          'INSERT INTO an_sanctions (block_number, tx_id, idx, participant_id, kind, reason, penalty_count, banned_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (block_number, tx_id, idx) DO NOTHING',
          b, tx.txId, idx, pid, kind, str(p.reason) ?? '', int(p.penaltyCount), int(p.bannedUntil),
        );
        return;
      }
      case EVENTS.qScoreChanged: {
        const pid = str(p.participantId);
        this.participant(pid, b);
        // A raise is a credit (docs/governance.md §8 "Score credits"): the event carries the delta and no
        // score, so the row adds it (unbounded: the ledger caps the sum at qScoreMax when it folds).
        if (p.credited === true) this.run('UPDATE an_participants SET q_score = q_score + ?, block_number = ? WHERE participant_id = ?', int(p.delta) ?? 0, b, pid);
        else this.run('UPDATE an_participants SET q_score = ?, block_number = ? WHERE participant_id = ?', int(p.qScore), b, pid);
        const after = p.credited === true
          ? (this.db.prepare('SELECT q_score FROM an_participants WHERE participant_id = ?').get(pid) as { q_score: number | null } | undefined)?.q_score
          : int(p.qScore);
        this.run(
          'INSERT INTO an_qscores (block_number, tx_id, idx, participant_id, q_score, delta, reason) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (block_number, tx_id, idx) DO NOTHING',
          b, tx.txId, idx, pid, after ?? 0, int(p.delta) ?? 0, str(p.reason) ?? '',
        );
        return;
      }
      case EVENTS.readingRecorded: {
        // Other utilities' readings are private to them (their collection): this store keeps only its own.
        if (str(p.mspId) !== this.mspId) return;
        const meterId = str(p.meterId);
        const zone = (prepared(this.db, 'SELECT zone FROM an_meters WHERE meter_id = ?').get(meterId) as { zone: string } | undefined)?.zone ?? 'unknown';
        for (const start of Array.isArray(p.intervals) ? p.intervals : []) {
          if (int(start) === null) continue;
          const r = x.readings.get(`${meterId}@${start}`);
          this.run(
            `INSERT INTO an_readings (meter_id, interval_start, msp_id, zone, interval_length, import_wh, export_wh, block_number, tx_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (meter_id, interval_start) DO NOTHING`,
            meterId, start, this.mspId, zone, r?.intervalLength ?? null, r?.importWh ?? null, r?.exportWh ?? null, b, tx.txId,
          );
        }
        return;
      }
      case EVENTS.offerCreated: {
        const f = x.offers.get(str(p.offerId) ?? '');
        this.run(
          `INSERT INTO an_offers (offer_id, seller, seller_msp_id, seller_meter_id, amount_wh, price_per_kwh, delivery_start, expires_at, status, trade_id, created_block, updated_block)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'OPEN', NULL, ?, ?) ON CONFLICT (offer_id) DO NOTHING`,
          str(p.offerId), f?.seller ?? null, f?.sellerMspId ?? null, f?.sellerMeterId ?? null, int(p.amountWh) ?? 0, int(p.pricePerKwh) ?? 0, int(p.deliveryStart) ?? 0, int(p.expiresAt) ?? 0, b, b,
        );
        return;
      }
      case EVENTS.offerAccepted:
        this.run("UPDATE an_offers SET status = 'ACCEPTED', trade_id = ?, updated_block = ? WHERE offer_id = ?", str(p.tradeId), b, str(p.offerId));
        return;
      case EVENTS.offerClosed:
        this.run('UPDATE an_offers SET status = ?, updated_block = ? WHERE offer_id = ?', str(p.status) ?? 'CLOSED', b, str(p.offerId));
        return;
      case EVENTS.auctionRequested:
        this.run(
          `INSERT INTO an_auctions (request_id, amount_wh, max_price_per_kwh, t1, t2, delivery_start, status, phase, bids, revealed, winner_offer_id, price_per_kwh, trade_id, created_block, updated_block)
           VALUES (?, ?, ?, ?, ?, ?, 'OPEN', 'commit', 0, 0, NULL, NULL, NULL, ?, ?) ON CONFLICT (request_id) DO NOTHING`,
          str(p.requestId), int(p.amountWh) ?? 0, int(p.maxPricePerKwh) ?? 0, int(p.t1) ?? 0, int(p.t2) ?? 0, int(p.deliveryStart) ?? 0, b, b,
        );
        return;
      case EVENTS.auctionBid:
        this.run('UPDATE an_auctions SET bids = bids + 1, updated_block = ? WHERE request_id = ?', b, str(p.requestId));
        return;
      case EVENTS.auctionRevealed:
        this.run("UPDATE an_auctions SET revealed = revealed + ?, phase = 'reveal', updated_block = ? WHERE request_id = ?", p.status === 'REVEALED' ? 1 : 0, b, str(p.requestId));
        return;
      case EVENTS.auctionClosed:
      case EVENTS.auctionReawarded:
        this.run(
          `UPDATE an_auctions SET status = COALESCE(?, status), phase = 'claim', winner_offer_id = ?, price_per_kwh = ?, updated_block = ? WHERE request_id = ?`,
          str(p.status) ?? 'AWARDED', str(p.winnerOfferId), int(p.pricePerKwh), b, str(p.requestId),
        );
        if (p.status === 'NO_WINNER') this.run("UPDATE an_auctions SET phase = 'closed' WHERE request_id = ?", str(p.requestId));
        return;
      case EVENTS.auctionFailed:
        this.run("UPDATE an_auctions SET status = 'FAILED', phase = 'closed', updated_block = ? WHERE request_id = ?", b, str(p.requestId));
        return;
      case EVENTS.auctionTraded:
        this.run("UPDATE an_auctions SET status = 'TRADED', phase = 'closed', trade_id = ?, updated_block = ? WHERE request_id = ?", str(p.tradeId), b, str(p.requestId));
        return;
      case EVENTS.tradeCreated: {
        const tradeId = str(p.tradeId) ?? '';
        const f = x.trades.get(tradeId);
        const zone =
          (prepared(this.db, 'SELECT zone FROM an_meters WHERE meter_id = ?').get(f?.sellerMeterId ?? null) as { zone: string } | undefined)?.zone ??
          (prepared(this.db, 'SELECT zone FROM an_participants WHERE participant_id = ?').get(f?.seller ?? null) as { zone: string | null } | undefined)?.zone ??
          'unknown';
        this.run(
          `INSERT INTO an_trades (trade_id, origin, origin_id, seller, buyer, seller_msp_id, buyer_msp_id, seller_meter_id, buyer_meter_id, zone, amount_wh, price_per_kwh,
             delivery_start, delivery_deadline, state, fault, energy_to_buyer_wh, created_block, updated_block)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'AWAITING_ENERGY', NULL, NULL, ?, ?) ON CONFLICT (trade_id) DO NOTHING`,
          tradeId, str(p.origin) ?? 'offer', str(p.originId) ?? '', f?.seller ?? null, f?.buyer ?? null, f?.sellerMspId ?? null, f?.buyerMspId ?? null,
          f?.sellerMeterId ?? null, f?.buyerMeterId ?? null, zone, int(p.amountWh) ?? 0, int(p.pricePerKwh) ?? 0, int(p.deliveryStart) ?? 0, int(p.deliveryDeadline) ?? 0, b, b,
        );
        this.tradeEvent(tx, idx, tradeId, e, 'AWAITING_ENERGY');
        return;
      }
      case EVENTS.tradeEnergyEscrowed:
        this.tradeState(tx, idx, e, 'EXECUTION');
        return;
      case EVENTS.tradeDeliveryEvidenced:
        this.tradeEvent(tx, idx, str(p.tradeId) ?? '', e, null);
        return;
      case EVENTS.tradeStageAdvanced:
        this.tradeState(tx, idx, e, str(p.state) ?? 'FINAL');
        return;
      case EVENTS.tradeClosed:
        this.tradeState(tx, idx, e, str(p.state) ?? 'SETTLED');
        this.run('UPDATE an_trades SET fault = ?, energy_to_buyer_wh = ? WHERE trade_id = ?', str(p.fault), int(p.energyToBuyerWh), str(p.tradeId));
        return;
      case EVENTS.taskOpened:
        this.run(
          `INSERT INTO an_tasks (task_id, kind, subject_id, round, status, committee, zones, outcome, reason, opened_block, updated_block) VALUES (?, ?, ?, ?, 'AWAITING_ENTROPY', NULL, NULL, NULL, NULL, ?, ?)
           ON CONFLICT (task_id) DO UPDATE SET round = excluded.round, status = 'AWAITING_ENTROPY', committee = NULL, zones = NULL, updated_block = excluded.updated_block`,
          str(p.taskId), str(p.kind) ?? '', str(p.subjectId) ?? '', int(p.round) ?? 1, b, b,
        );
        return;
      case EVENTS.entropyContributed:
        this.run('INSERT INTO an_beacon (task_id, round, msp_id, block_number) VALUES (?, ?, ?, ?) ON CONFLICT (task_id, round, msp_id) DO NOTHING', str(p.taskId), int(p.round) ?? 0, str(p.mspId), b);
        // quorum reached: the seed is fixed (committees/tasks.ts); the committee is drawn now or, when too few
        // members are eligible yet, by a later draw — until then the task waits `seeded`
        if ((int(p.contributions) ?? 0) >= (int(p.quorum) ?? Number.MAX_SAFE_INTEGER)) {
          this.run("UPDATE an_tasks SET status = 'SEEDED', updated_block = ? WHERE task_id = ? AND status = 'AWAITING_ENTROPY'", b, str(p.taskId));
        }
        return;
      case EVENTS.committeeDrawn:
        this.run(
          "UPDATE an_tasks SET status = 'ACTIVE', round = ?, committee = ?, zones = ?, updated_block = ? WHERE task_id = ?",
          int(p.round) ?? 1, JSON.stringify(Array.isArray(p.committee) ? p.committee : []), JSON.stringify(Array.isArray(p.zones) ? p.zones : []), b, str(p.taskId),
        );
        return;
      case EVENTS.leaderEntryRecorded:
        this.run(
          'INSERT INTO an_leaders (task_id, ballot, round, leader, block_number) VALUES (?, ?, ?, ?, ?) ON CONFLICT (task_id, ballot, round) DO NOTHING',
          str(p.taskId), str(p.ballot) ?? '', int(p.round) ?? 0, str(p.leader) ?? '', b,
        );
        return;
      case EVENTS.voteRecorded:
        this.run(
          'INSERT INTO an_votes (task_id, ballot, round, voter, approve, block_number) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (task_id, ballot, round, voter) DO NOTHING',
          str(p.taskId), str(p.ballot) ?? '', int(p.round) ?? 0, str(p.voter) ?? '', p.approve === true ? 1 : 0, b,
        );
        return;
      case EVENTS.ballotDecided:
        this.run(
          'INSERT INTO an_decisions (task_id, ballot, round, outcome, approvals, refusals, block_number) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (task_id, ballot, round) DO NOTHING',
          str(p.taskId), str(p.ballot) ?? '', int(p.round) ?? 0, str(p.outcome) ?? '', int(p.approvals) ?? 0, int(p.refusals) ?? 0, b,
        );
        // The chaincode closes a task on a rejection or on its last ballot (committees/tasks.ts decideBallot);
        // the last ballots are `admission` (participants/registry.ts) and `final` (ledger/market/trades.ts).
        this.run(
          'UPDATE an_tasks SET outcome = ?, status = ?, updated_block = ? WHERE task_id = ?',
          str(p.outcome), p.outcome === 'REJECTED' || LAST_BALLOTS.has(str(p.ballot) ?? '') ? 'CLOSED' : 'ACTIVE', b, str(p.taskId),
        );
        return;
      case EVENTS.taskCancelled:
        this.run("UPDATE an_tasks SET status = 'CANCELLED', reason = ?, updated_block = ? WHERE task_id = ?", str(p.reason), b, str(p.taskId));
        return;
      default:
        return; // wallets, packets, parameters, beacon keys: not part of these tables
    }
  }

  /** A participant row for events about participants the store has not seen join (founding members). */
  private participant(pid: string | null, b: number): void {
    if (!pid) return;
    this.run(
      "INSERT INTO an_participants (participant_id, msp_id, zone, status, q_score, penalty_count, banned_until, block_number) VALUES (?, NULL, NULL, 'ACTIVE', NULL, 0, NULL, ?) ON CONFLICT (participant_id) DO NOTHING",
      pid, b,
    );
  }

  private tradeEvent(tx: AppliedTx, idx: number, tradeId: string, e: ChaincodeEvent, state: string | null): void {
    this.run(
      'INSERT INTO an_trade_events (trade_id, block_number, tx_id, idx, name, state, detail) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (trade_id, block_number, tx_id, idx) DO NOTHING',
      tradeId, tx.blockNumber, tx.txId, idx, e.name, state, JSON.stringify(e.payload),
    );
  }

  private tradeState(tx: AppliedTx, idx: number, e: ChaincodeEvent, state: string): void {
    const tradeId = str(e.payload.tradeId) ?? '';
    this.run('UPDATE an_trades SET state = ?, updated_block = ? WHERE trade_id = ?', state, tx.blockNumber, tradeId);
    this.tradeEvent(tx, idx, tradeId, e, state);
  }
}
