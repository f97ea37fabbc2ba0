import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { problemType, RestClient } from '../src/client';

/** A loopback server answering with the scripted statuses in turn; records what it was sent. */
function scripted(answers: Array<{ status: number; type?: string }>): Promise<{ url: string; seen: Array<{ key: string | undefined; auth: string | undefined; body: string }>; server: Server }> {
  const seen: Array<{ key: string | undefined; auth: string | undefined; body: string }> = [];
  let i = 0;
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ key: req.headers['idempotency-key'] as string | undefined, auth: req.headers.authorization, body });
      const a = answers[Math.min(i++, answers.length - 1)]!;
      const json = a.type ? { type: `urn:gridledger:problem:${a.type}`, status: a.status, detail: 'scripted' } : { ok: true };
      res.writeHead(a.status, { 'content-type': a.type ? 'application/problem+json' : 'application/json' });
      res.end(JSON.stringify(json));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server })));
}

describe('RestClient', () => {
  test('transient answers (503, 504, 409 in progress) are retried with the SAME Idempotency-Key until a final one', async () => {
    const s = await scripted([{ status: 503, type: 'ledger-unavailable' }, { status: 504, type: 'commit-status-unknown' }, { status: 409, type: 'idempotency-in-progress' }, { status: 201 }]);
    try {
      const res = await new RestClient(s.url, 'glk_test').post('/x', { a: 1 }, 'k-1');
      expect(res.status).toBe(201);
      expect(s.seen).toHaveLength(4);
      for (const r of s.seen) expect(r).toEqual({ key: 'k-1', auth: 'Bearer glk_test', body: '{"a":1}' });
    } finally {
      s.server.close();
    }
  }, 20_000);
  test('a final refusal is returned at once, with its problem type', async () => {
    const s = await scripted([{ status: 412, type: 'chaincode-precondition-failed' }]);
    try {
      const res = await new RestClient(s.url, 'glk_test').post('/x', {}, 'k-2');
      expect(res.status).toBe(412);
      expect(problemType(res)).toBe('chaincode-precondition-failed');
      expect(s.seen).toHaveLength(1);
    } finally {
      s.server.close();
    }
  });
  test('an aborted signal stops a request', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(new RestClient('http://127.0.0.1:9', 'k', { signal: ac.signal }).get('/x')).rejects.toThrow();
  });
});
