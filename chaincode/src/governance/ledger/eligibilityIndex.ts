/**
 * The committee index: per zone, a dense array of participants that may serve on committees
 * (`gl.elig.slot~<zone>~<position>` → participant id), a per-zone size (`gl.elig.zone~<zone>` →
 * {zone, count}) and, per indexed participant, where it sits (`gl.elig.pos~<pid>` → {zone, position}).
 * A draw reads the zone sizes (one small key per zone) and then only the positions it samples, so
 * its cost does not grow with the community. Draws never read the position keys.
 *
 * WHAT IS IN THE INDEX. Admission adds a participant. A participant whose status leaves `active`
 * for a lasting reason (suspension, ban) is removed by the transaction that changes the status,
 * and re-added when it comes back (reinstatement; after a ban's lazy expiry on the next
 * `participants:syncCommitteeIndex` or `participants:setStake` about it) — see
 * `services/registry.ts`. Removal is swap-with-last: the zone's last entry moves into the freed
 * position and the counter drops by one, so positions 0..count-1 stay dense and every draw attempt
 * lands on a live entry.
 *
 * WHAT IS CHECKED LAZILY. Q-score and stake thresholds (and, as a safety net, the status itself)
 * are checked at draw time on the sampled participant's current record (`isEligibleForCommittee`).
 * Scores and stakes move with every trade; moving index entries on every score change would make
 * every trade settlement write its zone's counter, and unrelated trades in one zone would then
 * collide under MVCC. Bans imposed automatically by a penalty inside a trade settlement or a
 * committee decision therefore do not touch the index either; the banned entry is skipped when
 * drawn until anyone calls `participants:syncCommitteeIndex` for it.
 *
 * MVCC. An add or a removal writes the zone counter, at most two slots and two position keys.
 * Two such changes in one zone in the same block conflict (one is invalidated and resubmitted),
 * and a committee draw that read the counter or a moved slot in that block is invalidated too
 * (the beacon contributor resubmits it). This is acceptable because these are rare governance
 * transactions (admissions, suspensions, bans, reinstatements — a handful per day even in a
 * 10,000-household community), whereas the hot paths — meter readings, offers, trades and their
 * settlement, votes, leader entries — never read or write any `gl.elig.*` key (test
 * `test/governance/committeeIndex.test.ts`). Position keys are separate from the participant
 * record on purpose: a swap moves ANOTHER participant, and writing its record would collide with
 * that participant's own trades.
 *
 * READ-YOUR-WRITES. Fabric does not return a transaction's own writes, so this module keeps a
 * per-transaction overlay of the index keys it wrote: several index changes in one transaction
 * (e.g. an admission and a ban in one zone) see each other and stay consistent.
 */
import type { ZoneSize } from '../domain/sampling';
import { KEY } from './keys';
import { GridLedgerError, fail } from '../../kernel/errors';
import { GridLedgerContext } from '../../kernel/context';
import { padUint } from '../../kernel/keys';

interface ZoneCounter {
  zone: string;
  count: number;
  /**
   * true once every entry of the zone has a position key. Zones created by this version start
   * with it; a zone indexed by an earlier version (entries were never removed, no position keys)
   * lacks it until `backfillPositions` has walked all its entries. Until then the zone is left
   * as it was (no removals, no re-adds: its suspended/banned entries are skipped lazily).
   */
  positionKeys?: boolean;
  /** Backfill progress of such a zone: positions below this have position keys. */
  backfilledTo?: number;
}

interface SlotEntry {
  participantId: string;
}

/** Where a participant sits in the committee index. */
export interface IndexEntry {
  zone: string;
  position: number;
}

// Reads and writes go through the transaction's one state view (ctx.state): later reads in the
// same transaction see its own writes, and each key is read from the ledger at most once.
const read = <T>(ctx: GridLedgerContext, key: string): Promise<T | undefined> => ctx.state.get<T>(key);
const write = (ctx: GridLedgerContext, key: string, value: unknown): Promise<void> => ctx.state.put(key, value);
const remove = (ctx: GridLedgerContext, key: string): Promise<void> => ctx.state.del(key);

