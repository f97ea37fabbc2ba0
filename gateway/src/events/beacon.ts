import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SecretKey } from '@chainsafe/blst';
import type { Logger } from 'pino';
import { parseResult } from '../delivery/worker';
import { LedgerError, normalizeLedgerError } from '../fabric/errors';
import { beaconMessage, EVENTS, unpackEvents, type SubCodeOf } from '@gridledger/protocol';
import type { ActingIdentity, EventStream, LedgerClient, LedgerEvent } from '../fabric/ledger';
import type { Submitter } from '../fabric/submitter';
import type { Metrics } from '../ops/metrics';
import type { BeaconStore, ContributionJob, JobUpdate, NewJob } from './store';
import { beaconTurnOrder, turnDueAt } from './turns';
import { blockBatches } from './batches';
import { openBytes, sealBytes } from '../identity/wallet';

export const CHECKPOINT_NAME = 'beacon';

/**
 * The utility's BLS12-381 beacon key, kept in `<dataDir>/beacon.key` encrypted with the wallet key
 * (AES-256-GCM, the MSP ID in the AAD). Created once; never replaced by the gateway (the ledger refuses a
 * second key until the regulator revokes the first). The file holds the 32-byte big-endian scalar, the
 * same bytes for blst as for the @noble/curves gateways that wrote earlier files.
 */
export function loadOrCreateBeaconKey(dataDir: string, walletKey: Buffer, mspId: string): { secretKey: Uint8Array; publicKeyHex: string; created: boolean } {
  const file = path.join(dataDir, 'beacon.key');
  const aad = `gridledger-beacon:${mspId}`;
  let created = false;
  if (!fs.existsSync(file)) {
    // The wallet's seal (identity/wallet.ts), its parts kept in this file's JSON fields.
    const [, iv, tag, ciphertext] = sealBytes(walletKey, Buffer.from(SecretKey.fromKeygen(randomBytes(32)).toBytes()), aad).split('.');
    const sealed = { version: 1, mspId, iv, tag, ciphertext };
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, JSON.stringify(sealed) + '\n', { mode: 0o600, flag: 'wx' });
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const sealed = JSON.parse(fs.readFileSync(file, 'utf8')) as { mspId: string; iv: string; tag: string; ciphertext: string };
  if (sealed.mspId !== mspId) throw new Error(`${file} holds the beacon key of ${sealed.mspId}, not ${mspId}; use this org's data directory`);
  const sk = openBytes(walletKey, ['v1', sealed.iv, sealed.tag, sealed.ciphertext].join('.'), aad, `${file} with the configured walletKey`);
  return { secretKey: new Uint8Array(sk), publicKeyHex: Buffer.from(SecretKey.fromBytes(sk).toPublicKey().toBytes()).toString('hex'), created };
}

/**
 * THE BLS signature of a beacon message (its UTF-8 bytes), compressed G2 as lowercase hex. blst signs
 * under the protocol's `BEACON_DST` (@gridledger/protocol; pinned by a known-answer test), the tag the
 * chaincode verifies with (chaincode/src/governance/domain/entropy.ts). About 0.5 ms native, where
 * pure-JS @noble/curves took ~37 ms (23 % of a gateway's CPU under bench:market, docs/benchmarks.md).
 */
export function signBeacon(secretKey: SecretKey, message: string): string {
  return Buffer.from(secretKey.sign(Buffer.from(message, 'utf8')).toBytes()).toString('hex');
}

export interface BeaconOptions {
  ledger: LedgerClient;
  submitter: Pick<Submitter, 'submit'>;
  store: BeaconStore;
  operator: ActingIdentity;
  channel: string;
  secretKey: Uint8Array;
  publicKeyHex: string;
  logger: Logger;
  metrics: Metrics;
  /** block to start from when there is no checkpoint yet (0 = the whole chain: no TaskOpened is missed) */
  startBlock: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** how long to wait before re-opening a broken event stream */
  reconnectMs: number;
  /**
   * Contributions in turns (events/turns.ts): how long after a round opened a utility that has not
   * contributed counts as silent, per position, so that the next one steps in. 0: no turns, every
   * utility contributes at once (as before turns).
   */
  stepInMs: number;
}

type Outcome = 'contributed' | 'superseded' | 'refused' | 'retry';

