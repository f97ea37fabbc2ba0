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
});
