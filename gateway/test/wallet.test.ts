import { CaError } from '../src/identity/ca';
import { MeterIdentities } from '../src/identity/meters';
import { openSecret, sealSecret, Wallet } from '../src/identity/wallet';
import { HttpProblem } from '../src/rest/problem';
import { openDatabase } from '../src/store/db';
import { FakeCa } from './helpers/fakeCa';
import { tmpDir } from './helpers/tmp';

const KEY = Buffer.alloc(32, 1);

describe('wallet encryption', () => {
  it('AES-256-GCM round trip; wrong key, wrong row or tampering fail', () => {
    const sealed = sealSecret(KEY, 'secret key pem', 'row-a');
    expect(sealed).not.toContain('secret');
    expect(openSecret(KEY, sealed, 'row-a')).toBe('secret key pem');
    expect(() => openSecret(Buffer.alloc(32, 2), sealed, 'row-a')).toThrow(/wrong GATEWAY_WALLET_KEY/);
    expect(() => openSecret(KEY, sealed, 'row-b')).toThrow(/wrong GATEWAY_WALLET_KEY or tampered/);
    // flip one bit of the ciphertext (replacing its first byte by a constant left it unchanged 1 time in 256)
    const parts = sealed.split('.');
    const ciphertext = Buffer.from(parts[3]!, 'base64');
    ciphertext[0] = ciphertext[0]! ^ 0x01;
    parts[3] = ciphertext.toString('base64');
    expect(parts.join('.')).not.toBe(sealed);
    expect(() => openSecret(KEY, parts.join('.'), 'row-a')).toThrow(/wrong GATEWAY_WALLET_KEY or tampered/);
  });
});