/**
 * This utility's contributor to the committee beacon (docs/governance.md §5):
 * 1. `registerKey()` — registers the BLS key once (`committees:registerBeaconKey` as the operator), skipped
 *    if the ledger already has it.
 * 2. A listener on the chaincode events, resumed from a checkpoint in SQLite: every `TaskOpened` (first
 *    round and re-drawn rounds) naming this utility becomes a durable job in the same SQLite transaction
 *    that moves the checkpoint past its event — a restart neither misses nor repeats an event.
 * 3. Turns (events/turns.ts): the round's utilities contribute one after the other in an order derived
 *    from the task id and round, each as soon as the ones before it have (their `EntropyContributed`
 *    events, handled like `TaskOpened`), a later one stepping in after `stepInMs` per silent one before
 *    it; once the quorum is on the ledger the others do not sign at all.
 * 4. A worker that signs the beacon message and submits `committees:contributeEntropy`. Transient
 *    failures are retried with capped exponential backoff; the ledger accepts one contribution per
 *    utility and round, and a re-sent contribution after a crash is answered "already contributed",
 *    which counts as done — so each round gets exactly one contribution.
 */
/**
 * The ledger holds another beacon key for this utility than this gateway's: the gateway must not
 * contribute until an operator restores its key or the regulator revokes the old one.
 */
export class BeaconKeyConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BeaconKeyConflictError';
  }
}

export class BeaconService {
  private stopped = true;
  private stream: EventStream | undefined;
  private listening: Promise<void> | undefined;
  private working: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly mspId: string;
  private readonly secretKey: SecretKey;

  constructor(private readonly o: BeaconOptions) {
    this.mspId = o.operator.mspId;
    this.secretKey = SecretKey.fromBytes(o.secretKey);
  }

  get publicKeyHex(): string {
    return this.o.publicKeyHex;
  }

  /** Registers the key unless the ledger has it. Throws with what to do if the ledger holds a different key. */
  async registerKey(): Promise<'registered' | 'already-registered'> {
    const keys = parseResult(await this.o.ledger.evaluate(this.o.operator, 'committees:getBeaconKeys', [])) as Array<{ mspId: string; publicKeyHex: string }> | Record<string, unknown>;
    const list = Array.isArray(keys) ? keys : Object.values(keys ?? {}) as Array<{ mspId: string; publicKeyHex: string }>;
    const mine = list.find((k) => k && k.mspId === this.mspId);
    if (mine) {
      if (mine.publicKeyHex !== this.o.publicKeyHex) {
        throw new BeaconKeyConflictError(
          `the ledger holds another beacon key for ${this.mspId} (${mine.publicKeyHex.slice(0, 16)}…) than this gateway's (${this.o.publicKeyHex.slice(0, 16)}…); restore the gateway's beacon.key, or have the regulator revoke the old key (committees:revokeBeaconKey)`,
        );
      }
      return 'already-registered';
    }
    try {
      await this.o.submitter.submit(this.o.operator, 'committees:registerBeaconKey', [this.o.publicKeyHex]);
    } catch (e) {
      // Another key was registered between the read above and this submit.
      const err = e instanceof LedgerError ? e : undefined;
      if (err?.chaincode?.subCode === ('BEACON_KEY_EXISTS' satisfies SubCodeOf<'CONFLICT'>)) {
        throw new BeaconKeyConflictError(`the ledger holds another beacon key for ${this.mspId} than this gateway's: ${err.chaincode.text}`);
      }
      throw e;
    }
    this.o.logger.info({ mspId: this.mspId, publicKeyHex: this.o.publicKeyHex }, 'beacon key registered');
    return 'registered';
  }

  /**
   * Handles one chaincode event: new contribution jobs (`TaskOpened`), the turns it moves and the jobs it
   * ends (`EntropyContributed`), and the checkpoint, in one SQLite transaction. Returns the jobs added.
   */
  handleEvent(ev: LedgerEvent, now = Date.now()): number {
    return this.handleEvents([ev], now);
  }

