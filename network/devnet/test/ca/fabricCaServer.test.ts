/**
 * The devnet Fabric CA driven by the REAL fabric-ca-client 2.2.20, and its certificates read by
 * the REAL fabric-shim ClientIdentity — the two consumers that must not notice the difference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNetworkConfig } from '@gridledger/protocol';
import { ensureOrgMaterial, OrgMaterial } from '../../src/identity/orgMaterial';
import { certificateInfo } from '../../src/identity/certificates';
import { signLowS } from '../../src/identity/crypto';
import { MspError, MspRegistry, serializeIdentity } from '../../src/identity/msp';
import { RunningCaServer, startCaServer } from '../../src/ca/fabricCaServer';

/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */
const FabricCAServices = require('fabric-ca-client');
const { User } = require('fabric-common');
const { ClientIdentity } = require('fabric-shim');

const CONFIG = join(__dirname, '../../../../test-network-config/network.yaml');

let home: string;
let org: OrgMaterial;
let server: RunningCaServer;

function client(caName = org.caName): any {
  return new FabricCAServices(`https://localhost:${server.port}`, { trustedRoots: [org.tlsCaCertPem], verify: true }, caName);
}

function userOf(name: string, enrollment: { key: any; certificate: string }): any {
  return User.createUser(name, '', org.mspId, enrollment.certificate, enrollment.key.toBytes());
}

/** A ClientIdentity over a fake stub, as the chaincode would build it from the proposal creator. */
function chaincodeIdentity(mspid: string, certPem: string): any {
  const stub = {
    getChannelID: () => 'energy',
    getTxID: () => 'tx1',
    getCreator: () => ({ mspid, idBytes: Buffer.from(certPem) }),
  };
  return new ClientIdentity(stub);
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Raw HTTPS POST, for what the client library does not expose (status codes, bad requests). */
function post(
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path, method: 'POST', ca: org.tlsCaCertPem, servername: 'localhost', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()), headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'gl-ca-'));
  const orgs = await ensureOrgMaterial(loadNetworkConfig(CONFIG), home);
  org = orgs.get('utility1')!;
  server = await startCaServer({ org, caName: org.caName, port: 0, home });
});

afterAll(async () => {
  await server?.close();
  rmSync(home, { recursive: true, force: true });
});

/** Fabric CA token (P§7.3) computed independently of fabric-ca-client. */
function token(certPem: string, keyPem: string, method: string, uri: string, body: string): string {
  const b64cert = Buffer.from(certPem).toString('base64');
  const msg = `${method}.${Buffer.from(uri).toString('base64')}.${Buffer.from(body).toString('base64')}.${b64cert}`;
  return `${b64cert}.${signLowS(keyPem, Buffer.from(msg)).toString('base64')}`;
}

