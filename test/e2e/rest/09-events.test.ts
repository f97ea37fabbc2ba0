/**
 * Chaincode events through the gateway as Server-Sent Events (issue 4 item 6): readings of three fresh
 * meters produce ReadingRecorded events, seen from a block number, once each, in ledger order; a
 * reconnect with Last-Event-ID resumes right after that event (no gap, no repeat). The stream is scoped: the
 * operator sees every event, a meter's key only those that concern its own meter (docs/api.md, Events).
 */
import { RUN, RestClient, collectSse, enrolMeter, expectStatus, loadGateways, readingSeries, type SseEvent } from './support';

const gw = loadGateways()[0]!;

describe('GET /api/v1/events (SSE)', () => {
  test('events from a block number, exactly once each; Last-Event-ID resumes after the given event', async () => {
    // three meters, one reading each (distinct identities; each a ReadingRecorded event)
    const meters = [];
    for (const i of [0, 1, 2]) meters.push(await enrolMeter(gw, `sse-${RUN}-${i}`, 'feeder-s'));
    const [r] = readingSeries(1);
    const blocks: number[] = [];
    for (const m of meters) {
      const res = await m.client.post(`/api/v1/meters/${m.meterId}/readings?sync=true`, r);
      expectStatus(res, 200);
      blocks.push(res.body.blockNumber);
    }
    const ids = new Set(meters.map((m) => m.meterId));
    const mine = (e: SseEvent) => e.event === 'ReadingRecorded' && ids.has(e.data.payload?.meterId);
    const operator = new RestClient(gw.url, gw.apiKeys.operator);
    const all = await collectSse(operator, `?fromBlock=${blocks[0]}&names=ReadingRecorded`, mine, (c) => c.length >= 3);
    expect(all.status).toBe(200);
    expect(all.contentType).toMatch(/^text\/event-stream/);
    expect(all.events.map((e) => e.data.payload.meterId)).toEqual(meters.map((m) => m.meterId));
    expect(all.events.map((e) => e.data.payload.intervals)).toEqual([[r!.intervalStart], [r!.intervalStart], [r!.intervalStart]]);
    expect(all.events.map((e) => e.data.blockNumber)).toEqual(blocks);
    for (const e of all.events) expect(e.id).toBe(`${e.data.blockNumber}:${e.data.txId}:${e.data.index}`);

    // resume after the first event: the next ones arrive, the first never again
    const resumed = await collectSse(operator, `?names=ReadingRecorded`, mine, (c) => c.length >= 2, { headers: { 'last-event-id': all.events[0]!.id } });
    expect(resumed.events.map((e) => e.id)).toEqual(all.events.slice(1).map((e) => e.id));

    // a meter's key sees its own reading and none of the other meters' (the stream ends when the third
    // meter's event has passed the gateway: the operator saw it, so the meter's stream had its chance)
    const own = await collectSse(meters[1]!.client, `?fromBlock=${blocks[0]}&names=ReadingRecorded`, mine, (c) => c.length >= 2, { timeoutMs: 10_000 });
    expect(own.status).toBe(200);
    expect(own.events.map((e) => e.data.payload.meterId)).toEqual([meters[1]!.meterId]);
  });

  test('no key is a 401', async () => {
    const res = await fetch(`${gw.url}/api/v1/events`);
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });
});