const zoneKey = (ctx: GridLedgerContext, zone: string) => ctx.state.key(KEY.eligibleZone, [zone]);
const slotKey = (ctx: GridLedgerContext, zone: string, position: number) => ctx.state.key(KEY.eligibleSlot, [zone, padUint(position, 10)]);
const positionKey = (ctx: GridLedgerContext, pid: string) => ctx.state.key(KEY.eligiblePosition, [pid]);

function inconsistent(detail: string): Error {
  return new GridLedgerError('CONFLICT', 'INDEX_INCONSISTENT', `committee index is inconsistent: ${detail}; the index must be rebuilt by a chaincode upgrade before changing it`);
}

/** Where `participantId` sits in the index, or undefined if it is not indexed. */
export function readIndexEntry(ctx: GridLedgerContext, participantId: string): Promise<IndexEntry | undefined> {
  return read<IndexEntry>(ctx, positionKey(ctx, participantId));
}

/**
 * Appends `participantId` to its zone (idempotent: an indexed participant keeps its position).
 * Writes the slot, the position key and the zone counter. Returns the position.
 */
export async function addToIndex(ctx: GridLedgerContext, participantId: string, zone: string): Promise<number> {
  const existing = await readIndexEntry(ctx, participantId);
  if (existing) {
    if (existing.zone !== zone) throw inconsistent(`participant ${participantId} is indexed in zone ${existing.zone}, not ${zone}`);
    return existing.position;
  }
  const zk = zoneKey(ctx, zone);
  const counter: ZoneCounter = (await read<ZoneCounter>(ctx, zk)) ?? { zone, count: 0, positionKeys: true };
  const position = counter.count;
  await write(ctx, slotKey(ctx, zone, position), { participantId } satisfies SlotEntry);
  await write(ctx, positionKey(ctx, participantId), { zone, position } satisfies IndexEntry);
  await write(ctx, zk, { ...counter, count: position + 1 } satisfies ZoneCounter);
  return position;
}

/**
 * Removes `participantId` from its zone by swap-with-last: the zone's last entry moves into the
 * freed position (its slot and position key are rewritten), the last slot and the removed
 * participant's position key are deleted, and the counter drops by one. Returns false (and writes
 * nothing) if the participant is not indexed.
 */
export async function removeFromIndex(ctx: GridLedgerContext, participantId: string): Promise<boolean> {
  const entry = await readIndexEntry(ctx, participantId);
  if (!entry) return false;
  const { zone, position } = entry;
  const zk = zoneKey(ctx, zone);
  const counter = await read<ZoneCounter>(ctx, zk);
  if (counter && counter.positionKeys !== true) throw legacyZone(zone);
  if (!counter || position >= counter.count) {
    throw inconsistent(`participant ${participantId} points at position ${position} of zone ${zone}, which has ${counter?.count ?? 0} entries`);
  }
  const at = await read<SlotEntry>(ctx, slotKey(ctx, zone, position));
  if (at?.participantId !== participantId) {
    throw inconsistent(`position ${position} of zone ${zone} holds ${at?.participantId ?? 'nothing'}, not ${participantId}`);
  }
  const last = counter.count - 1;
  if (position !== last) {
    const moved = await read<SlotEntry>(ctx, slotKey(ctx, zone, last));
    if (!moved) throw inconsistent(`the last position ${last} of zone ${zone} is empty`);
    await write(ctx, slotKey(ctx, zone, position), { participantId: moved.participantId } satisfies SlotEntry);
    await write(ctx, positionKey(ctx, moved.participantId), { zone, position } satisfies IndexEntry);
  }
  await remove(ctx, slotKey(ctx, zone, last));
  await remove(ctx, positionKey(ctx, participantId));
  // The counter stays (count 0 for an emptied zone): draws skip empty zones.
  await write(ctx, zk, { ...counter, count: last } satisfies ZoneCounter);
  return true;
}

