import { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  ATTR_EXTENSION_OID,
  certificateInfo,
  certificateSignature,
  createCrl,
  createCsr,
  createSelfSignedCa,
  issueCertificate,
  parseCrl,
  parseCsr,
} from '../../src/identity/certificates';
import { generateEcKeyPair, isHighS, pemToDer } from '../../src/identity/crypto';

async function newCa(cn: string, validityHours?: number) {
  const { privateKeyPem } = generateEcKeyPair();
  const certPem = await createSelfSignedCa({
    keyPem: privateKeyPem,
    subject: { country: 'US', province: 'North Carolina', organization: 'example.com', commonName: cn },
    ...(validityHours ? { validityHours } : {}),
  });
  return { certPem, keyPem: privateKeyPem };
}

describe('certificates', () => {
  let ca: { certPem: string; keyPem: string };
  beforeAll(async () => {
    ca = await newCa('ca.example.com');
  });

  test('CA cert: self-signed, CA:true, SKI present', () => {
    const info = certificateInfo(ca.certPem);
    expect(info.isCa).toBe(true);
    expect(info.skiHex).toMatch(/^[0-9a-f]+$/);
    const c = new X509Certificate(ca.certPem);
    expect(c.verify(c.publicKey)).toBe(true);
    expect(c.subject).toBe('C=US\nST=North Carolina\nO=example.com\nCN=ca.example.com');
  });

  test('ecerts: subject OUs in order, AKI = CA SKI, 20-byte positive serial, attribute extension only with attrs', async () => {
    const { publicKeyPem } = generateEcKeyPair();
    const withAttrs = await issueCertificate({
      issuer: ca,
      publicKeyPem,
      subject: { commonName: 'u1', organizationalUnits: ['client', 'org1', 'department1'] },
      profile: 'ecert',
      attrs: { zeta: '1', alpha: '2' },
    });
    const info = certificateInfo(withAttrs.certPem);
    expect(info.organizationalUnits).toEqual(['client', 'org1', 'department1']);
    expect(info.akiHex).toBe(certificateInfo(ca.certPem).skiHex);
    expect(info.isCa).toBe(false);
    expect(info.attrs).toEqual({ alpha: '2', zeta: '1' });
    const ext = new x509.X509Certificate(withAttrs.certPem).extensions.find((e) => e.type === ATTR_EXTENSION_OID)!;
    expect(ext.critical).toBe(false);
    expect(Buffer.from(ext.value).toString()).toBe('{"attrs":{"alpha":"2","zeta":"1"}}');
    const serial = new X509Certificate(withAttrs.certPem).serialNumber;
    expect(serial).toHaveLength(40);
    expect(parseInt(serial.slice(0, 2), 16)).toBeLessThan(0x80);
    expect(withAttrs.serialHex).toBe(info.serialHex);

    const plain = await issueCertificate({ issuer: ca, publicKeyPem, subject: { commonName: 'u2' }, profile: 'ecert', attrs: {} });
    expect(certificateInfo(plain.certPem).attrs).toBeNull();
    expect(new X509Certificate(plain.certPem).keyUsage).toBeUndefined(); // only EKU is exposed by node; none for ecerts
  });

  test('validity is capped at the CA NotAfter; NotBefore is the CA NotBefore', async () => {
    const shortCa = await newCa('short.example.com', 10);
    const { publicKeyPem } = generateEcKeyPair();
    const c = await issueCertificate({ issuer: shortCa, publicKeyPem, subject: { commonName: 'x' }, profile: 'ecert' });
    const info = certificateInfo(c.certPem);
    const caInfo = certificateInfo(shortCa.certPem);
    expect(info.notAfter.getTime()).toBe(caInfo.notAfter.getTime());
    expect(info.notBefore.getTime()).toBe(caInfo.notBefore.getTime());
  });

  test('every certificate and CRL signature is low-S, like bccsp output', async () => {
    const { publicKeyPem } = generateEcKeyPair();
    // Without normalisation about half of these would be high-S.
    for (let i = 0; i < 16; i++) {
      const c = await issueCertificate({ issuer: ca, publicKeyPem, subject: { commonName: `n${i}` }, profile: 'ecert' });
      expect(isHighS(certificateSignature(c.certPem))).toBe(false);
      const crl = new x509.X509Crl(pemToDer(await createCrl({ issuer: ca, entries: [] })));
      const sig = Buffer.from((crl as unknown as { asn: { signature: ArrayBuffer } }).asn.signature);
      expect(isHighS(sig)).toBe(false);
    }
  });

  test('CSR round trip keeps CN, key and SANs; tampered CSRs are refused', async () => {
    const { privateKeyPem, publicKeyPem } = generateEcKeyPair();
    const csr = await createCsr(privateKeyPem, 'peer0', ['peer0.example.com', '127.0.0.1']);
    const parsed = await parseCsr(csr);
    expect(parsed.commonName).toBe('peer0');
    expect(parsed.publicKeyPem).toBe(publicKeyPem);
    expect(parsed.hosts).toEqual(['peer0.example.com', '127.0.0.1']);
    const der = pemToDer(csr);
    der.writeUInt8(der.readUInt8(der.length - 5) ^ 0xff, der.length - 5);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(parseCsr(tampered)).rejects.toThrow();
  });

  test('CRLs: entries, AKI and signature check against the right CA only', async () => {
    const other = await newCa('other.example.com');
    const pem = await createCrl({ issuer: ca, entries: [{ serialHex: '0abc', revokedAt: new Date(), reason: 1 }] });
    expect(pem.startsWith('-----BEGIN X509 CRL-----')).toBe(true);
    const crl = parseCrl(pem);
    expect([...crl.revokedSerials]).toEqual(['abc']);
    expect(crl.akiHex).toBe(certificateInfo(ca.certPem).skiHex);
    expect(crl.verifiedBy(ca.certPem)).toBe(true);
    expect(crl.verifiedBy(other.certPem)).toBe(false);
  });
});
