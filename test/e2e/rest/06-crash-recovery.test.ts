/**
 * Nothing acknowledged is lost: readings acknowledged with 202 are queued on the gateway's disk; the
 * gateway is SIGKILLed while some are still queued, brought back exactly as start.sh brings it up
 * (lib.sh start_gateways), and every receipt ends committed exactly once — the valid transactions that
 * delivered its readings (signed by the meter: one per reading or a coalesced batch of several; or relayed
 * batches signed by the utility's operator) are exactly the receipts', none twice.
 *
 * Under load (issue 16): 200 meters post 10 readings each as fast as they are acknowledged; the gateway is
 * SIGKILLed mid-stream (requests in flight, many acknowledged readings still queued, coalesced batches
 * endorsed but unrecorded); after the restart each meter re-sends what was not acknowledged with the same
 * Idempotency-Key, as a meter would, and every reading ends in exactly one receipt, committed once.
 */
import { BlockCeiling, RUN, enrolMeter, expectStatus, gatewayPid, killGateway, ledgerEvaluate, loadGateways, readingSeries, restartGateways, restartGatewaysIfDown, RestClient, scanTransactions, validTxsSignedBy, waitReceipt, type EnrolledMeter } from './support';
import { connectOrg, isAlive, loadNetwork, org, sleep } from '../support';

const gateways = loadGateways();
const victim = gateways[gateways.length - 1]!;
const observer = gateways[0]!;
const N = 30;

