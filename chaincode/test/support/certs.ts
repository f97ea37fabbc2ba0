/**
 * Real ECDSA P-256 certificates for tests that need the caller's public key (meters:registerKey):
 * self-signed, made at test time with @peculiar/x509 (never committed).
 */
import * as x509 from '@peculiar/x509';
import { createPrivateKey, sign, webcrypto, type KeyObject } from 'crypto';
import { relayedReadingMessage, type Reading } from '@gridledger/protocol';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface TestKey {
  certPem: string;
  privateKey: KeyObject;
}

export async function ecCertificate(cn: string): Promise<TestKey> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${cn}`,
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    signingAlgorithm: alg,
    keys,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certPem: cert.toString('pem'), privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) };
}

/** What the gateway does for a relayed reading: the meter key's signature, base64 DER. */
export function signRelayed(key: KeyObject, channel: string, mspId: string, r: Reading): string {
  return sign('sha256', relayedReadingMessage(channel, mspId, r), { key, dsaEncoding: 'der' }).toString('base64');
}
