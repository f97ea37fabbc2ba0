/**
 * Clustered committee sampling (seed 002 §2.2.1; spec §3), deterministic from a beacon seed.
 *
 * Clusters are zones (feeders). Members are drawn zone by zone in a round-robin that starts at a
 * seed-derived zone, with at most ceil(n / Z) members per zone, so one feeder cannot dominate a
 * committee; only if the zones cannot fill the committee under that cap is it lifted. Inside a
 * zone a member is a seed-derived position in the zone's dense index. Suspended and banned
 * participants are removed from that index by the status transactions (governance/services/registry.ts),
 * so they cost no attempts; a drawn candidate that is a party to the task, already chosen, or not
 * eligible for a lazily checked reason (Q-score, stake, a penalty ban not yet synced — checked on
 * its current record) costs one attempt. Attempts are capped, so the keys read per draw are bounded by
 * Z (zone sizes) + 2 × maxAttempts — independent of how many participants exist.
 *
 * Attempts are not spent where they cannot succeed: a zone all of whose indexed participants are
 * already chosen is skipped, and so is a BARREN zone — one whose first `BARREN_AFTER` attempts in this
 * draw found no eligible candidate (e.g. a feeder of stake-0 traders, who are indexed but never
 * eligible). Without this, each such zone took up to 4·cap+4 attempts per phase, and a few of them
 * used up the whole budget before the committee was full ("only 3 of 4 eligible members found", seen
 * in the end-to-end suite). A zone with eligible members is mistaken for barren only if its first
 * BARREN_AFTER draws all miss; the draw stays deterministic either way.
 *
 * CUSTODIANS (docs/governance.md "Independence of committee members"). A utility's gateway holds
 * the keys of all its meters, so the meters of one utility are one custodian. With a custodian
 * rule (`CustodianRule`) a candidate whose custodian already holds `maxSeats` seats is skipped
 * (one attempt, no extra read: the custodian comes from the record the eligibility check read).
 * Unlike the zone cap this rule is never lifted: the draw then fails instead (`custodianSkips`
 * tells the caller why), so no custodian can reach the 2f+1 approval quorum alone.
 */
import { streamValue } from './entropy';
import { present } from '../../kernel/invariant';

export interface ZoneSize {
  zone: string;
  count: number;
}

export interface DrawResult {
  members: string[];
  /** Zone of each member, same order. */
  memberZones: string[];
  attempts: number;
  /** Eligible candidates skipped because their custodian already held its maximum of seats. */
  custodianSkips: number;
}

export type SlotLookup = (zone: string, position: number) => Promise<string | undefined>;
export type EligibilityCheck = (participantId: string) => Promise<boolean>;

/** At most `maxSeats` members per custodian; `custodianOf` is asked only about eligible candidates. */
export interface CustodianRule {
  maxSeats: number;
  custodianOf: (participantId: string) => Promise<string>;
}

/** Attempts in a zone with no eligible candidate after which the draw stops visiting it. */
export const BARREN_AFTER = 3;

export function maxDrawAttempts(n: number): number {
  return 8 * n + 8;
}

export async function clusteredDraw(
  seedHex: string,
  n: number,
  zonesIn: readonly ZoneSize[],
  excluded: ReadonlySet<string>,
  lookup: SlotLookup,
  isEligible: EligibilityCheck,
  custodians?: CustodianRule,
): Promise<DrawResult> {
  const zones = zonesIn.filter((z) => z.count > 0);
  const members: string[] = [];
  const memberZones: string[] = [];
  const chosen = new Set<string>();
  const seatsOf = new Map<string, number>();
  let attempts = 0;
  let custodianSkips = 0;
  const maxAttempts = maxDrawAttempts(n);
  if (zones.length === 0) return { members, memberZones, attempts, custodianSkips };

  const Z = zones.length;
  // Across both phases: how many attempts each zone took, how many eligible candidates it yielded.
  const tried = new Map<string, number>();
  const hits = new Map<string, number>();
  const chosenIn = new Map<string, number>();
  const hopeless = (z: ZoneSize): boolean =>
    (chosenIn.get(z.zone) ?? 0) >= z.count || ((hits.get(z.zone) ?? 0) === 0 && (tried.get(z.zone) ?? 0) >= BARREN_AFTER);
  const zoneStart = Number(streamValue(seedHex, 'zone', 0) % BigInt(Z));
  for (const cap of [Math.ceil(n / Z), n]) {
    const perZone = new Map<string, number>();
    memberZones.forEach((z) => perZone.set(z, (perZone.get(z) ?? 0) + 1));
    const zoneAttempts = new Map<string, number>();
    const zoneLimit = 4 * cap + 4;
    let r = 0;
    while (members.length < n && attempts < maxAttempts) {
      // Next zone in round-robin that still has room and attempts left; stop if none.
      let zone: ZoneSize | undefined;
      for (let j = 0; j < Z; j++) {
        const z = present(zones[(zoneStart + r + j) % Z], 'zone (index taken modulo the zone count)');
        if ((perZone.get(z.zone) ?? 0) < cap && (zoneAttempts.get(z.zone) ?? 0) < zoneLimit && !hopeless(z)) {
          zone = z;
          r += j + 1;
          break;
        }
      }
      if (!zone) break;
      const position = Number(streamValue(seedHex, 'member', attempts) % BigInt(zone.count));
      attempts++;
      zoneAttempts.set(zone.zone, (zoneAttempts.get(zone.zone) ?? 0) + 1);
      tried.set(zone.zone, (tried.get(zone.zone) ?? 0) + 1);
      const pid = await lookup(zone.zone, position);
      if (!pid || excluded.has(pid)) continue;
      if (chosen.has(pid)) {
        hits.set(zone.zone, (hits.get(zone.zone) ?? 0) + 1); // it did yield an eligible member before
        continue;
      }
      if (!(await isEligible(pid))) continue;
      hits.set(zone.zone, (hits.get(zone.zone) ?? 0) + 1);
      if (custodians) {
        const custodian = await custodians.custodianOf(pid);
        const seats = seatsOf.get(custodian) ?? 0;
        if (seats >= custodians.maxSeats) {
          custodianSkips++;
          continue;
        }
        seatsOf.set(custodian, seats + 1);
      }
      chosen.add(pid);
      members.push(pid);
      memberZones.push(zone.zone);
      perZone.set(zone.zone, (perZone.get(zone.zone) ?? 0) + 1);
      chosenIn.set(zone.zone, (chosenIn.get(zone.zone) ?? 0) + 1);
    }
    if (members.length >= n || cap >= n) break;
  }
  return { members, memberZones, attempts, custodianSkips };
}
