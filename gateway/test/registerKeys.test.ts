/**
 * identity/registerKeys.ts: meters enrolled before relaying existed (no key recorded on the ledger for
 * their current certificate) register their keys in the background, signed by the meter itself, a few at
 * a time; failures are retried in a later pass; revoked and already-registered meters are left alone.
 */
import { LedgerError } from '../src/fabric/errors';
import { finalKeyRefusal, registerKeysOnce, registerMeterKeys } from '../src/identity/registerKeys';
import { MeterIdentities } from '../src/identity/meters';
import { Wallet } from '../src/identity/wallet';
import { openDatabase } from '../src/store/db';
import type { ActingIdentity } from '../src/fabric/ledger';
import { FakeCa } from './helpers/fakeCa';
import { silentLogger, tmpDir } from './helpers/tmp';

const KEY = Buffer.alloc(32, 1);

async function setup(n: number) {
  const dir = tmpDir();
  const db = openDatabase(dir);
  const meters = new MeterIdentities(new Wallet(db, KEY), new FakeCa(), { maxEnrollments: 1, affiliation: '', crlDir: `${dir}/crls` });
  for (let i = 0; i < n; i++) await meters.enrol(`m-${i}`, 'z');
  return { db, meters };
}

describe('background registration of meter keys', () => {
  it('registers every active meter without a recorded key, as the meter itself, at most `concurrency` at once; the relay then finds them', async () => {
    const { db, meters } = await setup(7);
    meters.recordLedgerKey('m-0', meters.get('m-0')!.certPem!, 'tx-at-enrolment'); // registered at enrolment
    await meters.revoke('m-6', 'keycompromise'); // revoked: never
    expect(meters.unregisteredKeys()).toEqual(['m-1', 'm-2', 'm-3', 'm-4', 'm-5']);
    const calls: Array<[string, string]> = [];
    let inFlight = 0;
    let most = 0;
    const submit = async (id: ActingIdentity, fn: string) => {
      calls.push([id.key, fn]);
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { txId: `tx-${id.key}` };
    };
    const res = await registerKeysOnce({ meters, submit, logger: silentLogger, concurrency: 2, retryMs: 1, stopped: () => false });
    expect(res).toEqual({ registered: 5, refused: 0, failed: 0 });
    expect(calls.map(([k]) => k).sort()).toEqual(['meter:m-1', 'meter:m-2', 'meter:m-3', 'meter:m-4', 'meter:m-5']);
    expect(calls.every(([, fn]) => fn === 'meters:registerKey')).toBe(true);
    expect(most).toBe(2);
    expect(meters.unregisteredKeys()).toEqual([]);
    expect(meters.relayKey('m-3')).toMatchObject({ privateKeyPem: expect.stringMatching(/BEGIN PRIVATE KEY/) as unknown });
    db.close();
  });

  it('a failed registration is logged and tried again in a later pass; nothing is left once it succeeds', async () => {
    const { db, meters } = await setup(3);
    let failures = 2;
    const submitted: string[] = [];
    const submit = async (id: ActingIdentity) => {
      submitted.push(id.key);
      if (id.key === 'meter:m-1' && failures-- > 0) throw new Error('UNAVAILABLE: peer not reachable');
      return { txId: `tx-${submitted.length}` };
    };
    const waits: number[] = [];
    await registerMeterKeys({ meters, submit, logger: silentLogger, concurrency: 4, retryMs: 100, stopped: () => false, sleep: async (ms) => void waits.push(ms) });
    expect(submitted.filter((k) => k === 'meter:m-1')).toHaveLength(3);
    expect(submitted.filter((k) => k !== 'meter:m-1').sort()).toEqual(['meter:m-0', 'meter:m-2']); // each once
    expect(waits).toEqual([100, 200]); // a growing delay between passes
    expect(meters.unregisteredKeys()).toEqual([]);
    db.close();
  });

  it('a re-enrolled certificate is a new key to register', async () => {
    const { db, meters } = await setup(1);
    meters.recordLedgerKey('m-0', '-----BEGIN CERTIFICATE-----\nan older certificate\n-----END CERTIFICATE-----', 'tx-old');
    expect(meters.unregisteredKeys()).toEqual(['m-0']);
    expect(meters.relayKey('m-0')).toBeUndefined();
    db.close();
  });

  it('stops between passes when the gateway stops', async () => {
    const { db, meters } = await setup(2);
    let stopped = false;
    let calls = 0;
    const submit = async () => {
      calls++;
      stopped = true; // the gateway begins to close during the first registration
      throw new Error('UNAVAILABLE');
    };
    await registerMeterKeys({ meters, submit, logger: silentLogger, concurrency: 1, retryMs: 1, stopped: () => stopped, sleep: async () => undefined });
    expect(calls).toBe(1);
    db.close();
  });

  /** The error the Submitter throws for a chaincode refusal at endorsement (fabric/errors.ts LedgerError). */
  const chaincodeRefusal = (message: string) =>
    new LedgerError({ stage: 'endorse', message: '10 ABORTED: failed to endorse transaction', grpcCode: 10, details: [{ address: 'peer0', mspId: 'Utility1MSP', message: `chaincode response 500, ${message}` }] });

  it('a typed refusal that can never succeed is not retried: recorded for the certificate, logged once with its code, counted, shown as REFUSED', async () => {
    const { db, meters } = await setup(3);
    const submitted: string[] = [];
    const submit = async (id: ActingIdentity) => {
      submitted.push(id.key);
      if (id.key === 'meter:m-1') throw chaincodeRefusal("[FORBIDDEN:KEY_REVOKED] meter m-1's key was revoked by its utility; a revoked meter cannot register a key again");
      if (id.key === 'meter:m-2' && submitted.filter((k) => k === 'meter:m-2').length === 1) throw new LedgerError({ stage: 'commit', message: 'MVCC_READ_CONFLICT', validationCode: 11 });
      return { txId: `tx-${submitted.length}` };
    };
    const errors: unknown[] = [];
    const logger = { ...silentLogger, error: (o: unknown) => void errors.push(o), warn: () => undefined, info: () => undefined, child: () => logger } as unknown as typeof silentLogger;
    const counted: string[] = [];
    const waits: number[] = [];
    await registerMeterKeys({ meters, submit, logger, count: (o) => void counted.push(o), concurrency: 2, retryMs: 100, stopped: () => false, sleep: async (ms) => void waits.push(ms) });
    expect(submitted.filter((k) => k === 'meter:m-1')).toHaveLength(1); // never again
    expect(submitted.filter((k) => k === 'meter:m-2')).toHaveLength(2); // transient: tried again after a delay
    expect(waits).toEqual([100]);
    expect(counted.sort()).toEqual(['refused', 'registered', 'registered', 'retry']);
    expect(errors).toEqual([expect.objectContaining({ meterId: 'm-1', code: 'FORBIDDEN', subCode: 'KEY_REVOKED' })]);
    expect(meters.unregisteredKeys()).toEqual([]);
    expect(meters.ledgerKeyStatus('m-1')).toEqual({ status: 'REFUSED', code: 'FORBIDDEN', subCode: 'KEY_REVOKED', reason: expect.stringContaining('revoked') });
    expect(meters.ledgerKeyStatus('m-2')).toEqual({ status: 'REGISTERED' });
    expect(meters.refusedKeysCount()).toBe(1);
    // a later pass (a gateway restart) does not try it again either
    await expect(registerKeysOnce({ meters, submit, logger, concurrency: 2, retryMs: 1, stopped: () => false })).resolves.toEqual({ registered: 0, refused: 0, failed: 0 });
    expect(submitted.filter((k) => k === 'meter:m-1')).toHaveLength(1);
    db.close();
  });

  it('the refusal belongs to the certificate: a new certificate is tried afresh', async () => {
    const { db, meters } = await setup(1);
    const cert = meters.get('m-0')!.certPem!;
    meters.recordLedgerKeyRefusal('m-0', '-----BEGIN CERTIFICATE-----\nan older certificate\n-----END CERTIFICATE-----', { code: 'FORBIDDEN', subCode: 'BANNED', reason: 'banned' });
    expect(meters.unregisteredKeys()).toEqual(['m-0']);
    expect(meters.ledgerKeyStatus('m-0')).toEqual({ status: 'PENDING' });
    meters.recordLedgerKeyRefusal('m-0', cert, { code: 'FORBIDDEN', subCode: 'BANNED', reason: 'banned' });
    expect(meters.unregisteredKeys()).toEqual([]);
    db.close();
  });

  it('classifies: typed FORBIDDEN/UNAUTHENTICATED/NOT_FOUND/INVALID_ARGUMENT/CONFLICT are final; PRECONDITION_FAILED, MVCC, unavailable and timeouts are not', () => {
    expect(finalKeyRefusal(chaincodeRefusal('[UNAUTHENTICATED:NO_ROLE] no role attribute'))).toMatchObject({ code: 'UNAUTHENTICATED', subCode: 'NO_ROLE' });
    expect(finalKeyRefusal(chaincodeRefusal('[NOT_FOUND:PARTICIPANT_NOT_FOUND] unknown'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(finalKeyRefusal(chaincodeRefusal('[CONFLICT:WRONG_STATE] key registered with another value'))).toMatchObject({ code: 'CONFLICT' });
    expect(finalKeyRefusal(chaincodeRefusal('[PRECONDITION_FAILED:METER_NOT_ENROLLED] not yet on the ledger'))).toBeUndefined();
    expect(finalKeyRefusal(new LedgerError({ stage: 'commit', message: 'MVCC_READ_CONFLICT', validationCode: 11 }))).toBeUndefined();
    expect(finalKeyRefusal(new LedgerError({ stage: 'endorse', message: '14 UNAVAILABLE: no connection', grpcCode: 14 }))).toBeUndefined();
    expect(finalKeyRefusal(new LedgerError({ stage: 'endorse', message: '4 DEADLINE_EXCEEDED', grpcCode: 4 }))).toBeUndefined();
    expect(finalKeyRefusal(new Error('socket hang up'))).toBeUndefined();
  });
});
