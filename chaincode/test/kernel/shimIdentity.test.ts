/**
 * kernel/shimIdentity.ts: fabric-shim's ClientIdentity parses each caller certificate once per
 * process, and gives the same id, MSP ID and attributes as an unmemoised parse.
 */
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'crypto';
import { ClientIdentity } from 'fabric-shim';
import { memoiseShimCertificates, shimCertificateClass } from '../../src/kernel/shimIdentity';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A Fabric CA-style certificate: the attributes in extension 1.2.3.4.5.6.7.8.1 as `{"attrs":{…}}`. */
async function fabricCert(cn: string, attrs: Record<string, string>): Promise<string> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '02',
    name: `CN=${cn}, O=utility1`,
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    signingAlgorithm: alg,
    keys,
    extensions: [new x509.Extension('1.2.3.4.5.6.7.8.1', false, Buffer.from(JSON.stringify({ attrs })))],
  });
  return cert.toString('pem');
}

function stubOf(mspid: string, pem: string): ConstructorParameters<typeof ClientIdentity>[0] {
  return {
    getChannelID: () => 'energy',
    getTxID: () => 'tx1',
    getCreator: () => ({ mspid, idBytes: Buffer.from(pem) }),
  } as never;
}

const view = (ci: ClientIdentity) => ({ id: ci.getID(), msp: ci.getMSPID(), role: ci.getAttributeValue('role'), meterId: ci.getAttributeValue('meterId') });

describe('caller certificates parsed once (memoiseShimCertificates)', () => {
  let meterPem: string;
  let operatorPem: string;
  let before: { meter: ReturnType<typeof view>; operator: ReturnType<typeof view> };
  let fromPEMs: jest.SpyInstance;

  beforeAll(async () => {
    meterPem = await fabricCert('meter-7', { role: 'meter', meterId: 'm7', zone: 'z1' });
    operatorPem = await fabricCert('op-1', { role: 'operator' });
    // what fabric-shim's own parse gives, before the hook
    before = { meter: view(new ClientIdentity(stubOf('Utility1MSP', meterPem))), operator: view(new ClientIdentity(stubOf('Utility1MSP', operatorPem))) };
    expect(memoiseShimCertificates()).toBe(true);
    fromPEMs = jest.spyOn(shimCertificateClass() as unknown as { fromPEMs(d: unknown): unknown }, 'fromPEMs');
  });

  it('gives the same identity and attributes as the unmemoised parse', () => {
    expect(before.meter).toEqual({ id: expect.stringMatching(/^x509::.*CN=meter-7/), msp: 'Utility1MSP', role: 'meter', meterId: 'm7' });
    expect(view(new ClientIdentity(stubOf('Utility1MSP', meterPem)))).toEqual(before.meter);
    expect(view(new ClientIdentity(stubOf('Utility1MSP', operatorPem)))).toEqual(before.operator);
    expect(before.operator.id).not.toEqual(before.meter.id);
  });

  it('parses a certificate seen before no more', () => {
    fromPEMs.mockClear();
    for (let i = 0; i < 5; i++) new ClientIdentity(stubOf('Utility1MSP', meterPem));
    expect(fromPEMs).not.toHaveBeenCalled();
  });

  it('parses a new certificate once, and a malformed one fails every time', async () => {
    fromPEMs.mockClear();
    const pem = await fabricCert('meter-8', { role: 'meter', meterId: 'm8', zone: 'z2' });
    expect(new ClientIdentity(stubOf('Utility2MSP', pem)).getAttributeValue('meterId')).toBe('m8');
    expect(new ClientIdentity(stubOf('Utility2MSP', pem)).getAttributeValue('meterId')).toBe('m8');
    expect(fromPEMs).toHaveBeenCalledTimes(1);
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    expect(() => new ClientIdentity(stubOf('Utility2MSP', broken))).toThrow();
    expect(() => new ClientIdentity(stubOf('Utility2MSP', broken))).toThrow();
  });

  it('installs once', () => {
    expect(memoiseShimCertificates()).toBe(true);
    fromPEMs.mockClear();
    new ClientIdentity(stubOf('Utility1MSP', meterPem));
    expect(fromPEMs).not.toHaveBeenCalled();
  });
});
