import { createSelfSignedCa } from '../../src/identity/certificates';
import { generateEcKeyPair, signLowS } from '../../src/identity/crypto';
import { CertCache, withCachedKeys } from '../../src/peer/verifierCache';
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
