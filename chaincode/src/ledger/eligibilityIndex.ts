/**
 * The committee index: per zone, a dense array of admitted participants
 * (`gl.elig.slot~<zone>~<position>` → participant id) plus a per-zone size
 * (`gl.elig.zone~<zone>` → {count}). A draw reads the zone sizes (one small key per zone) and then
 * only the positions it samples, so its cost does not grow with the community.
 *
 * Entries are added on admission and never removed: suspension, bans and low Q-scores are checked
 * lazily on the sampled participant's current record, so Q-score updates after every trade never
 * touch the shared per-zone counter (no MVCC collisions between unrelated trades).
 */
import type { Context } from 'fabric-contract-api';
import type { ZoneSize } from '../domain/sampling';
import { compositeKey, KEY, padUint } from './keys';
import { getJson, listByPartialKey, putJson } from './state';

interface ZoneCounter {
  zone: string;
  count: number;
}

export async function addToIndex(ctx: Context, participantId: string, zone: string): Promise<number> {
  const zoneKey = compositeKey(ctx, KEY.eligibleZone, [zone]);
  const counter = (await getJson<ZoneCounter>(ctx, zoneKey)) ?? { zone, count: 0 };
  const position = counter.count;
  await putJson(ctx, compositeKey(ctx, KEY.eligibleSlot, [zone, padUint(position, 10)]), { participantId });
  await putJson(ctx, zoneKey, { zone, count: position + 1 });
  return position;
}

/** Zone sizes in byte order of zone names (bounded by the number of feeders, not participants). */
export async function readZones(ctx: Context): Promise<ZoneSize[]> {
  const rows = await listByPartialKey<ZoneCounter>(ctx, KEY.eligibleZone, []);
  return rows.map((r) => ({ zone: r.value.zone, count: r.value.count }));
}

export async function lookupSlot(ctx: Context, zone: string, position: number): Promise<string | undefined> {
  const v = await getJson<{ participantId: string }>(ctx, compositeKey(ctx, KEY.eligibleSlot, [zone, padUint(position, 10)]));
  return v?.participantId;
}