describe('gateway crash while readings are queued', () => {
  // leave the network as we found it even if an assertion failed mid-way
  afterAll(() => restartGatewaysIfDown(victim.org));

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

    // the crash really happened with readings still queued: the last acknowledged one is not on the ledger
    await expect(ledgerEvaluate(victim.org, 'meters:getReading', [meter.meterId, String(series[N - 1]!.intervalStart)])).rejects.toThrow();

    await restartGateways();
    const newPid = gatewayPid(victim.org);
    expect(newPid).not.toBe(oldPid);
    expect(isAlive(newPid)).toBe(true);
    const ready = await new RestClient(victim.url).get('/ready');
    expectStatus(ready, 200);

    const finals = [];
    for (const id of receipts) finals.push(await waitReceipt(meter.client, id, 120_000));
    finals.forEach((f, i) => {
      expect(f).toMatchObject({ state: 'COMMITTED', result: { status: 'RECORDED', intervalStart: series[i]!.intervalStart } });
    });
    // one transaction per reading, or fewer: the gateway coalesces a meter's queued readings into one batch
    const txIds = [...new Set(finals.map((f) => f.txId!))];
    expect(txIds.length).toBeLessThanOrEqual(N);

    // the ledger: the valid transactions that delivered readings since the meter was enrolled — signed by the
    // meter, or relayed batches of its utility (meters:relayReadings, signed by the operator; nothing else
    // posts readings on the suites' quiet network) — are exactly the receipts', none twice
    const victimMsp = org(loadNetwork(), victim.org).mspId;
    const end = await ceiling.block();
    const mine = new Set((await validTxsSignedBy(victim.org, meter.certificatePem, start, end)).map((t) => t.txId));
    const after = (await scanTransactions(victim.org, start, end)).filter((t) => t.valid && (mine.has(t.txId) || (t.creatorMspId === victimMsp && t.fn.endsWith('/meters:relayReadings'))));
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

describe('gateway crash under a load of thousands of readings', () => {
  const METERS = 200;
  const PER_METER = 10;
  const KILL_AFTER = 1_200; // acknowledged readings before the SIGKILL

  afterAll(() => restartGatewaysIfDown(victim.org));

  /** Meters enrolled a few at a time (the CA is the slow part); a 503 from a loaded CA is retried with the same enrolment. */
  async function enrolMany(n: number): Promise<EnrolledMeter[]> {
    const out: EnrolledMeter[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < n) {
          const i = next++;
          for (let attempt = 1; ; attempt++) {
            try {
              out[i] = await enrolMeter(victim, `load-${RUN}-${i}`, 'feeder-l');
              break;
            } catch (e) {
              if (attempt >= 5 || !/got 503/.test(String(e))) throw e;
              await sleep(1000 * attempt);
            }
          }
        }
      }),
    );
    return out;
  }

  test(`${METERS} meters × ${PER_METER} readings, SIGKILL mid-stream, restart, re-send the unacknowledged: each reading committed exactly once`, async () => {
    const ceiling = await BlockCeiling.create(observer, `crash-load-marker-${RUN}`);
    const meters = await enrolMany(METERS);
    const start = await ceiling.block();
    const series = meters.map(() => readingSeries(PER_METER));
    const key = (m: number, k: number) => `load-${meters[m]!.meterId}-${series[m]![k]!.intervalStart}`;
    /** receipt id per meter and reading once acknowledged; `next` = the first reading not acknowledged */
    const receipts = meters.map(() => new Array<string | undefined>(PER_METER));
    const next = meters.map(() => 0);
    let acked = 0;
    let killing: Promise<number> | undefined;

    const postFrom = async (m: number): Promise<void> => {
      const meter = meters[m]!;
      while (next[m]! < PER_METER) {
        const k = next[m]!;
        let res;
        try {
          res = await meter.client.post(`/api/v1/meters/${meter.meterId}/readings`, series[m]![k], { idempotencyKey: key(m, k) });
        } catch {
          return; // the gateway is gone: this reading was not acknowledged (it may or may not be queued)
        }
        if (res.status !== 202) return; // e.g. 409 in progress / 5xx while stopping: not acknowledged
        receipts[m]![k] = res.body.receiptId;
        next[m] = k + 1;
        if (++acked === KILL_AFTER) killing = killGateway(victim.org);
      }
    };
    await Promise.all(meters.map((_, m) => postFrom(m)));
    expect(killing).toBeDefined();
    await killing;
    const ackedBeforeCrash = acked;
    expect(ackedBeforeCrash).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(ackedBeforeCrash).toBeLessThan(METERS * PER_METER); // the crash cut the stream

    // the crash came with acknowledged readings still queued: the last acknowledged reading of some meters is not on the ledger
    const net = loadNetwork();
    const conn = connectOrg(org(net, victim.org));
    let missing = 0;
    try {
      const contract = conn.gateway.getNetwork(net.channel).getContract('gridledger');
      for (let m = 0; m < METERS; m++) {
        if (next[m] === 0) continue;
        try {
          await contract.evaluateTransaction('meters:getReading', meters[m]!.meterId, String(series[m]![next[m]! - 1]!.intervalStart));
        } catch {
          missing++;
        }
      }
    } finally {
      conn.close();
    }
    expect(missing).toBeGreaterThan(0);

    await restartGateways();
    expectStatus(await new RestClient(victim.url).get('/ready'), 200);
    // every meter re-sends, in order and with the same keys, what was not acknowledged
    await Promise.all(meters.map((_, m) => postFrom(m)));
    expect(next.every((n) => n === PER_METER)).toBe(true);
    expect(acked).toBe(METERS * PER_METER);

    const finals = [];
    for (let m = 0; m < METERS; m++) {
      for (let k = 0; k < PER_METER; k++) {
        const f = await waitReceipt(meters[m]!.client, receipts[m]![k]!, 300_000);
        expect(f).toMatchObject({ state: 'COMMITTED', meterId: meters[m]!.meterId, result: { status: 'RECORDED', intervalStart: series[m]![k]!.intervalStart } });
        finals.push(f);
      }
    }
    // one receipt per reading
    expect(new Set(finals.map((f) => f.receiptId)).size).toBe(METERS * PER_METER);
    // the ledger: the valid transactions that delivered readings — signed by these meters, or relayed batches of
    // the utility (meters:relayReadings, signed by its operator; the suites run without a community, so every
    // relayed batch in the range carries these meters' readings) — are exactly the receipts' transactions: no
    // second delivery (a batch re-delivered under a new tx id would be an extra valid transaction here)
    const certs = new Set(meters.map((m) => m.certificatePem.replace(/\r/g, '').trim()));
    const txIds = new Set(finals.map((f) => f.txId!));
    const end = await ceiling.block();
    const victimMsp = org(net, victim.org).mspId;
    const byMeters = (await scanTransactions(victim.org, start, end)).filter(
      (t) => t.valid && (certs.has(t.creatorCertPem.replace(/\r/g, '').trim()) || (t.creatorMspId === victimMsp && t.fn.endsWith('/meters:relayReadings'))),
    );
    expect(new Set(byMeters.map((t) => t.txId))).toEqual(txIds);
    expect(byMeters).toHaveLength(txIds.size); // each tx id valid once
    for (const m of [0, METERS - 1]) {
      const last = series[m]![PER_METER - 1]!;
      const got = await ledgerEvaluate(victim.org, 'meters:getReading', [meters[m]!.meterId, String(last.intervalStart)]);
      expect(got.reading).toMatchObject({ importWh: last.importWh, importRegisterWh: last.importRegisterWh });
    }
  }, 900_000);
});
