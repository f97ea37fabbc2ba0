/**
 * Nothing acknowledged is lost: readings acknowledged with 202 are queued on the gateway's disk; the
 * gateway is SIGKILLed while some are still queued, brought back exactly as start.sh brings it up
 * (lib.sh start_gateways), and every receipt ends committed exactly once — the ledger holds N valid
 * transactions signed by the meter, one per reading, none twice.
 */
import { BlockCeiling, RUN, enrolMeter, expectStatus, gatewayPid, killGateway, ledgerEvaluate, loadGateways, readingSeries, restartGateways, RestClient, scanTransactions, validTxsSignedBy, waitReceipt } from './support';
import { isAlive } from '../support';

const gateways = loadGateways();
const victim = gateways[gateways.length - 1]!;
const observer = gateways[0]!;
const N = 30;

describe('gateway crash while readings are queued', () => {
  afterAll(async () => {
    // leave the network as we found it even if an assertion failed mid-way
    let alive = false;
    try {
      alive = isAlive(gatewayPid(victim.org));
    } catch {
      alive = false;
    }
    if (!alive) await restartGateways();
  });

  test(`${N} queued readings, SIGKILL, restart: every receipt committed exactly once`, async () => {
    const ceiling = await BlockCeiling.create(observer, `crash-marker-${RUN}`);
    const meter = await enrolMeter(victim, `crash-${RUN}`, 'feeder-c');
    const start = await ceiling.block();
    const series = readingSeries(N);
    const receipts: string[] = [];
    for (const r of series) {
      const res = await meter.client.post(`/api/v1/meters/${meter.meterId}/readings`, r, { idempotencyKey: `crash-${meter.meterId}-${r.intervalStart}` });
      expectStatus(res, 202);
      receipts.push(res.body.receiptId);
    }
    const oldPid = await killGateway(victim.org);
    await expect(new RestClient(victim.url).get('/health')).rejects.toThrow();

    // the crash really happened with readings still queued: fewer than N are on the ledger
    const before = await validTxsSignedBy(victim.org, meter.certificatePem, start, await ceiling.block());
    expect(before.length).toBeLessThan(N);

    await restartGateways();
    const newPid = gatewayPid(victim.org);
    expect(newPid).not.toBe(oldPid);
    expect(isAlive(newPid)).toBe(true);
    const ready = await new RestClient(victim.url).get('/ready');
    expectStatus(ready, 200);

    const finals = [];
    for (const id of receipts) finals.push(await waitReceipt(meter.client, id, 120_000));
    finals.forEach((f, i) => {
      expect(f).toMatchObject({ state: 'committed', result: { status: 'recorded', intervalStart: series[i]!.intervalStart } });
    });
    const txIds = finals.map((f) => f.txId!);
    expect(new Set(txIds).size).toBe(N);

    // the ledger: exactly N valid transactions by this meter since it was enrolled — the receipts' — none twice
    const after = await validTxsSignedBy(victim.org, meter.certificatePem, start, await ceiling.block());
    expect(after.map((t) => t.txId).sort()).toEqual([...txIds].sort());
    // invalid attempts (if any) by the meter never carried a second effect: each tx id appears once as valid
    const all = (await scanTransactions(victim.org, start, Math.max(...after.map((t) => t.blockNumber)))).filter((t) => t.valid);
    for (const id of txIds) expect(all.filter((t) => t.txId === id)).toHaveLength(1);
    for (const r of [series[0]!, series[N - 1]!]) {
      const got = await ledgerEvaluate(victim.org, 'meters:getReading', [meter.meterId, String(r.intervalStart)]);
      expect(got.reading).toMatchObject({ importWh: r.importWh, exportWh: r.exportWh, importRegisterWh: r.importRegisterWh });
    }
  }, 300_000); // a Fabric gateway restart + redelivery through SmartBFT takes longer than jest's 120 s default
});