function legacyZone(zone: string): Error {
  return new GridLedgerError('PRECONDITION_FAILED', 'INDEX_NOT_BACKFILLED', `the committee index of zone ${zone} predates position keys; the regulator must first run participants:backfillCommitteeIndex for zone ${zone} until it reports complete`);
}

/**
 * Whether entries of `zone` can be removed and re-added: false for a zone indexed by an earlier
 * version whose backfill has not completed (a zone without index yet counts as maintained).
 */
export async function zoneIsMaintained(ctx: GridLedgerContext, zone: string): Promise<boolean> {
  const counter = await read<ZoneCounter>(ctx, zoneKey(ctx, zone));
  return counter === undefined || counter.positionKeys === true;
}

/** Throws PRECONDITION_FAILED (saying to run the backfill) unless `zone` is maintained. */
export async function requireMaintainedZone(ctx: GridLedgerContext, zone: string): Promise<void> {
  if (!(await zoneIsMaintained(ctx, zone))) throw legacyZone(zone);
}

export interface BackfillPage {
  zone: string;
  count: number;
  /** Participants whose entries this page visited (to check their status). */
  visited: string[];
  written: number;
  backfilledTo: number;
  complete: boolean;
}

/**
 * Upgrade step for a zone indexed before position keys existed: writes the missing position keys
 * of the next `pageSize` entries (progress kept in the zone counter, so pages cannot be skipped)
 * and marks the zone maintained after the last one. Idempotent; bounded work per call.
 */
export async function backfillPositions(ctx: GridLedgerContext, zone: string, pageSize: number): Promise<BackfillPage> {
  const zk = zoneKey(ctx, zone);
  const counter = await read<ZoneCounter>(ctx, zk);
  if (!counter) fail('NOT_FOUND', 'ZONE_NOT_FOUND', `zone ${zone} has no committee index`);
  if (counter.positionKeys === true) return { zone, count: counter.count, visited: [], written: 0, backfilledTo: counter.count, complete: true };
  const from = Math.min(counter.backfilledTo ?? 0, counter.count);
  const end = Math.min(counter.count, from + pageSize);
  const visited: string[] = [];
  let written = 0;
  for (let position = from; position < end; position++) {
    const slot = await read<SlotEntry>(ctx, slotKey(ctx, zone, position));
    if (!slot) throw inconsistent(`position ${position} of zone ${zone} (count ${counter.count}) is empty`);
    const existing = await readIndexEntry(ctx, slot.participantId);
    if (existing && (existing.zone !== zone || existing.position !== position)) {
      throw inconsistent(`participant ${slot.participantId} is at position ${position} of zone ${zone} but its position key says ${existing.zone}/${existing.position}`);
    }
    if (!existing) {
      await write(ctx, positionKey(ctx, slot.participantId), { zone, position } satisfies IndexEntry);
      written++;
    }
    visited.push(slot.participantId);
  }
  const complete = end === counter.count;
  const next: ZoneCounter = complete ? { zone, count: counter.count, positionKeys: true } : { ...counter, backfilledTo: end };
  await write(ctx, zk, next);
  return { zone, count: counter.count, visited, written, backfilledTo: end, complete };
}

/** Zone sizes in byte order of zone names (bounded by the number of feeders, not participants). */
export async function readZones(ctx: GridLedgerContext): Promise<ZoneSize[]> {
  // The state view overlays counters this transaction changed.
  const rows = await ctx.state.list<ZoneCounter>(KEY.eligibleZone, []);
  const byZone = new Map(rows.map((r) => [r.value.zone, r.value.count]));
  return [...byZone.entries()]
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')))
    .map(([zone, count]) => ({ zone, count }));
}

export async function lookupSlot(ctx: GridLedgerContext, zone: string, position: number): Promise<string | undefined> {
  const v = await read<SlotEntry>(ctx, slotKey(ctx, zone, position));
  return v?.participantId;
}
