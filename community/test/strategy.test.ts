import {
  offerLeadIntervals,
  askPrice, assignBehaviours, AUCTION_BID_INTERVALS, auctionTiming, bidFor, chooseFounders, FAULTY_BEHAVIOURS, lotPrice, lots, lotSizeWh, matchOffers, MIN_TRADE_WH, offerAmountWh, purchaseNeedWh, runsAuction, type OpenOffer,
} from '../src/strategy';
import { identityCommitment, priceCommitment } from '../src/simulator';

const band = { floor: 5, retail: 300 };
const offer = (offerId: string, seller: string, amountWh: number, pricePerKwh: number, expiresAt = 2_000): OpenOffer => ({ offerId, seller, amountWh, pricePerKwh, deliveryStart: 3_000, expiresAt });

describe('amounts', () => {
  test('a seller offers 70 % of its forecast export in 10 Wh steps; nothing without export or for a crumb', () => {
    expect(offerAmountWh(1000)).toBe(700);
    expect(offerAmountWh(157)).toBe(100);
    expect(offerAmountWh(20)).toBe(0);
    expect(offerAmountWh(0)).toBe(0);
  });
  test('a buyer buys 80 % of its forecast import; nothing without import', () => {
    expect(purchaseNeedWh(1000)).toBe(800);
    expect(purchaseNeedWh(24)).toBe(0);
    expect(purchaseNeedWh(0)).toBe(0);
  });
  test('lots: whole lots up to the maximum; a small seller offers what it has', () => {
    expect(lots(1000, 300, 4)).toEqual([300, 300, 300]);
    expect(lots(100_000, 300, 2)).toEqual([300, 300]);
    expect(lots(257, 300, 2)).toEqual([250]);
    expect(lots(MIN_TRADE_WH - 1, 300, 2)).toEqual([]);
    expect(lots(1000, 300, 0)).toEqual([]);
    for (const l of lots(5000, 130, 10)) expect(l).toBe(130);
  });
  test('lot size: 30 % of the average household consumption over the interval span, in 10 Wh', () => {
    // 4000 kWh a year = 456.6 W on average; one hour → 137 Wh → 130
    expect(lotSizeWh(4000, 3600)).toBe(130);
    expect(lotSizeWh(4000, 300)).toBe(MIN_TRADE_WH);
  });
  test('lot prices rise by 2 % of the band per lot and never pass retail', () => {
    expect(lotPrice(band, 100, 0)).toBe(100);
    expect(lotPrice(band, 100, 1)).toBe(106);
    expect(lotPrice(band, 299, 3)).toBe(300);
  });
});

describe('offer lead', () => {
  test('the next interval when an offer made now lives the minimum TTL; further ahead for short intervals', () => {
    expect(offerLeadIntervals(300, 60)).toBe(1);
    expect(offerLeadIntervals(3600, 60)).toBe(1);
    expect(offerLeadIntervals(60, 60)).toBe(2); // made at boundary + 15 s for boundary + 120 s: TTL 90 s ≥ 60 s
    expect(offerLeadIntervals(60, 120)).toBe(3);
    expect(offerLeadIntervals(300, 600)).toBe(3);
  });
});

describe('ask price', () => {
  test('always within [P_k, retail]; lower for a larger share of spare capacity; deterministic', () => {
    for (let i = 0; i < 200; i++) {
      const p = askPrice(band, i * 10, 1000, 1, `hh-${i}`, 3_000 + i * 300);
      expect(p).toBeGreaterThanOrEqual(band.floor);
      expect(p).toBeLessThanOrEqual(band.retail);
      expect(Number.isInteger(p)).toBe(true);
    }
    const small = askPrice(band, 50, 1000, 1, 'hh-1', 3_000);
    const large = askPrice(band, 1000, 1000, 1, 'hh-1', 3_000);
    expect(large).toBeLessThan(small);
    expect(askPrice(band, 50, 1000, 1, 'hh-1', 3_000)).toBe(small);
  });
  test('a band with no room gives the floor', () => {
    expect(askPrice({ floor: 40, retail: 40 }, 500, 1000, 1, 'hh-1', 3_000)).toBe(40);
  });
});

