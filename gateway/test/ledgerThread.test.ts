import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { classifyFailure, LedgerError } from '../src/fabric/errors';
import type { ActingIdentity, LedgerClient } from '../src/fabric/ledger';
import { errorFromData, errorToData, ThreadedLedger } from '../src/fabric/ledgerThread';

/**
 * ThreadedLedger's plumbing with a stand-in thread (plain JS speaking the same messages as
 * ledgerThreadMain.ts), so no Fabric is needed: results and LedgerErrors cross the thread boundary
 * intact, and a thread that dies fails its calls as retryable errors of their stage.
 */
const FAKE_THREAD = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => {
  if (m.op === 'forget') { parentPort.postMessage({ id: -1, forgot: m.key }); return; }
  if (m.op === 'endorse' && m.fn === 'ok') {
    parentPort.postMessage({ id: m.id, ok: true, value: { txId: 'tx-' + m.identity.key + '-' + m.transient.reading, bytes: new Uint8Array([1, 2, 3]), result: new Uint8Array([4]) } });
  } else if (m.op === 'endorse' && m.fn === 'refused') {
    parentPort.postMessage({ id: m.id, ok: false, error: { stage: 'endorse', message: '10 ABORTED: failed to endorse transaction', grpcCode: 10,
      details: [{ address: 'peer0:7051', mspId: 'Org1MSP', message: 'chaincode response 500, [VALIDATION:BAD_READING] intervalStart is not aligned' }] } });
  } else if (m.op === 'submitPrepared' && m.bytes[0] === 9) {
    parentPort.postMessage({ id: m.id, ok: false, error: { stage: 'commit', message: 'MVCC', validationCode: 11, details: [], txId: 'tx9' } });
  } else if (m.op === 'submitPrepared' && m.bytes[0] === 1) {
    parentPort.postMessage({ id: m.id, ok: true, value: { txId: 'tx1', blockNumber: 7, result: new Uint8Array([5]) } });
  } else if (m.fn === 'hang' || m.bytes?.[0] === 8) {
    // never answers
  } else {
    process.exit(3);
  }
});
`;

const meter: ActingIdentity = { key: 'meter:m1', mspId: 'Org1MSP', certPem: 'cert', privateKeyPem: 'key' };

describe('ThreadedLedger', () => {
  let dir: string;
  let script: string;
  const local: LedgerClient = {
    evaluate: jest.fn(async () => new Uint8Array([42])),
    endorse: jest.fn(),
    submitPrepared: jest.fn(),
    reachable: jest.fn(async () => true),
    chaincodeEvents: jest.fn(),
    forget: jest.fn(),
    close: jest.fn(),
  };
  const ledgers: ThreadedLedger[] = [];
  const make = () => {
    const l = new ThreadedLedger({} as never, script, local);
    ledgers.push(l);
    return l;
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-thread-'));
    script = path.join(dir, 'fake-thread.js');
    fs.writeFileSync(script, FAKE_THREAD);
  });
  afterAll(() => {
    for (const l of ledgers) l.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('returns what the thread endorsed and committed', async () => {
    const l = make();
    const [a, b] = await Promise.all([l.endorse(meter, 'ok', [''], { reading: 'r1' }), l.endorse(meter, 'ok', [''], { reading: 'r2' })]);
    expect(a.txId).toBe('tx-meter:m1-r1');
    expect(b.txId).toBe('tx-meter:m1-r2');
    expect(Buffer.from(a.bytes)).toEqual(Buffer.from([1, 2, 3]));
    const c = await l.submitPrepared(meter, new Uint8Array([1]));
    expect(c).toEqual({ txId: 'tx1', blockNumber: 7, result: new Uint8Array([5]) });
    expect(l.inFlight).toBe(0);
  });

  it('rebuilds LedgerErrors with their chaincode failure and validation code, so they classify as before', async () => {
    const l = make();
    const refused = await l.endorse(meter, 'refused', ['']).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LedgerError);
    expect((refused as LedgerError).chaincode).toMatchObject({ code: 'VALIDATION', subCode: 'BAD_READING' });
    expect(classifyFailure(refused as LedgerError)).toBe('permanent');
    const conflict = await l.submitPrepared(meter, new Uint8Array([9])).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(LedgerError);
    expect((conflict as LedgerError).validationName).toBe('MVCC_READ_CONFLICT');
    expect((conflict as LedgerError).txId).toBe('tx9');
    expect(classifyFailure(conflict as LedgerError)).toBe('conflict');
  });

  it('fails the calls in flight of a dead thread as retryable (endorse anew, re-send the same bytes) and starts a new thread', async () => {
    const l = make();
    const endorsing = l.endorse(meter, 'hang', ['']).catch((e: unknown) => e);
    const sending = l.submitPrepared(meter, new Uint8Array([8])).catch((e: unknown) => e);
    const killer = l.endorse(meter, 'exit', ['']).catch((e: unknown) => e);
    const [e1, e2, e3] = await Promise.all([endorsing, sending, killer]);
    expect(classifyFailure(e1 as LedgerError)).toBe('retry-endorse');
    expect(classifyFailure(e2 as LedgerError)).toBe('resend');
    expect((e3 as LedgerError).message).toMatch(/ledger thread stopped \(exit code 3\)/);
    // the next call gets a fresh thread
    await expect(l.endorse(meter, 'ok', [''], { reading: 'again' })).resolves.toMatchObject({ txId: 'tx-meter:m1-again' });
  });

  it('keeps reads and event streams on the calling thread and refuses calls after close', async () => {
    const l = make();
    await expect(l.evaluate(meter, 'health:ping', [])).resolves.toEqual(new Uint8Array([42]));
    await expect(l.reachable(10)).resolves.toBe(true);
    l.forget('meter:m1');
    expect(local.forget).toHaveBeenCalledWith('meter:m1');
    const pending = l.endorse(meter, 'hang', ['']).catch((e: unknown) => e);
    l.close();
    expect(classifyFailure((await pending) as LedgerError)).toBe('retry-endorse');
    await expect(l.endorse(meter, 'ok', [''])).rejects.toThrow(/closed/);
  });

  it('errorToData / errorFromData round-trip every field', () => {
    const e = new LedgerError({ stage: 'submit', message: 'm', grpcCode: 14, details: [{ address: 'a', mspId: 'M', message: 'x' }], txId: 't' });
    const back = errorFromData(structuredClone(errorToData(e)));
    expect({ ...back, message: back.message }).toEqual({ ...e, message: e.message });
  });
});