describe('Fabric CA server with the real fabric-ca-client', () => {
  let admin: any;
  let adminCertPem: string;
  let adminKeyPem: string;

  test('enrolls the bootstrap admin over TLS and returns the CA chain', async () => {
    const e = await client().enroll({ enrollmentID: 'admin', enrollmentSecret: 'adminpw' });
    expect(e.rootCertificate).toBe(org.caCertPem);
    const info = certificateInfo(e.certificate);
    expect(info.commonName).toBe('admin');
    expect(info.organizationalUnits).toEqual(['client']);
    admin = userOf('admin', e);
    adminCertPem = e.certificate;
    adminKeyPem = e.key.toBytes();
  });

  test('HTTP level: register answers 201 + Location, a duplicate 409 code 74 (case-insensitive JSON fields)', async () => {
    const body = JSON.stringify({ ID: 'raw-1', Type: 'client', Affiliation: '', Max_Enrollments: 2 });
    const first = await post('/api/v1/register', body, { Authorization: token(adminCertPem, adminKeyPem, 'POST', '/api/v1/register', body) });
    expect(first.status).toBe(201);
    expect(first.headers.location).toBe('/api/v1/identities/raw-1');
    expect(first.json).toEqual({ result: { secret: expect.stringMatching(/^[A-Za-z0-9]{12}$/) }, errors: [], messages: [], success: true });
    const again = await post('/api/v1/register', body, { Authorization: token(adminCertPem, adminKeyPem, 'POST', '/api/v1/register', body) });
    expect(again.status).toBe(409);
    expect(again.json.errors).toEqual([{ code: 74, message: "Identity 'raw-1' is already registered" }]);
    // the token covers the URI: the same token on another endpoint is refused
    const misused = await post('/api/v1/gencrl', body, { Authorization: token(adminCertPem, adminKeyPem, 'POST', '/api/v1/register', body) });
    expect(misused.status).toBe(401);
  });

  test('register + enroll a meter with attr_reqs; the chaincode sees its attributes', async () => {
    const ca = client();
    const secret = await ca.register(
      {
        enrollmentID: 'meter-1',
        role: 'client',
        affiliation: '',
        attrs: [
          { name: 'role', value: 'meter', ecert: true },
          { name: 'meterId', value: 'm-1', ecert: true },
          { name: 'zone', value: 'z-1', ecert: true },
        ],
      },
      admin,
    );
    expect(secret).toMatch(/^[A-Za-z0-9]{12}$/);
    const e = await ca.enroll({
      enrollmentID: 'meter-1',
      enrollmentSecret: secret,
      attr_reqs: [{ name: 'role' }, { name: 'meterId' }, { name: 'zone', optional: true }, { name: 'absent', optional: true }],
    });
    const info = certificateInfo(e.certificate);
    // with attr_reqs exactly the requested ones, no hf.* (P§7.4)
    expect(info.attrs).toEqual({ meterId: 'm-1', role: 'meter', zone: 'z-1' });
    expect(info.organizationalUnits[0]).toBe('client');

    const cid = chaincodeIdentity(org.mspId, e.certificate);
    expect(cid.getMSPID()).toBe('Utility1MSP');
    expect(cid.getAttributeValue('meterId')).toBe('m-1');
    expect(cid.getAttributeValue('role')).toBe('meter');
    expect(cid.assertAttributeValue('zone', 'z-1')).toBe(true);
    expect(cid.getAttributeValue('hf.EnrollmentID')).toBeNull();
    expect(cid.getID()).toBe('x509::/OU=client/CN=meter-1::/C=US/ST=North Carolina/L=Durham/O=utility1.gridledger.local/CN=ca.utility1.gridledger.local');

    // and the channel MSP accepts it as a client of Utility1MSP
    const msp = new MspRegistry([{ mspId: org.mspId, rootCertsPem: [org.caCertPem], crlsPem: [] }]);
    expect(msp.deserialize(serializeIdentity(org.mspId, e.certificate)).role).toBe('client');

    // register() defaults maxEnrollments to 1 in the client: a second enroll is refused (masked 401)
    const again = await rejection(ca.enroll({ enrollmentID: 'meter-1', enrollmentSecret: secret }));
    expect(again.errors).toEqual([{ code: 20, message: 'Authentication failure' }]);
  });

  test('without attr_reqs every ecert attribute incl. hf.EnrollmentID/Type/Affiliation is included', async () => {
    const ca = client();
    const secret = await ca.register(
      { enrollmentID: 'meter-2', enrollmentSecret: 'm2pw', role: 'client', affiliation: 'utility1.department1', maxEnrollments: -1,
        attrs: [{ name: 'meterId', value: 'm-2', ecert: true }, { name: 'hidden', value: 'x' }] },
      admin,
    );
    expect(secret).toBe('m2pw');
    const e = await ca.enroll({ enrollmentID: 'meter-2', enrollmentSecret: 'm2pw' });
    const info = certificateInfo(e.certificate);
    expect(info.attrs).toEqual({
      'hf.Affiliation': 'utility1.department1',
      'hf.EnrollmentID': 'meter-2',
      'hf.Type': 'client',
      meterId: 'm-2',
    });
    expect(info.organizationalUnits).toEqual(['client', 'utility1', 'department1']);
    const missing = await rejection(ca.enroll({ enrollmentID: 'meter-2', enrollmentSecret: 'm2pw', attr_reqs: [{ name: 'nope' }] }));
    expect(missing.errors[0].code).toBe(0);
    expect(missing.errors[0].message).toBe(
      'Failed to find requested attributes: The following required attributes are missing: [nope]',
    );
  });

  test('wrong secret ⇒ 401 code 20; duplicate register ⇒ 409 code 74; wrong CA name ⇒ 404 code 19', async () => {
    const bad = await post('/api/v1/enroll', JSON.stringify({ certificate_request: 'x' }), {
      Authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}`,
    });
    expect(bad.status).toBe(401);
    expect(bad.json).toEqual({ success: false, result: null, errors: [{ code: 20, message: 'Authentication failure' }], messages: [] });
    const viaClient = await rejection(client().enroll({ enrollmentID: 'admin', enrollmentSecret: 'nope' }));
    expect(viaClient.errors).toEqual([{ code: 20, message: 'Authentication failure' }]);

    // org material identities do not have guessable test-network style secrets
    const guessed = await rejection(client().enroll({ enrollmentID: 'operator1', enrollmentSecret: 'operator1pw' }));
    expect(guessed.errors).toEqual([{ code: 20, message: 'Authentication failure' }]);

    const dup = await rejection(client().register({ enrollmentID: 'meter-1', role: 'client', affiliation: '' }, admin));
    expect(dup.errors).toEqual([{ code: 74, message: "Identity 'meter-1' is already registered" }]);
    expect(String(dup.message)).toContain('fabric-ca request register failed');

    const other = await rejection(client('ca-elsewhere').enroll({ enrollmentID: 'admin', enrollmentSecret: 'adminpw' }));
    expect(other.errors[0].code).toBe(19);
  });

  test('cainfo envelope; forged or missing token ⇒ 401', async () => {
    const info = await post('/api/v1/cainfo', '{}');
    expect(info.status).toBe(200);
    expect(info.json.success).toBe(true);
    expect(info.json.result.CAName).toBe(org.caName);
    expect(Buffer.from(info.json.result.CAChain, 'base64').toString()).toBe(org.caCertPem);
    expect(info.json.errors).toEqual([]);
    // a token whose signature does not match the body is refused
    const token = admin.getSigningIdentity();
    const cert = Buffer.from(token._certificate).toString('base64');
    const forged = await post('/api/v1/register', JSON.stringify({ id: 'x', caname: org.caName }), {
      Authorization: `${cert}.${Buffer.from('MEUCIQ').toString('base64')}`,
    });
    expect(forged.status).toBe(401);
    expect(forged.json.errors).toEqual([{ code: 20, message: 'Authentication failure' }]);
    const noAuth = await post('/api/v1/register', JSON.stringify({ id: 'x' }));
    expect(noAuth.status).toBe(401);
  });

  test('registration permissions: a registrar without hf.Registrar.Attributes cannot register attributes (403/71)', async () => {
    const ca = client();
    await ca.register(
      { enrollmentID: 'sub-registrar', enrollmentSecret: 'subpw', role: 'client', affiliation: '', maxEnrollments: -1,
        attrs: [{ name: 'hf.Registrar.Roles', value: 'client' }] },
      admin,
    );
    const sub = userOf('sub-registrar', await ca.enroll({ enrollmentID: 'sub-registrar', enrollmentSecret: 'subpw' }));
    // allowed: a client without attributes
    await expect(ca.register({ enrollmentID: 'plain', role: 'client', affiliation: '' }, sub)).resolves.toMatch(/.+/);
    const attrDenied = await rejection(
      ca.register({ enrollmentID: 'm9', role: 'client', affiliation: '', attrs: [{ name: 'role', value: 'meter' }] }, sub),
    );
    expect(attrDenied.errors).toEqual([{ code: 71, message: 'Authorization failure' }]);
    const typeDenied = await rejection(ca.register({ enrollmentID: 'p9', role: 'peer', affiliation: '' }, sub));
    expect(typeDenied.errors).toEqual([{ code: 71, message: 'Authorization failure' }]);
  });

  test('reenroll issues a new certificate for the caller, keeping requested attributes', async () => {
    const ca = client();
    await ca.register(
      { enrollmentID: 'meter-3', enrollmentSecret: 'm3pw', role: 'client', affiliation: '', attrs: [{ name: 'meterId', value: 'm-3', ecert: true }] },
      admin,
    );
    const e = await ca.enroll({ enrollmentID: 'meter-3', enrollmentSecret: 'm3pw' });
    const user = userOf('meter-3', e);
    const r = await ca.reenroll(user, [{ name: 'meterId' }]);
    expect(r.certificate).not.toBe(e.certificate);
    const info = certificateInfo(r.certificate);
    expect(info.commonName).toBe('meter-3');
    expect(info.attrs).toEqual({ meterId: 'm-3' });
  });

  test('revoke with gencrl: the CRL makes the MSP reject the certificate as revoked; revoked ids cannot act', async () => {
    const ca = client();
    const secret = await ca.register(
      { enrollmentID: 'meter-4', role: 'client', affiliation: '', maxEnrollments: -1, attrs: [{ name: 'meterId', value: 'm-4', ecert: true }] },
      admin,
    );
    const e = await ca.enroll({ enrollmentID: 'meter-4', enrollmentSecret: secret });
    const meter = userOf('meter-4', e);
    const msp = new MspRegistry([{ mspId: org.mspId, rootCertsPem: [org.caCertPem], crlsPem: [] }]);
    const bytes = serializeIdentity(org.mspId, e.certificate);
    expect(msp.deserialize(bytes).role).toBe('client');

    const res = await ca.revoke({ enrollmentID: 'meter-4', reason: 'keycompromise', gencrl: true }, admin);
    expect(res.success).toBe(true);
    const info = certificateInfo(e.certificate);
    expect(res.result.RevokedCerts).toEqual([{ Serial: info.serialHex, AKI: info.akiHex }]);
    const crlPem = Buffer.from(res.result.CRL, 'base64').toString();
    msp.setCrls(org.mspId, [crlPem]);
    let caught: unknown;
    try {
      msp.deserialize(bytes);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MspError);
    expect((caught as MspError).kind).toBe('revoked');

    // the revoked identity can neither enroll again nor use its token
    const reEnroll = await rejection(ca.enroll({ enrollmentID: 'meter-4', enrollmentSecret: secret }));
    expect(reEnroll.errors).toEqual([{ code: 20, message: 'Authentication failure' }]);
    const reReenroll = await rejection(ca.reenroll(meter));
    expect(reReenroll.errors).toEqual([{ code: 20, message: 'Authentication failure' }]);
    // revoking again ⇒ 404 code 66 (by serial+aki)
    const twice = await rejection(ca.revoke({ aki: info.akiHex, serial: info.serialHex }, admin));
    expect(twice.errors[0].code).toBe(66);

    // gencrl endpoint returns a CRL with the same serial
    const gen: string = await ca.generateCRL({}, admin);
    const crl2 = Buffer.from(gen, 'base64').toString();
    expect(crl2).toContain('-----BEGIN X509 CRL-----');
    const msp2 = new MspRegistry([{ mspId: org.mspId, rootCertsPem: [org.caCertPem], crlsPem: [crl2] }]);
    expect(() => msp2.deserialize(bytes)).toThrow(/revoked/);
  });

  test('identity modify (PUT /api/v1/identities/{id}) as Fabric CA: a new secret keeps the enrolment count; raising max_enrollments lets a used-up identity enrol once more', async () => {
    const ca = client();
    const ids = ca.newIdentityService();
    await ca.register(
      { enrollmentID: 'lost-1', enrollmentSecret: 'first', role: 'client', affiliation: '', maxEnrollments: 1, attrs: [{ name: 'meterId', value: 'l-1', ecert: true }] },
      admin,
    );
    await ca.enroll({ enrollmentID: 'lost-1', enrollmentSecret: 'first' }); // its answer "lost": the one enrolment is used
    expect((await rejection(ca.enroll({ enrollmentID: 'lost-1', enrollmentSecret: 'first' }))).errors).toEqual([{ code: 20, message: 'Authentication failure' }]);

    // the registrar reads the identity (no enrolment count, no secret in the answer)
    const got = await ids.getOne('lost-1', admin);
    expect(got.result).toEqual({ id: 'lost-1', type: 'client', affiliation: '', attrs: expect.arrayContaining([{ name: 'meterId', value: 'l-1', ecert: true }]), max_enrollments: 1, caname: org.caName });

    // a new secret alone: the count is kept (CA getModifyReq leaves `state`), still refused
    const secretOnly = await ids.update('lost-1', { enrollmentSecret: 'second' }, admin);
    expect(secretOnly.result).toMatchObject({ id: 'lost-1', secret: 'second', max_enrollments: 1 });
    expect((await rejection(ca.enroll({ enrollmentID: 'lost-1', enrollmentSecret: 'second' }))).errors[0].code).toBe(20);

    // one more enrolment: exactly one, and only with the new secret
    await ids.update('lost-1', { enrollmentSecret: 'third', maxEnrollments: 2 }, admin);
    expect((await rejection(ca.enroll({ enrollmentID: 'lost-1', enrollmentSecret: 'second' }))).errors[0].code).toBe(20);
    const e = await ca.enroll({ enrollmentID: 'lost-1', enrollmentSecret: 'third', attr_reqs: [{ name: 'meterId' }] });
    expect(certificateInfo(e.certificate)).toMatchObject({ commonName: 'lost-1', attrs: { meterId: 'l-1' } });
    expect((await rejection(ca.enroll({ enrollmentID: 'lost-1', enrollmentSecret: 'third' }))).errors[0].code).toBe(20);

    // attributes: update by name, an empty value deletes (CA getNewAttributes); not its fixed hf.* ones
    const attrs = await ids.update('lost-1', { attrs: [{ name: 'meterId', value: 'l-2', ecert: true }, { name: 'extra', value: 'x' }] }, admin);
    expect(attrs.result.attrs).toEqual(expect.arrayContaining([{ name: 'meterId', value: 'l-2', ecert: true }, { name: 'extra', value: 'x', ecert: false }]));
    const removed = await ids.update('lost-1', { attrs: [{ name: 'extra', value: '' }] }, admin);
    expect(removed.result.attrs.map((a: { name: string }) => a.name)).not.toContain('extra');
    expect((await rejection(ids.update('lost-1', { attrs: [{ name: 'hf.Type', value: 'peer' }] }, admin))).errors).toEqual([{ code: 71, message: 'Authorization failure' }]);

    // affiliation must exist (400 code 58); unknown identity 404 code 63
    expect((await rejection(ids.update('lost-1', { affiliation: 'nowhere.dept' }, admin))).errors[0].code).toBe(58);
    expect((await rejection(ids.update('nobody', { enrollmentSecret: 'x' }, admin))).errors[0].code).toBe(63);
    expect((await rejection(ids.getOne('nobody', admin))).errors[0].code).toBe(63);
  });

  test('identity modify needs a registrar that may manage the identity: type and affiliation (403/71, masked)', async () => {
    const ca = client();
    const ids = ca.newIdentityService();
    await ca.register({ enrollmentID: 'dept-reg', enrollmentSecret: 'dpw', role: 'client', affiliation: 'utility1.department1', maxEnrollments: -1, attrs: [{ name: 'hf.Registrar.Roles', value: 'client' }] }, admin);
    const deptRegistrar = userOf('dept-reg', await ca.enroll({ enrollmentID: 'dept-reg', enrollmentSecret: 'dpw' }));
    await ca.register({ enrollmentID: 'in-dept', enrollmentSecret: 'a', role: 'client', affiliation: 'utility1.department1', maxEnrollments: 1 }, admin);
    await ca.register({ enrollmentID: 'root-client', enrollmentSecret: 'b', role: 'client', affiliation: '', maxEnrollments: 1 }, admin);
    await ca.register({ enrollmentID: 'dept-peer', enrollmentSecret: 'c', role: 'peer', affiliation: 'utility1.department1', maxEnrollments: 1 }, admin);
    const plain = userOf('in-dept', await ca.enroll({ enrollmentID: 'in-dept', enrollmentSecret: 'a' }));

    // within its affiliation and types: allowed
    await expect(ids.update('in-dept', { enrollmentSecret: 'a2', maxEnrollments: 2 }, deptRegistrar)).resolves.toMatchObject({ success: true });
    // above its affiliation, another type, or not a registrar at all: refused, masked
    for (const [id, who] of [['root-client', deptRegistrar], ['dept-peer', deptRegistrar], ['in-dept', plain]] as const) {
      expect((await rejection(ids.update(id, { enrollmentSecret: 'z', maxEnrollments: 5 }, who))).errors).toEqual([{ code: 71, message: 'Authorization failure' }]);
    }
    expect((await rejection(ids.getOne('root-client', deptRegistrar))).errors).toEqual([{ code: 71, message: 'Authorization failure' }]);
    // a refused modify changed nothing: root-client still has its one enrolment with its own secret
    await expect(ca.enroll({ enrollmentID: 'root-client', enrollmentSecret: 'b' })).resolves.toMatchObject({ certificate: expect.any(String) });
  });

  test('the registry survives a restart', async () => {
    await server.close();
    server = await startCaServer({ org, caName: org.caName, port: 0, home });
    // meter-2 (registered before the restart, unlimited enrolments) can still enroll
    const e = await client().enroll({ enrollmentID: 'meter-2', enrollmentSecret: 'm2pw' });
    expect(certificateInfo(e.certificate).commonName).toBe('meter-2');
    // and the old admin cert is still known for token auth
    await expect(client().register({ enrollmentID: 'after-restart', role: 'client', affiliation: '' }, admin)).resolves.toMatch(/.+/);
    const dup = await rejection(client().register({ enrollmentID: 'meter-1', role: 'client', affiliation: '' }, admin));
    expect(dup.errors[0].code).toBe(74);
  });
});