  /**
   * Handles a batch of chaincode events (one block's, events/batches.ts) as `handleEvent` handles one, in ONE
   * SQLite transaction with the checkpoint past the batch's last event: a later event of the batch sees
   * what an earlier one created or changed (`fresh` jobs, `earlier` updates), as if each had been committed.
   */
  handleEvents(evs: LedgerEvent[], now = Date.now()): number {
    const last = evs.at(-1);
    if (!last) return 0;
    const jobs: NewJob[] = [];
    const updates: JobUpdate[] = [];
    let moved = false;
    for (const ev of evs) {
      for (const e of unpackEvents(ev)) {
        if (e.name === EVENTS.entropyContributed) {
          const u = this.contributionSeen(e.payload, jobs, updates, now);
          if (u) {
            updates.push(u);
            moved ||= u.dueAt !== undefined; // the worker re-arms its timer for the new time
          }
          continue;
        }
        if (e.name !== EVENTS.taskOpened) continue;
        const p = e.payload as { taskId?: unknown; round?: unknown; beaconMessage?: unknown; utilities?: unknown; quorum?: unknown };
        if (typeof p.taskId !== 'string' || typeof p.round !== 'number') continue;
        if (Array.isArray(p.utilities) && !p.utilities.includes(this.mspId)) continue; // our key was not in the task's snapshot
        const message = beaconMessage(this.o.channel, p.taskId, p.round);
        if (p.beaconMessage !== message) {
          this.o.logger.warn({ taskId: p.taskId, round: p.round, announced: p.beaconMessage, expected: message }, 'TaskOpened announces another beacon message than this channel expects; signing the expected one');
        }
        const job: NewJob = { taskId: p.taskId, round: p.round, message };
        // Turns need the snapshot's utilities and the quorum; without them (or with turns off) contribute at once.
        if (this.o.stepInMs > 0 && Array.isArray(p.utilities) && typeof p.quorum === 'number') {
          job.turnOrder = beaconTurnOrder(p.taskId, p.round, p.utilities.filter((u): u is string => typeof u === 'string'));
          job.quorum = p.quorum;
          job.dueAt = turnDueAt({ order: job.turnOrder, me: this.mspId, contributed: new Set(), quorum: p.quorum, openedAt: now, stepInMs: this.o.stepInMs });
        }
        jobs.push(job);
      }
    }
    const added = this.o.store.advance(CHECKPOINT_NAME, { block: last.blockNumber, txId: last.txId }, jobs, now, updates);
    this.o.metrics.eventsCheckpointBlock.set(last.blockNumber);
    for (const u of updates) if (u.finish?.state === 'SUPERSEDED') this.o.metrics.beaconContributions.inc({ outcome: 'superseded' });
    if (added) {
      this.o.logger.info({ block: last.blockNumber, txId: last.txId, tasks: jobs.map((j) => `${j.taskId}#${j.round}${j.dueAt !== undefined && j.dueAt > now ? ` in ${j.dueAt - now} ms` : ''}`) }, 'task opened: beacon contribution due');
    }
    if (added || moved) this.kick();
    return added;
  }

  /**
   * What an `EntropyContributed` event changes in this utility's job for that round (undefined: nothing).
   * `fresh` and `earlier`: the jobs and updates of the batch's earlier events, not committed yet.
   */
  private contributionSeen(p: Record<string, unknown>, fresh: readonly NewJob[], earlier: readonly JobUpdate[], now: number): JobUpdate | undefined {
    const { taskId, round, mspId, contributions, quorum } = p;
    if (typeof taskId !== 'string' || typeof round !== 'number' || typeof mspId !== 'string') return undefined;
    const known = this.o.store.get(taskId, round);
    const job = known ?? fresh.find((j) => j.taskId === taskId && j.round === round);
    if (!job || (known && known.state !== 'PENDING')) return undefined; // not ours, or already ended
    const before = earlier.filter((u) => u.taskId === taskId && u.round === round).at(-1);
    if (before?.finish) return undefined; // ended by an earlier event of the batch
    const contributed = [...new Set([...(before?.contributed ?? known?.contributed ?? []), mspId])];
    const update: JobUpdate = { taskId, round, contributed };
    if (mspId === this.mspId) {
      update.finish = { state: 'CONTRIBUTED', note: 'seen on the ledger (EntropyContributed)' };
    } else if (typeof contributions === 'number' && typeof quorum === 'number' && contributions >= quorum) {
      update.finish = { state: 'SUPERSEDED', note: `quorum reached without this utility (${contributions} of ${quorum})` };
      this.o.logger.info({ taskId, round, contributions, quorum }, 'beacon quorum reached by other utilities: no contribution needed');
    } else {
      const order = known ? known.turnOrder : (job as NewJob).turnOrder;
      const q = known ? known.quorum : (job as NewJob).quorum;
      if (order && q !== null && q !== undefined) {
        update.dueAt = turnDueAt({ order, me: this.mspId, contributed: new Set(contributed), quorum: q, openedAt: known?.openedAt ?? now, stepInMs: this.o.stepInMs });
      }
    }
    return update;
  }

