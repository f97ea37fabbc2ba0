import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { makeTestGateway, type TestGateway } from './helpers/testGateway';

interface SseMessage {
  id: string;
  event: string;
  data: { name: string; blockNumber: number; txId: string; index: number; payload: unknown };
}

/** Opens an SSE stream on the loopback server and collects `count` messages, then disconnects. */
function collect(port: number, path: string, headers: Record<string, string>, count: number, onOpen?: () => void): Promise<{ status: number; messages: SseMessage[]; contentType: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
      const messages: SseMessage[] = [];
      let buf = '';
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, messages, contentType: res.headers['content-type'] }));
        return;
      }
      onOpen?.();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':') || !line.includes(':')) continue;
            const k = line.slice(0, line.indexOf(':'));
            fields[k] = line.slice(line.indexOf(':') + 1).trimStart();
          }
          if (fields.data && fields.id) messages.push({ id: fields.id, event: fields.event!, data: JSON.parse(fields.data) });
          if (messages.length === count) {
            req.destroy();
            resolve({ status: 200, messages, contentType: res.headers['content-type'] });
            return;
          }
        }
      });
    });
    req.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
    });
  });
}

describe('GET /api/v1/events (Server-Sent Events)', () => {
  let gw: TestGateway;
  let server: http.Server;
  let port: number;
  let auth: Record<string, string>;
  beforeEach(async () => {
    gw = makeTestGateway();
    auth = { Authorization: `Bearer ${gw.keys.operator}` };
    server = http.createServer(gw.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
    gw.ledger.emitEvents([{ name: 'OfferCreated', payload: { offerId: 'o-1' } }]);
    gw.ledger.emitEvents([
      { name: 'OfferAccepted', payload: { offerId: 'o-1' } },
      { name: 'TradeCreated', payload: { tradeId: 'tr-1' } },
    ]);
    gw.ledger.emitEvents([{ name: 'CommitteeDrawn', payload: { taskId: 't-1' } }], { block: 2, txId: 'second-in-block-2' });
  });
  afterEach(async () => {
    gw.closeEventStreams();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await gw.close();
  });

  it('streams every named event from a block with id block:tx:index', async () => {
    const r = await collect(port, '/api/v1/events?fromBlock=1', auth, 4);
    expect(r.contentType).toMatch(/^text\/event-stream/);
    expect(r.messages.map((m) => [m.id, m.event])).toEqual([
      ['1:evtx1:0', 'OfferCreated'],
      ['2:evtx2:0', 'OfferAccepted'],
      ['2:evtx2:1', 'TradeCreated'],
      ['2:second-in-block-2:0', 'CommitteeDrawn'],
    ]);
    expect(r.messages[2]!.data).toEqual({ name: 'TradeCreated', blockNumber: 2, txId: 'evtx2', index: 1, payload: { tradeId: 'tr-1' } });
  });

  it('resumes right after Last-Event-ID (inside a transaction and a block), then follows live events', async () => {
    const r = await collect(port, '/api/v1/events', { ...auth, 'Last-Event-ID': '2:evtx2:0' }, 3, () => {
      gw.ledger.emitEvents([{ name: 'TradeClosed', payload: { tradeId: 'tr-1' } }]);
    });
    expect(r.messages.map((m) => m.id)).toEqual(['2:evtx2:1', '2:second-in-block-2:0', '3:evtx4:0']);
    expect(gw.ledger.streamOptions.at(-1)).toEqual({ startBlock: 2 });
  });

  it('filters by event name; without fromBlock starts at the next block', async () => {
    const filtered = await collect(port, '/api/v1/events?fromBlock=0&names=TradeCreated,CommitteeDrawn', auth, 2);
    expect(filtered.messages.map((m) => m.event)).toEqual(['TradeCreated', 'CommitteeDrawn']);
    const live = await collect(port, '/api/v1/events', auth, 1, () => {
      gw.ledger.emitEvents([{ name: 'ParticipantAdmitted', payload: { participantId: 'p-1' } }]);
    });
    expect(live.messages.map((m) => m.id)).toEqual(['3:evtx4:0']);
  });

  it('scopes the stream: a meter key gets its own events and public market information; operator and regulator keys get all', async () => {
    const enrolled = await request(gw.app).post('/api/v1/meters').set(auth).send({ meterId: 'm-1', zone: 'z' });
    expect(enrolled.status).toBe(201);
    const records: Record<string, unknown> = {
      'participants:whoAmI meter:m-1': { participantId: 'p-me', role: 'meter', meterId: 'm-1' },
      'trades:get tr-mine': { tradeId: 'tr-mine', seller: 'p-x', buyer: 'p-me' },
      'trades:get tr-theirs': { tradeId: 'tr-theirs', seller: 'p-x', buyer: 'p-y' },
    };
    const asked: string[] = [];
    gw.ledger.evaluateImpl = async (id, fn, args) => {
      asked.push(`${fn}${args[0] ? ` ${args[0]}` : ''} as ${id.key}`);
      return Buffer.from(JSON.stringify(records[`${fn} ${args[0] ?? id.key}`] ?? records[`${fn} ${id.key}`] ?? null));
    };
    const from = gw.ledger.chain.at(-1)!.blockNumber + 1;
    gw.ledger.emitEvents([
      { name: 'WalletCredited', payload: { participantId: 'p-y', amount: 1 } },
      { name: 'WalletCredited', payload: { participantId: 'p-me', amount: 2 } },
    ]);
    gw.ledger.emitEvents([{ name: 'TradeClosed', payload: { tradeId: 'tr-theirs' } }, { name: 'TradeClosed', payload: { tradeId: 'tr-mine' } }]);
    gw.ledger.emitEvents([{ name: 'ReadingRecorded', payload: { meterId: 'm-2' } }, { name: 'MarketParametersChanged', payload: { changed: ['fee'] } }]);
    gw.ledger.emitEvents([{ name: 'ReadingRecorded', payload: { meterId: 'm-1', intervals: [900] } }]);
    const meterKey = { Authorization: `Bearer ${enrolled.body.apiKey}` };
    const mine = await collect(port, `/api/v1/events?fromBlock=${from}`, meterKey, 4);
    expect(mine.messages.map((m) => [m.event, m.data.payload])).toEqual([
      ['WalletCredited', { participantId: 'p-me', amount: 2 }],
      ['TradeClosed', { tradeId: 'tr-mine' }],
      ['MarketParametersChanged', { changed: ['fee'] }],
      ['ReadingRecorded', { meterId: 'm-1', intervals: [900] }],
    ]);
    // the ids stay those of the unfiltered stream, so Last-Event-ID resumes correctly
    expect(mine.messages.map((m) => m.id)).toEqual([`${from}:evtx${from + 1}:1`, `${from + 1}:evtx${from + 2}:1`, `${from + 2}:evtx${from + 3}:1`, `${from + 3}:evtx${from + 4}:0`]);
    expect(asked).toContain('participants:whoAmI as meter:m-1');
    expect(asked.filter((a) => a.startsWith('trades:get'))).toEqual(['trades:get tr-theirs as operator', 'trades:get tr-mine as operator']);
    for (const key of [gw.keys.operator, gw.keys.regulator]) {
      const all = await collect(port, `/api/v1/events?fromBlock=${from}`, { Authorization: `Bearer ${key}` }, 7);
      expect(all.messages).toHaveLength(7);
    }
  });

  it('is authenticated and validates its parameters', async () => {
    expect((await request(gw.app).get('/api/v1/events')).status).toBe(401);
    const badId = await request(gw.app).get('/api/v1/events').set(auth).set('Last-Event-ID', 'nonsense');
    expect(badId.status).toBe(400);
    expect(badId.body.detail).toMatch(/<block>:<txId>:<index>/);
    expect((await request(gw.app).get('/api/v1/events?fromBlock=-3').set(auth)).status).toBe(400);
    expect((await request(gw.app).get('/api/v1/events?names=a;b').set(auth)).status).toBe(400);
  });
});
