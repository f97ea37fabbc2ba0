import { createSelfSignedCa } from '../../src/identity/certificates';
import { generateEcKeyPair, signLowS } from '../../src/identity/crypto';
import { CertCache, VerifiedSignatures, withCachedKeys } from '../../src/peer/verifierCache';
import type { ChannelMsp, PeerIdentity } from '../../src/peer/deps';

describe('verifier cache', () => {
  it('verifies with the cached certificate key, same answers as the MSP, and falls back for non-X.509 identities', async () => {
    const { privateKeyPem } = generateEcKeyPair();
    const certPem = await createSelfSignedCa({ subject: { commonName: 'x' }, keyPem: privateKeyPem });
    const id: PeerIdentity = { mspId: 'A', certPem, role: 'client', id: 'h1', serialized: Buffer.alloc(0) };
    let mspCalls = 0;
    const msp: ChannelMsp = { deserialize: () => id, verify: () => (mspCalls++, true) };
    const cached = withCachedKeys(msp, new CertCache(2));
    const msg = Buffer.from('payload');
    const sig = signLowS(privateKeyPem, msg);
    expect(cached.verify(id, msg, sig)).toBe(true);
    expect(cached.verify(id, Buffer.from('other'), sig)).toBe(false);
    expect(mspCalls).toBe(0);
    expect(cached.certs.get(id)!.notAfter).toBeGreaterThan(Date.now());
    const odd: PeerIdentity = { ...id, id: 'h2', certPem: 'not a cert' };
    expect(cached.verify(odd, msg, sig)).toBe(true);
    expect(mspCalls).toBe(1);
    // bounded
    cached.certs.get({ ...id, id: 'h3' });
    cached.certs.get({ ...id, id: 'h4' });
    expect(cached.verify(id, msg, sig)).toBe(true);
  });
});

describe('remembered verifications', () => {
  it('answers a repeated (certificate, message, signature) from memory, anything else by verifying', () => {
    const v = new VerifiedSignatures(3);
    let calls = 0;
    const check = (cert: string, msg: string, sig: string, answer: boolean): boolean =>
      v.check(cert, Buffer.from(msg), Buffer.from(sig), () => (calls++, answer));
    expect(check('c1', 'm', 's', true)).toBe(true);
    expect(check('c1', 'm', 's', false)).toBe(true); // remembered: not verified again
    expect(calls).toBe(1);
    expect(check('c1', 'm2', 's', false)).toBe(false); // other message
    expect(check('c1', 'm', 's2', false)).toBe(false); // other signature
    expect(check('c2', 'm', 's', false)).toBe(false); // other certificate
    expect(calls).toBe(4);
    expect(check('c1', 'm2', 's', true)).toBe(false); // a failure is remembered too
    expect(calls).toBe(4);
    expect(v.size).toBe(3); // bounded: the oldest entry went
    expect(check('c1', 'm', 's', false)).toBe(false);
    expect(calls).toBe(5);
  });

  it('the cached MSP verifies each distinct signature once', async () => {
    const { privateKeyPem } = generateEcKeyPair();
    const certPem = await createSelfSignedCa({ subject: { commonName: 'x' }, keyPem: privateKeyPem });
    const id: PeerIdentity = { mspId: 'A', certPem, role: 'client', id: 'h1', serialized: Buffer.alloc(0) };
    const msp: ChannelMsp = { deserialize: () => id, verify: () => true };
    const cached = withCachedKeys(msp);
    const msg = Buffer.from('payload');
    const sig = signLowS(privateKeyPem, msg);
    expect(cached.verify(id, msg, sig)).toBe(true);
    expect(cached.verify(id, msg, sig)).toBe(true);
    expect(cached.verify(id, Buffer.from('payloaX'), sig)).toBe(false);
    expect(cached.verified.size).toBe(2);
  });

  it("a signature remembered as this process's own is accepted without ECDSA; a tampered one is still verified", () => {
    const v = new VerifiedSignatures();
    let calls = 0;
    v.remember('peer1', Buffer.from('prp|endorser'), Buffer.from('sig'));
    expect(v.check('peer1', Buffer.from('prp|endorser'), Buffer.from('sig'), () => (calls++, false))).toBe(true);
    expect(calls).toBe(0);
    expect(v.check('peer1', Buffer.from('prp|endorser'), Buffer.from('siX'), () => (calls++, false))).toBe(false);
    expect(v.check('peer2', Buffer.from('prp|endorser'), Buffer.from('sig'), () => (calls++, false))).toBe(false);
    expect(calls).toBe(2);
  });
});