describe('MeterIdentities', () => {
  it('enrols with role/meterId/zone, keeps the key encrypted on disk, revokes', async () => {
    const dir = tmpDir();
    const db = openDatabase(dir);
    const ca = new FakeCa();
    const ids = new MeterIdentities(new Wallet(db, KEY), ca, { maxEnrollments: 1, affiliation: '', crlDir: `${dir}/crls` });
    const { meter } = await ids.enrol('m-1', 'z-1');
    expect(meter).toMatchObject({ meterId: 'm-1', zone: 'z-1', status: 'ACTIVE', enrollmentId: 'm-1' });
    expect(ca.registered.get('m-1')).toMatchObject({ zone: 'z-1', maxEnrollments: 1 });
    const acting = ids.actingIdentity('m-1');
    expect(acting.privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
    // the agents' keyed check of a held meter agrees with the list
    expect(ids.activeMeter('m-1')).toEqual(ids.activeMeters()[0]);
    expect(ids.activeMeter('m-unknown')).toBeUndefined();
    const raw = JSON.stringify(db.prepare('SELECT * FROM meter_identities').all());
    expect(raw).not.toContain('BEGIN PRIVATE KEY');
    // the wallet key is needed to use it
    expect(() => new MeterIdentities(new Wallet(db, Buffer.alloc(32, 9)), ca, { maxEnrollments: 1, affiliation: '', crlDir: dir }).actingIdentity('m-1')).toThrow(/wrong GATEWAY_WALLET_KEY/);

    const { crlPem } = await ids.revoke('m-1', 'keycompromise');
    expect(crlPem).toContain('X509 CRL');
    expect(ca.registered.get('m-1')!.revoked).toBe(true);
    let err: unknown;
    try {
      ids.actingIdentity('m-1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpProblem);
    expect(err).toMatchObject({ status: 403, slug: 'meter-revoked' });
    expect(ids.activeMeter('m-1')).toBeUndefined(); // a revoked meter is no longer held for acting
    expect(JSON.stringify(db.prepare('SELECT key_enc FROM meter_identities').all())).toBe('[{"key_enc":null}]');
    db.close();
  });

  it('remembered rows follow every write: enrolment, ledger key, re-enrolment, revocation', async () => {
    const dir = tmpDir();
    const db = openDatabase(dir);
    const wallet = new Wallet(db, KEY);
    const ids = new MeterIdentities(wallet, new FakeCa(), { maxEnrollments: 2, affiliation: '', crlDir: `${dir}/crls` });
    await ids.enrol('m-1', 'z-1');
    const first = wallet.get('m-1')!;
    expect(wallet.get('m-1')).toBe(first); // remembered
    expect(ids.relayKey('m-1')).toBeUndefined(); // the ledger does not hold its key yet
    ids.recordLedgerKey('m-1', first.certPem!, 'tx-key');
    expect(ids.relayKey('m-1')).toMatchObject({ privateKeyPem: expect.stringMatching(/BEGIN PRIVATE KEY/) });
    // a new certificate for the meter: its key is not the one the ledger holds
    db.prepare("UPDATE meter_identities SET status = 'REGISTERED', secret_enc = NULL WHERE meter_id = 'm-1'").run();
    wallet.recordEnrolment('m-1', 'OTHER CERT', first.certPem!);
    expect(wallet.get('m-1')!.certPem).toBe('OTHER CERT');
    expect(ids.relayKey('m-1')).toBeUndefined();
    wallet.markRevoked('m-1', 'keycompromise');
    expect(wallet.get('m-1')).toMatchObject({ status: 'REVOKED' });
    expect(() => wallet.privateKeyPem('m-1')).toThrow(/no enrolled key/);
    db.close();
  });

  it('a crash between CA registration and enrolment is resumed with the sealed secret', async () => {
    const dir = tmpDir();
    const db = openDatabase(dir);
    const ca = new FakeCa();
    const wallet = new Wallet(db, KEY);
    const ids = new MeterIdentities(wallet, ca, { maxEnrollments: 1, affiliation: '', crlDir: dir });
    const realEnroll = ca.enroll.bind(ca);
    ca.enroll = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    await expect(ids.enrol('m-2', 'z')).rejects.toMatchObject({ status: 502 });
    expect(wallet.get('m-2')!.status).toBe('REGISTERED');
    ca.enroll = realEnroll;
    const { meter } = await ids.enrol('m-2', 'z');
    expect(meter.status).toBe('ACTIVE');
    expect(ca.registered.get('m-2')!.enrolments).toBe(1);
    db.close();
  });

  /** A wallet and MeterIdentities over a FakeCa, with the recoveries it reports. */
  function recoverySetup() {
    const dir = tmpDir();
    const db = openDatabase(dir);
    const ca = new FakeCa();
    const wallet = new Wallet(db, KEY);
    const again: string[] = [];
    const ids = new MeterIdentities(wallet, ca, { maxEnrollments: 1, affiliation: '', crlDir: dir, onEnrolAgain: (m, outcome) => void again.push(`${m}:${outcome}`) });
    return { db, ca, wallet, ids, again };
  }

  it('an enrolment whose CA answer was lost is retried: the gateway resets the identity (new secret, one more enrolment) and stores only the new certificate', async () => {
    const { db, ca, wallet, ids, again } = recoverySetup();
    ca.loseEnrolAnswers = 1; // the CA enrols, the gateway times out
    await expect(ids.enrol('m-3', 'z')).rejects.toMatchObject({ status: 503, slug: 'ca-unavailable' });
    expect(wallet.get('m-3')!.status).toBe('REGISTERED');
    expect(ca.registered.get('m-3')!.enrolments).toBe(1); // its one enrolment is used up
    const sealedBefore = wallet.registrationSecret('m-3');

    const { meter, certPem } = await ids.enrol('m-3', 'z');
    expect(meter.status).toBe('ACTIVE');
    expect(ca.modified).toEqual([{ enrollmentId: 'm-3', maxEnrollments: 2 }]); // exactly one more enrolment
    expect(ca.registered.get('m-3')!.secret).not.toBe(sealedBefore); // under a new secret
    expect(ca.issued.map((c) => c.answered)).toEqual([false, true]);
    expect(certPem).toBe(ca.issued[1]!.certPem); // the new certificate, never the lost one
    expect(wallet.get('m-3')!.certPem).toBe(ca.issued[1]!.certPem);
    expect(ids.actingIdentity('m-3').certPem).not.toBe(ca.issued[0]!.certPem);
    expect(again).toEqual(['m-3:reset']);
    // and the identity has no enrolment left for anyone holding an older secret
    await expect(ca.enroll('m-3', sealedBefore)).rejects.toMatchObject({ kind: 'auth' });
    db.close();
  });

  it('a crash after the new secret was sealed but before the CA changed it recovers the same way; a lost registration is registered again', async () => {
    const { db, ca, wallet, ids, again } = recoverySetup();
    ca.loseEnrolAnswers = 1;
    await expect(ids.enrol('m-4', 'z')).rejects.toMatchObject({ status: 503 });
    // the reset's answer is lost too (the gateway crashed after sealing the new secret)
    const realAllow = ca.allowEnrolmentAgain.bind(ca);
    ca.allowEnrolmentAgain = async () => {
      throw new CaError('unavailable', 'Calling identities/m-4 endpoint failed, CONNECTION Timeout');
    };
    await expect(ids.enrol('m-4', 'z')).rejects.toMatchObject({ status: 503 });
    ca.allowEnrolmentAgain = realAllow;
    await expect(ids.enrol('m-4', 'z')).resolves.toMatchObject({ meter: { status: 'ACTIVE' } });

    // the CA never saw the registration (lost on its way): the wallet's REGISTERED meter is registered again
    wallet.recordRegistration('m-5', 'z', ca.mspId, 'm-5', 'a-secret-the-ca-never-saw');
    await expect(ids.enrol('m-5', 'z')).resolves.toMatchObject({ meter: { status: 'ACTIVE' } });
    expect(ca.registered.get('m-5')).toMatchObject({ zone: 'z', maxEnrollments: 1, enrolments: 1 });
    expect(again).toEqual(['m-4:reset', 'm-5:registered-again']);
    db.close();
  });

  it('a meter revoked at the CA is not enrolled by the reset: the second refusal is reported', async () => {
    const { db, ca, wallet, ids } = recoverySetup();
    ca.loseEnrolAnswers = 1;
    await expect(ids.enrol('m-6', 'z')).rejects.toMatchObject({ status: 503 });
    await ca.revoke('m-6');
    await expect(ids.enrol('m-6', 'z')).rejects.toMatchObject({ status: 502, message: expect.stringContaining('even with a new secret') });
    expect(wallet.get('m-6')!.status).toBe('REGISTERED');
    db.close();
  });

  it('two enrolments of one meter at once run one after the other: one enrols, the other is told it is enrolled', async () => {
    const { db, ca, ids } = recoverySetup();
    const [a, b] = await Promise.allSettled([ids.enrol('m-7', 'z'), ids.enrol('m-7', 'z')]);
    // the ledger step is not done yet, so the second resumes the first's enrolment (no second CA enrolment)
    expect([a.status, b.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(ca.issued).toHaveLength(1);
    expect(ca.modified).toEqual([]);
    db.close();
  });

  it('a registration whose answer was lost keeps the sealed secret: the retry enrols instead of finding the id "registered elsewhere"', async () => {
    const { db, ca, wallet, ids } = recoverySetup();
    ca.loseRegisterAnswers = 1; // registered at the CA, the gateway timed out
    await expect(ids.enrol('m-8', 'z')).rejects.toMatchObject({ status: 503 });
    expect(wallet.get('m-8')!.status).toBe('REGISTERED');
    await expect(ids.enrol('m-8', 'z')).resolves.toMatchObject({ meter: { status: 'ACTIVE' } });
    expect(ca.modified).toEqual([]); // the sealed secret was the CA's: no reset needed
    // a refusal (not a lost answer) still starts afresh
    ca.register = async () => {
      throw new CaError('auth', 'Authorization failure', [{ code: 71, message: 'Authorization failure' }]);
    };
    await expect(ids.enrol('m-9', 'z')).rejects.toMatchObject({ status: 502 });
    expect(wallet.get('m-9')).toBeUndefined();
    db.close();
  });
});
