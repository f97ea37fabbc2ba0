import { mkdtempSync, rmSync, statSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { loadNetworkConfig, type NetworkConfig } from '@gridledger/protocol';
import { ensureOrgMaterial, OrgMaterial } from '../../src/identity/orgMaterial';
import { certificateInfo, createCsr, issueCertificate } from '../../src/identity/certificates';
import { generateEcKeyPair, signLowS } from '../../src/identity/crypto';
import { MspError, MspRegistry, serializeIdentity } from '../../src/identity/msp';
import { caRegistryDir, defaultAffiliations, FabricCa } from '../../src/ca/fabricCa';

const CONFIG = join(__dirname, '../../../../test-network-config/network.yaml');

let home: string;
let config: NetworkConfig;
let orgs: Map<string, OrgMaterial>;

function mspOf(orgList: OrgMaterial[]): MspRegistry {
  return new MspRegistry(orgList.map((o) => ({ mspId: o.mspId, rootCertsPem: [o.caCertPem], crlsPem: [] })));
}

function expectMspError(fn: () => unknown, kind: MspError['kind']): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MspError);
    expect((err as MspError).kind).toBe(kind);
    return;
  }
  throw new Error(`expected MspError ${kind}`);
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'gl-orgmat-'));
  config = loadNetworkConfig(CONFIG);
  orgs = await ensureOrgMaterial(config, home);
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

describe('org material', () => {
  test('creates every utility org and the orderer org in the test-network layout', () => {
    expect([...orgs.keys()].sort()).toEqual(['orderer', 'utility1', 'utility2', 'utility3']);
    const u1 = orgs.get('utility1')!;
    const d = 'utility1.gridledger.local';
    expect(u1.dir).toBe(join(home, 'organizations', 'peerOrganizations', d));
    for (const rel of [
      `ca/ca.${d}-cert.pem`,
      'ca/priv_sk',
      `tlsca/tlsca.${d}-cert.pem`,
      'tlsca/priv_sk',
      `msp/cacerts/ca.${d}-cert.pem`,
      `msp/tlscacerts/tlsca.${d}-cert.pem`,
      'msp/config.yaml',
      `peers/peer0.${d}/msp/signcerts/cert.pem`,
      `peers/peer0.${d}/msp/keystore/priv_sk`,
      `peers/peer0.${d}/tls/server.crt`,
      `peers/peer0.${d}/tls/server.key`,
      `peers/peer0.${d}/tls/ca.crt`,
      `users/Admin@${d}/msp/signcerts/cert.pem`,
      `users/operator1@${d}/msp/keystore/priv_sk`,
      `users/regulator@${d}/msp/signcerts/cert.pem`,
    ]) {
      expect(existsSync(join(u1.dir, rel))).toBe(true);
    }
    expect(readFileSync(join(u1.dir, 'msp/config.yaml'), 'utf8')).toContain('OrganizationalUnitIdentifier: orderer');
    expect(statSync(join(u1.dir, 'ca/priv_sk')).mode & 0o777).toBe(0o600);
    expect(statSync(join(u1.dir, `users/operator1@${d}/msp/keystore/priv_sk`)).mode & 0o777).toBe(0o600);
    const ord = orgs.get('orderer')!;
    expect(ord.peer).toBeNull();
    expect(ord.orderer).not.toBeNull();
    expect(ord.dir).toContain(join('ordererOrganizations', 'orderer.gridledger.local'));
    expect(Object.keys(orgs.get('utility2')!.users).sort()).toEqual(['admin', 'operator2']);
    expect(Object.keys(u1.users).sort()).toEqual(['admin', 'operator1', 'regulator']);
  });

  test('identities look like Fabric CA issued them: type as first OU, attrs in the attribute extension', () => {
    const u1 = orgs.get('utility1')!;
    const op = certificateInfo(u1.users.operator1!.certPem);
    expect(op.commonName).toBe('operator1');
    expect(op.organizationalUnits).toEqual(['client']);
    expect(op.attrs).toEqual({ 'hf.Affiliation': '', 'hf.EnrollmentID': 'operator1', 'hf.Type': 'client', role: 'operator' });
    expect(op.serialHex.length).toBeGreaterThanOrEqual(38);
    // raw JSON with sorted keys, exactly what Fabric CA (a Go map) writes
    const der = new X509Certificate(u1.users.regulator!.certPem).raw.toString('latin1');
    expect(der).toContain('{"attrs":{"hf.Affiliation":"","hf.EnrollmentID":"regulator","hf.Type":"client","role":"regulator"}}');
    expect(certificateInfo(u1.users.admin!.certPem).organizationalUnits).toEqual(['admin']);
    expect(certificateInfo(u1.peer!.identity.certPem).organizationalUnits).toEqual(['peer']);
    expect(certificateInfo(u1.caCertPem).isCa).toBe(true);
  });

  test('TLS server certs chain to the TLS CA and carry localhost, 127.0.0.1 and the host name', () => {
    const u1 = orgs.get('utility1')!;
    for (const [kp, host] of [
      [u1.peer!.tls, 'peer0.utility1.gridledger.local'],
      [u1.ca.tls, 'ca.utility1.gridledger.local'],
    ] as const) {
      const c = new X509Certificate(kp.certPem);
      expect(c.verify(new X509Certificate(u1.tlsCaCertPem).publicKey)).toBe(true);
      expect(c.checkHost(host)).toBe(host);
      expect(c.checkHost('localhost')).toBe('localhost');
      expect(c.checkIP('127.0.0.1')).toBe('127.0.0.1');
    }
    expect(u1.tlsCaCertPem).not.toBe(u1.caCertPem);
  });

  test('a restart reuses every existing file', async () => {
    const again = await ensureOrgMaterial(config, home);
    for (const [name, org] of orgs) {
      const o2 = again.get(name)!;
      expect(o2.caCertPem).toBe(org.caCertPem);
      expect(o2.tlsCaCertPem).toBe(org.tlsCaCertPem);
      expect(o2.ca.tls).toEqual(org.ca.tls);
      expect(o2.users).toEqual(org.users);
      expect(o2.peer).toEqual(org.peer);
    }
  });

  test("an org moved to another host (network.yaml host:) gets TLS certs for it on restart; nothing else changes", async () => {
    const moved: NetworkConfig = {
      ...config,
      organizations: config.organizations.map((o) => (o.name === 'utility2' ? { ...o, host: '127.0.0.22' } : o)),
    };
    const again = await ensureOrgMaterial(moved, home);
    const before = orgs.get('utility2')!;
    const after = again.get('utility2')!;
    for (const kp of [after.peer!.tls, after.ca.tls]) {
      const c = new X509Certificate(kp.certPem);
      expect(c.checkIP('127.0.0.22')).toBe('127.0.0.22');
      expect(c.checkIP('127.0.0.1')).toBe('127.0.0.1'); // local CLIs keep working
      expect(c.verify(new X509Certificate(after.tlsCaCertPem).publicKey)).toBe(true);
    }
    expect(new X509Certificate(after.peer!.tls.certPem).checkHost('peer0.utility2.gridledger.local')).toBe('peer0.utility2.gridledger.local');
    expect(after.peer!.tls).not.toEqual(before.peer!.tls);
    // identities and CAs stay: only the TLS server certs name addresses
    expect(after.caCertPem).toBe(before.caCertPem);
    expect(after.peer!.identity).toEqual(before.peer!.identity);
    expect(after.users).toEqual(before.users);
    expect(again.get('utility1')!.peer!.tls).toEqual(orgs.get('utility1')!.peer!.tls);
    // and the files on disk now hold the new cert, so the next restart reuses it
    const third = await ensureOrgMaterial(moved, home);
    expect(third.get('utility2')!.peer!.tls).toEqual(after.peer!.tls);
  });
});