  /** Contributes every due job once; returns how many were attempted. */
  async runOnce(now = Date.now()): Promise<number> {
    const due = this.o.store.due(now);
    for (const job of due) await this.contribute(job);
    this.o.metrics.beaconPending.set(this.o.store.all().filter((j) => j.state === 'PENDING').length);
    return due.length;
  }

  private async contribute(job: ContributionJob): Promise<Outcome> {
    const sig = signBeacon(this.secretKey, job.message);
    const log = this.o.logger.child({ taskId: job.taskId, round: job.round, attempt: job.attempts + 1 });
    let outcome: Outcome;
    try {
      const r = await this.o.submitter.submit(this.o.operator, 'committees:contributeEntropy', [job.taskId, String(job.round), sig]);
      this.o.store.finish(job.taskId, job.round, 'CONTRIBUTED', r.txId, null);
      const task = parseResult(r.result) as { status?: string; contributions?: unknown[] } | null;
      log.info({ txId: r.txId, block: r.blockNumber, status: task?.status, contributions: task?.contributions?.length }, 'beacon contribution committed');
      outcome = 'contributed';
    } catch (e) {
      const err = e instanceof LedgerError ? e : normalizeLedgerError(e, 'endorse');
      const code = err.chaincode?.code;
      const text = err.chaincode?.text ?? err.message;
      if (code === 'CONFLICT' && err.chaincode?.subCode === ('ALREADY_CONTRIBUTED' satisfies SubCodeOf<'CONFLICT'>)) {
        this.o.store.finish(job.taskId, job.round, 'CONTRIBUTED', null, `ledger: ${text}`);
        log.info({ reason: text }, 'beacon contribution already on the ledger (an earlier attempt committed)');
        outcome = 'contributed';
      } else if (code === 'CONFLICT') {
        this.o.store.finish(job.taskId, job.round, 'SUPERSEDED', null, text);
        log.info({ reason: text }, 'beacon contribution not needed any more');
        outcome = 'superseded';
      } else if (code === 'FORBIDDEN' || code === 'NOT_FOUND' || code === 'INVALID_ARGUMENT' || code === 'UNAUTHENTICATED') {
        this.o.store.finish(job.taskId, job.round, 'REFUSED', null, `${code}: ${text}`);
        log.error({ code, reason: text }, 'beacon contribution refused by the ledger');
        outcome = 'refused';
      } else {
        const delay = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** Math.min(job.attempts, 20));
        const at = Date.now() + Math.round(delay / 2 + Math.random() * (delay / 2));
        this.o.store.retryLater(job.taskId, job.round, `${code ? `${code}: ` : ''}${text}`.slice(0, 500), at);
        log.warn({ err: text, retryInMs: at - Date.now() }, 'beacon contribution failed; retrying');
        outcome = 'retry';
        this.arm(at);
      }
    }
    this.o.metrics.beaconContributions.inc({ outcome });
    return outcome;
  }

  /** Starts the event listener and the contribution worker. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
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
    this.timer = setTimeout(() => this.kick(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private async listen(): Promise<void> {
    while (!this.stopped) {
      const cp = this.o.store.checkpoint(CHECKPOINT_NAME);
      const opts = cp ? { startBlock: cp.block, afterTxId: cp.txId } : { startBlock: this.o.startBlock };
      try {
        this.stream = await this.o.ledger.chaincodeEvents(this.o.operator, opts);
        this.o.logger.info({ ...opts }, 'listening for chaincode events (beacon)');
        for await (const batch of blockBatches(this.stream)) {
          if (this.stopped) break;
          this.handleEvents(batch);
        }
      } catch (e) {
        if (this.stopped) break;
        this.o.logger.warn({ err: (e as Error).message }, 'chaincode event stream failed; reconnecting from the checkpoint');
      } finally {
        this.stream?.close();
        this.stream = undefined;
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, this.o.reconnectMs).unref());
    }
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.runOnce();
      } catch (e) {
        this.o.logger.error({ err: (e as Error).message }, 'beacon worker pass failed');
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
