import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CrlStore } from '../../src/ops/crlStore';
import { silentLogger } from '../../src/ops/logger';
import { PeerMetrics } from '../../src/ops/metrics';
import { CrlUpdateError, splitCrlPems, startOpsServer } from '../../src/ops/opsServer';

function http(port: number, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const CRL = '-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----';

describe('operations server', () => {
  let healthy = true;
  const applied: Array<[string, string, string[]]> = [];
  const metrics = new PeerMetrics('utility1', 'energy');
  let ops: Awaited<ReturnType<typeof startOpsServer>>;

  beforeAll(async () => {
    ops = await startOpsServer({
      host: '127.0.0.1', port: 0, metrics, logger: silentLogger(),
      checks: [{ component: 'ledger', check: () => (healthy ? undefined : 'ledger is not open') }],
      applyCrls: (ch, msp, crls) => {
        if (msp === 'NoSuchMSP') throw new CrlUpdateError(404, 'MSP NoSuchMSP is not a member of channel energy');
        applied.push([ch, msp, crls]);
      },
    });
  });
  afterAll(() => ops.close());

  it('/healthz: Fabric JSON shape, 503 with failed checks', async () => {
    const ok = await http(ops.port, 'GET', '/healthz');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ status: 'OK', time: expect.any(String) });
    healthy = false;
    const bad = await http(ops.port, 'GET', '/healthz');
    expect(bad.status).toBe(503);
    expect(JSON.parse(bad.body)).toMatchObject({ status: 'Service Unavailable', failed_checks: [{ component: 'ledger', reason: 'ledger is not open' }] });
    healthy = true;
  });

  it('/metrics: blocks, txs by validation code, latency histograms', async () => {
    metrics.blockCommitted([0, 11, 0], 12);
    metrics.proposalProcessed(3, true);
    const m = await http(ops.port, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/ledger_blocks_committed_total\{org="utility1",channel="energy"\} 1/);
    expect(m.body).toMatch(/ledger_transactions_total\{validation_code="VALID",org="utility1",channel="energy"\} 2/);
    expect(m.body).toMatch(/ledger_transactions_total\{validation_code="MVCC_READ_CONFLICT"/);
    expect(m.body).toContain('endorser_proposal_duration_seconds_bucket');
    expect(m.body).toContain('ledger_block_processing_time_seconds_count');
  });

  it('CRL admin endpoint: applies PEM CRLs, rejects bodies without one and unknown MSPs', async () => {
    const r = await http(ops.port, 'POST', '/admin/channels/energy/msps/Utility1MSP/crls', `${CRL}\n${CRL}\n`);
    expect(r.status).toBe(200);
    expect(applied.at(-1)).toEqual(['energy', 'Utility1MSP', [`${CRL}\n`, `${CRL}\n`]]);
    expect((await http(ops.port, 'POST', '/admin/channels/energy/msps/Utility1MSP/crls', 'not a crl')).status).toBe(400);
    expect((await http(ops.port, 'POST', '/admin/channels/energy/msps/NoSuchMSP/crls', CRL)).status).toBe(404);
    expect((await http(ops.port, 'GET', '/admin/channels/energy/msps/Utility1MSP/crls')).status).toBe(405);
    expect((await http(ops.port, 'GET', '/nothing')).status).toBe(404);
  });
});

describe('CrlStore', () => {
  it('persists CRLs per MSP across instances', () => {
    const home = mkdtempSync(join(tmpdir(), 'crls-'));
    try {
      expect(new CrlStore(home, 'energy').load().size).toBe(0);
      new CrlStore(home, 'energy').save('Utility1MSP', splitCrlPems(CRL));
      expect(new CrlStore(home, 'energy').load().get('Utility1MSP')).toEqual([`${CRL}\n`]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