describe('buyers take the cheapest offers', () => {
  test('cheapest first, whole offers that fit the need, one buyer per offer, never its own, never above retail, never expired', () => {
    const offers = [
      offer('o-dear', 'p-s1', 100, 250),
      offer('o-cheap', 'p-s2', 100, 50),
      offer('o-mid', 'p-s3', 100, 120),
      offer('o-big', 'p-s4', 900, 10),
      offer('o-over', 'p-s5', 50, 301),
      offer('o-own', 'p-b1', 200, 1), // hh-b1's own; too big for hh-b2
      offer('o-expired', 'p-s6', 50, 2, 999),
    ];
    const buyers = [
      { meterId: 'hh-b1', participantId: 'p-b1', needWh: 250, maxPricePerKwh: 300 },
      { meterId: 'hh-b2', participantId: 'p-b2', needWh: 160, maxPricePerKwh: 300 },
    ];
    const got = matchOffers(buyers, offers, 1_000);
    // hh-b1 (largest need) first: cheap (50) and mid (120) fit 250; o-big (900 Wh) is too big for anyone
    expect(got).toEqual([
      { meterId: 'hh-b1', offerId: 'o-cheap', amountWh: 100, pricePerKwh: 50 },
      { meterId: 'hh-b1', offerId: 'o-mid', amountWh: 100, pricePerKwh: 120 },
      { meterId: 'hh-b2', offerId: 'o-dear', amountWh: 100, pricePerKwh: 250 },
    ]);
    const ids = got.map((a) => a.offerId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const bad of ['o-over', 'o-own', 'o-expired', 'o-big']) expect(ids).not.toContain(bad);
  });
  test('the result does not depend on the order offers and buyers were listed in', () => {
    const offers = [offer('a', 's1', 100, 20), offer('b', 's2', 100, 20), offer('c', 's3', 200, 10)];
    const buyers = [{ meterId: 'x', participantId: 'px', needWh: 300, maxPricePerKwh: 300 }, { meterId: 'y', participantId: 'py', needWh: 100, maxPricePerKwh: 300 }];
    const one = matchOffers(buyers, offers, 0);
    expect(matchOffers(buyers.slice().reverse(), offers.slice().reverse(), 0)).toEqual(one);
    expect(one.map((a) => a.offerId)).toEqual(['c', 'a', 'b']); // ties broken by offer id
  });
  test('no buyers or no offers: nothing', () => {
    expect(matchOffers([], [offer('a', 's', 100, 1)], 0)).toEqual([]);
    expect(matchOffers([{ meterId: 'x', participantId: 'px', needWh: MIN_TRADE_WH - 1, maxPricePerKwh: 300 }], [offer('a', 's', 10, 1)], 0)).toEqual([]);
  });
});

describe('auctions', () => {
  test('runsAuction draws about the configured share, deterministically', () => {
    let yes = 0;
    for (let i = 0; i < 2000; i++) if (runsAuction(1, `hh-${i}`, 3_000, 0.25)) yes++;
    expect(yes).toBeGreaterThan(400);
    expect(yes).toBeLessThan(600);
    expect(runsAuction(1, 'hh-1', 3_000, 0)).toBe(false);
    expect(runsAuction(1, 'hh-1', 3_000, 1)).toBe(true);
    expect(runsAuction(1, 'hh-7', 3_300, 0.5)).toBe(runsAuction(1, 'hh-7', 3_300, 0.5));
  });
  test('timing: now < t1 < t2, delivery aligned and after the claim window', () => {
    const t = auctionTiming(1_000_010, 300, 3600, 300);
    expect(t.t1).toBe(1_000_310);
    expect(t.t2).toBe(1_000_610);
    expect(t.deliveryStart % 300).toBe(0);
    expect(t.deliveryStart).toBeGreaterThanOrEqual(t.t2 + 3600 + 300);
  });
  test('sellers can still bid in the request\'s own mid-interval phase when it runs late (the bid window is AUCTION_BID_INTERVALS intervals)', () => {
    const L = 60;
    const boundary = 1_000_020; // an interval start
    const requestedAt = boundary + 3; // phase A, just after the boundary
    const timing = auctionTiming(requestedAt, AUCTION_BID_INTERVALS * L, 60, L);
    const a = { requestId: 'req-1', amountWh: 200, maxPricePerKwh: 250, t1: timing.t1, deliveryStart: timing.deliveryStart };
    // phase B starts at L/2; the acceptances and listings before a bid can take another ~25 s under load
    const lateBid = boundary + L / 2 + 25;
    expect(bidFor(a, 300, 100, band, lateBid, 30)).toEqual({ energyWh: 200, pricePerKwh: 100 });
    // with a one-interval window the same bid came too close to t1: no auction ever got a bid
    const oneInterval = auctionTiming(requestedAt, L, 60, L);
    expect(bidFor({ ...a, t1: oneInterval.t1 }, 300, 100, band, lateBid, 30)).toBeUndefined();
    expect(timing.deliveryStart).toBeGreaterThanOrEqual(timing.t2 + 60 + L);
  });
  test('a seller bids the whole request at its ask only before t1, when it can cover it, within [P_k, P_m]', () => {
    const a = { requestId: 'req-1', amountWh: 200, maxPricePerKwh: 250, t1: 1_000, deliveryStart: 9_000 };
    expect(bidFor(a, 300, 100, band, 900, 30)).toEqual({ energyWh: 200, pricePerKwh: 100 });
    expect(bidFor(a, 300, 100, band, 975, 30)).toBeUndefined(); // too close to t1
    expect(bidFor(a, 150, 100, band, 900, 30)).toBeUndefined(); // filter 1: E_s < E_a
    expect(bidFor(a, 300, 260, band, 900, 30)).toBeUndefined(); // above P_m
    expect(bidFor(a, 300, 4, band, 900, 30)).toBeUndefined(); // below P_k
  });
  test('commitments follow docs/market.md §6 (identity binds the participant, price binds the request)', () => {
    expect(identityCommitment('p-1', 's')).toMatch(/^[0-9a-f]{64}$/);
    expect(identityCommitment('p-1', 's')).not.toBe(identityCommitment('p-2', 's'));
    expect(priceCommitment('req-1', 200, 'salt')).not.toBe(priceCommitment('req-2', 200, 'salt'));
    // the exact preimage format the chaincode checks
    const { createHash } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    expect(priceCommitment('req-1', 200, 'salt')).toBe(createHash('sha256').update('gridledger/auction/price\nreq-1\n200\nsalt').digest('hex'));
  });
});

