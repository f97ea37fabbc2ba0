/**
 * End-to-end check of a running community (not part of `npm test`: its network is quiet, test.sh starts
 * it with GRIDLEDGER_COMMUNITY=0). Start a network WITH the community, then run this file:
 *
 *   GRIDLEDGER_HOME=/tmp/gl-x GRIDLEDGER_PORT_BASE=35000 GRIDLEDGER_TIER=devnet bash network/scripts/start.sh
 *   (cd community && GRIDLEDGER_HOME=/tmp/gl-x npx jest -c jest.e2e.config.js)
 *
 * Checked through the REST API only: every household's meter posted its reading of an interval and the
 * ledger committed it (the receipt, read with the utility's operator key); households offer their surplus
 * (OfferCreated on the event stream; the offer's seller is a community member, its price within
 * [P_k, retail]). What needs the meters' agents (committee admissions, SETTLED trades) is not checked here
 * until the agents land (issue 17 item 1).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RestClient } from '../src/client';
import { loadGateways } from '../src/simulator';

const home = process.env.GRIDLEDGER_HOME;
if (!home) throw new Error('set GRIDLEDGER_HOME to the home of a network started with the community (see the header)');
const gateways = loadGateways(home);
const statusFile = join(home, 'community', 'status.json');

interface Status {
  config: { intervalSeconds: number };
  counters: { offers: number; readings: number };
  households: Array<{ meterId: string; org: string; participantId: string | null; status: string | null; lastIntervalStart: number | null; lastReceiptId: string | null }>;
}

function status(): Status {
  if (!existsSync(statusFile)) throw new Error(`${statusFile} does not exist: is the community running (start.sh with GRIDLEDGER_COMMUNITY=1)?`);
  return JSON.parse(readFileSync(statusFile, 'utf8')) as Status;
}

async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`${what}: not reached in ${timeoutMs} ms${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`);
    await sleep(2000);
  }
}

const operatorOf = (org: string) => {
  const g = gateways.find((x) => x.org === org);
  if (!g) throw new Error(`no gateway for ${org}`);
  return new RestClient(g.url, g.apiKeys.operator);
};
const regulator = new RestClient(gateways[0]!.url, gateways[0]!.apiKeys.regulator);

describe('the community on a running network', () => {
  test('every meter posts a reading each interval and the ledger commits it (receipts read back through the API)', async () => {
    // status.json appears once the community has enrolled its meters and admitted its founders
    const first = await eventually('the community set up (status.json)', 5 * 60_000, async () => status());
    const L = first.config.intervalSeconds;
    // two consecutive intervals: every household has a committed reading of each
    let after = -1;
    for (let round = 0; round < 2; round++) {
      const st = await eventually(`a reading of an interval after ${after} from every household`, (2 * L + 120) * 1000, async () => {
        const s = status();
        return s.households.every((h) => h.lastIntervalStart !== null && h.lastIntervalStart > after && h.lastReceiptId) ? s : undefined;
      });
      expect(st.households.length).toBeGreaterThan(0);
      for (const h of st.households) {
        expect(h.lastIntervalStart! % L).toBe(0);
        const receipt = await eventually(`receipt of ${h.meterId}`, 120_000, async () => {
          const r = await operatorOf(h.org).get<{ state: string; meterId: string; result: { intervalStart: number; status: string }; txId: string }>(`/api/v1/receipts/${h.lastReceiptId}`);
          if (r.status !== 200) throw new Error(`GET receipt: ${r.status} ${r.text}`);
          return r.body.state === 'COMMITTED' || r.body.state === 'REJECTED' ? r.body : undefined;
        });
        expect(receipt).toMatchObject({ state: 'COMMITTED', meterId: h.meterId, result: { intervalStart: h.lastIntervalStart } });
        expect(['recorded', 'duplicate']).toContain(receipt.result.status);
        expect(receipt.txId).toMatch(/^[0-9a-f]{64}$/);
      }
      after = Math.max(...st.households.map((h) => h.lastIntervalStart!));
    }
  });

  test('households offer their surplus: offers by community members, priced within [P_k, retail]', async () => {
    const params = await regulator.get<{ minPricePerKwh: number }>('/api/v1/market/parameters');
    expect(params.status).toBe(200);
    const members = () => new Set(status().households.map((h) => h.participantId).filter((p): p is string => !!p));
    const offer = await eventually('an offer by a community member', 15 * 60_000, async () => {
      const ids = await offerIdsFromEvents();
      for (const id of ids) {
        const o = await regulator.get<{ offerId: string; seller: string; amountWh: number; pricePerKwh: number; deliveryLength: number; deliveryStart: number }>(`/api/v1/offers/${id}`);
        if (o.status === 200 && members().has(o.body.seller)) return o.body;
      }
      return undefined;
    });
    expect(offer.amountWh).toBeGreaterThanOrEqual(20);
    expect(offer.amountWh % 10).toBe(0);
    expect(offer.pricePerKwh).toBeGreaterThanOrEqual(params.body.minPricePerKwh);
    expect(offer.pricePerKwh).toBeLessThanOrEqual(Number(process.env.COMMUNITY_RETAIL_PRICE ?? 300));
    expect(offer.deliveryStart % offer.deliveryLength).toBe(0);
    expect(status().counters.offers).toBeGreaterThan(0);
  });
});

/** offerIds of every OfferCreated so far: the SSE stream from block 0, read until a quiet second. */
async function offerIdsFromEvents(): Promise<string[]> {
  const ac = new AbortController();
  const ids: string[] = [];
  let timer = setTimeout(() => ac.abort(), 5000);
  try {
    const res = await fetch(`${regulator.baseUrl}/api/v1/events?fromBlock=0&names=OfferCreated`, { headers: { authorization: `Bearer ${regulator.apiKey}` }, signal: ac.signal });
    if (res.status !== 200 || !res.body) throw new Error(`GET events: ${res.status}`);
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      const complete = buf.slice(0, buf.lastIndexOf('\n') + 1); // whole lines only
      buf = buf.slice(complete.length);
      for (const m of complete.matchAll(/^data: (.*)$/gm)) {
        const offerId = (JSON.parse(m[1]!) as { payload?: { offerId?: string } }).payload?.offerId;
        if (offerId && !ids.includes(offerId)) ids.push(offerId);
      }
      clearTimeout(timer);
      timer = setTimeout(() => ac.abort(), 1000); // the backlog arrives at once; stop when it is quiet
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  return ids;
}