describe('MspRegistry', () => {
  test('deserializes valid identities with their NodeOU role and cert hash id', () => {
    const all = [...orgs.values()];
    const msp = mspOf(all);
    const u1 = orgs.get('utility1')!;
    const bytes = serializeIdentity('Utility1MSP', u1.users.operator1!.certPem);
    const id = msp.deserialize(bytes);
    expect(id.mspId).toBe('Utility1MSP');
    expect(id.role).toBe('client');
    expect(id.id).toMatch(/^[0-9a-f]{64}$/);
    expect(id.serialized.equals(bytes)).toBe(true);
    // the second answer (remembered per serialized bytes) is the same identity, with its own bytes
    const again = msp.deserialize(Buffer.from(bytes));
    expect(again).toEqual(id);
    expect(again.serialized).not.toBe(id.serialized);
    expect(msp.deserialize(serializeIdentity('Utility1MSP', u1.users.admin!.certPem)).role).toBe('admin');
    const peer = msp.deserialize(serializeIdentity('Utility1MSP', u1.peer!.identity.certPem));
    expect(peer.role).toBe('peer');
    expect(msp.deserialize(serializeIdentity('OrdererMSP', orgs.get('orderer')!.orderer!.identity.certPem)).role).toBe('orderer');
    // signature verification goes through the low-S rule
    const msg = Buffer.from('payload');
    expect(msp.verify(id, msg, signLowS(u1.users.operator1!.keyPem, msg))).toBe(true);
    expect(msp.verify(id, msg, signLowS(u1.users.admin!.keyPem, msg))).toBe(false);
    // principals
    expect(msp.satisfiesPrincipal(peer, { mspId: 'Utility1MSP', role: 'member' })).toBe(true);
    expect(msp.satisfiesPrincipal(peer, { mspId: 'Utility1MSP', role: 'peer' })).toBe(true);
    expect(msp.satisfiesPrincipal(peer, { mspId: 'Utility1MSP', role: 'client' })).toBe(false);
    expect(msp.satisfiesPrincipal(peer, { mspId: 'Utility2MSP', role: 'member' })).toBe(false);
  });

  test('rejects unknown MSPs, garbage, foreign certs, CA certs', () => {
    const msp = mspOf([...orgs.values()]);
    const u1 = orgs.get('utility1')!;
    const u2 = orgs.get('utility2')!;
    expectMspError(() => msp.deserialize(serializeIdentity('NopeMSP', u1.users.admin!.certPem)), 'unknown-msp');
    expectMspError(() => msp.deserialize(Buffer.from([0xff, 0xff, 0xff])), 'malformed');
    expectMspError(() => msp.deserialize(serializeIdentity('Utility1MSP', 'not a cert')), 'malformed');
    // utility2's operator claiming to be Utility1MSP: does not chain
    expectMspError(() => msp.deserialize(serializeIdentity('Utility1MSP', u2.users.operator2!.certPem)), 'invalid');
    expectMspError(() => msp.deserialize(serializeIdentity('Utility1MSP', u2.users.operator2!.certPem)), 'invalid'); // not remembered as valid
    // the CA itself cannot be an identity
    expectMspError(() => msp.deserialize(serializeIdentity('Utility1MSP', u1.caCertPem)), 'invalid');
  });

  test('NodeOUs: exactly one of client|peer|admin|orderer; expiry is not checked', async () => {
    const u1 = orgs.get('utility1')!;
    const msp = mspOf([u1]);
    const { publicKeyPem } = generateEcKeyPair();
    const issuer = { certPem: u1.caCertPem, keyPem: u1.caKeyPem };
    const twoOus = await issueCertificate({
      issuer,
      publicKeyPem,
      subject: { commonName: 'x', organizationalUnits: ['client', 'peer'] },
      profile: 'ecert',
    });
    expectMspError(() => msp.deserialize(serializeIdentity('Utility1MSP', twoOus.certPem)), 'invalid');
    const noOu = await issueCertificate({ issuer, publicKeyPem, subject: { commonName: 'y', organizationalUnits: ['user'] }, profile: 'ecert' });
    expectMspError(() => msp.deserialize(serializeIdentity('Utility1MSP', noOu.certPem)), 'invalid');
    const expired = await issueCertificate({
      issuer,
      publicKeyPem,
      subject: { commonName: 'old', organizationalUnits: ['client'] },
      profile: 'ecert',
      now: new Date(Date.now() - 3 * 3600_000),
      validityHours: 1,
    });
    expect(new X509Certificate(expired.certPem).validTo).toBeDefined();
    expect(certificateInfo(expired.certPem).notAfter.getTime()).toBeLessThan(Date.now());
    expect(msp.deserialize(serializeIdentity('Utility1MSP', expired.certPem)).role).toBe('client');
  });

  test('a CRL signed by the issuing CA revokes; one from another CA does not; setCrls takes effect at once', async () => {
    const u1 = orgs.get('utility1')!;
    const u2 = orgs.get('utility2')!;
    const msp = mspOf([u1, u2]);
    const ca = FabricCa.open({
      caName: u1.caName,
      signer: { certPem: u1.caCertPem, keyPem: u1.caKeyPem },
      registryDir: caRegistryDir(home, 'utility1'),
      affiliations: defaultAffiliations('utility1'),
    });
    try {
      const admin = ca.getIdentity('admin')!;
      ca.register(admin, { id: 'victim', type: 'client', secret: 'pw', affiliation: '' });
      const { privateKeyPem } = generateEcKeyPair();
      const enrolled = await ca.enrollWithSecret('victim', 'pw', { csrPem: await createCsr(privateKeyPem, 'victim') });
      const bytes = serializeIdentity('Utility1MSP', enrolled.certPem);
      expect(msp.deserialize(bytes).role).toBe('client'); // cached as valid before the CRL arrives
      const res = await ca.revoke(admin, undefined, { id: 'victim', gencrl: true });
      expect(res.RevokedCerts).toEqual([{ Serial: enrolled.serialHex, AKI: certificateInfo(enrolled.certPem).akiHex }]);
      const crlPem = Buffer.from(res.CRL, 'base64').toString();
      expect(crlPem).toContain('-----BEGIN X509 CRL-----');
      // the utility1 CRL placed into utility2's MSP matches no CA there: no effect
      msp.setCrls('Utility2MSP', [crlPem]);
      expect(msp.deserialize(bytes).role).toBe('client');
      msp.setCrls('Utility1MSP', [crlPem]);
      expectMspError(() => msp.deserialize(bytes), 'revoked');
      // others of the same org are unaffected
      expect(msp.deserialize(serializeIdentity('Utility1MSP', u1.users.operator1!.certPem)).role).toBe('client');
      expect(msp.definitions().find((d) => d.mspId === 'Utility1MSP')!.crlsPem).toEqual([crlPem]);
      msp.setCrls('Utility1MSP', []);
      expect(msp.deserialize(bytes).role).toBe('client');
    } finally {
      ca.close();
    }
  });
});