describe('faulty behaviours', () => {
  const meters = Array.from({ length: 12 }, (_, i) => `hh-${i}`);
  const founders = new Set(meters.slice(0, 4));
  test('round(share · N) non-founders get faulty behaviours in turn, deterministically', () => {
    const b = assignBehaviours(5, meters, founders, 0.25);
    const faulty = [...b.entries()].filter(([, v]) => v !== 'honest');
    expect(faulty).toHaveLength(3);
    for (const [m] of faulty) expect(founders.has(m)).toBe(false);
    expect(faulty.map(([, v]) => v).sort()).toEqual(FAULTY_BEHAVIOURS.slice(0, 3).slice().sort());
    expect(assignBehaviours(5, meters, founders, 0.25)).toEqual(b);
  });
  test('share 0 → everyone honest; share 1 → every non-founder faulty', () => {
    expect([...assignBehaviours(5, meters, founders, 0).values()].every((v) => v === 'honest')).toBe(true);
    expect([...assignBehaviours(5, meters, founders, 1).values()].filter((v) => v !== 'honest')).toHaveLength(8);
  });
});

describe('founders', () => {
  const hh = (i: number, org: string, kWp: number) => ({ meterId: `hh-${i}`, org, kWp });
  test('utilities in turn, alternating sellers (PV) and buyers where a utility has both', () => {
    const hs = [hh(1, 'u1', 0), hh(2, 'u2', 0), hh(3, 'u3', 6), hh(4, 'u1', 0), hh(5, 'u2', 5), hh(6, 'u3', 0), hh(7, 'u1', 7)];
    const f = chooseFounders(hs, 4);
    expect(f.map((h) => h.org)).toEqual(['u1', 'u2', 'u3', 'u1']);
    expect(f.map((h) => h.meterId)).toEqual(['hh-7', 'hh-2', 'hh-3', 'hh-1']); // a seller first, then alternating
    expect(f.filter((h) => h.kWp > 0).length).toBeGreaterThanOrEqual(2);
    expect(chooseFounders(hs, 4)).toEqual(f);
  });
  test('no utility gets more than ⌈n/U⌉ seats; fewer households than n gives them all', () => {
    const hs = Array.from({ length: 12 }, (_, i) => hh(i, `u${(i % 3) + 1}`, i % 2 ? 5 : 0));
    const f = chooseFounders(hs, 4);
    const per = new Map<string, number>();
    for (const h of f) per.set(h.org, (per.get(h.org) ?? 0) + 1);
    expect(Math.max(...per.values())).toBeLessThanOrEqual(2);
    expect(chooseFounders(hs.slice(0, 2), 4)).toHaveLength(2);
  });
});
