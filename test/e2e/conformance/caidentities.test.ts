/**
 * Conformance: the Fabric CA identities API as the REST gateway uses it to recover an enrolment whose
 * answer was lost (gateway/src/identity/ca.ts `allowEnrolmentAgain`; docs/operations.md "Meter
 * enrolment"). Through the unmodified fabric-ca-client against each org's CA from network.json, so the
 * same file holds the devnet's CA to what Fabric CA 1.5 does (lib/serveridentities.go `processPutRequest`
 * and `getModifyReq`; lib/server/user/user.go `Login`):
 * - an identity with max_enrollments 1 that enrolled once is refused (401, code 20, masked);
 * - a new secret alone keeps the count of enrolments made: still refused;
 * - raising max_enrollments by one with a new secret allows exactly one more enrolment, with that secret only;
 * - GET shows max_enrollments but neither the count nor the secret; an unknown id is 404 code 63;
 * - the identity itself, not being a registrar, may not modify it (403, code 71, masked).
 */
import { User } from 'fabric-common';
import { CaHelper, loadNetwork, newRunId, rejectionOf, type OrgDescriptor } from '../support';

/** The Fabric CA errors fabric-ca-client copies onto its Error (P§7.1). */
async function rejection(p: Promise<unknown>): Promise<{ errors: Array<{ code: number; message: string }> }> {
  return (await rejectionOf(p)) as { errors: Array<{ code: number; message: string }> };
}

const net = loadNetwork();
const run = newRunId();
// one utility's CA: every org runs the same CA software, and the gateways use the utilities' CAs
const orgs: OrgDescriptor[] = net.organizations.filter((o) => o.peer).slice(0, 1);

describe.each(orgs.map((o) => [o.name, o] as const))('Fabric CA identities API at %s', (_name, org) => {
  const helper = new CaHelper(org);
  const id = `${run}-lost-${org.name}`;

  it('an identity whose one enrolment was used enrols again only after the registrar raised max_enrollments with a new secret', async () => {
    const registrar = await helper.enrollRegistrar();
    const ca = helper.ca;
    const identities = ca.newIdentityService();
    await ca.register({ enrollmentID: id, enrollmentSecret: 'first-secret', role: 'client', affiliation: '', maxEnrollments: 1, attrs: [{ name: 'meterId', value: id, ecert: true }] }, registrar);
    const lost = await ca.enroll({ enrollmentID: id, enrollmentSecret: 'first-secret' }); // the answer a crashed gateway never stored
    expect((await rejection(ca.enroll({ enrollmentID: id, enrollmentSecret: 'first-secret' }))).errors).toEqual([{ code: 20, message: 'Authentication failure' }]);

    const got = await identities.getOne(id, registrar);
    expect(got.result).toMatchObject({ id, type: 'client', max_enrollments: 1 });
    expect(got.result).not.toHaveProperty('secret');

    const secretOnly = await identities.update(id, { enrollmentID: id, affiliation: '', enrollmentSecret: 'second-secret' }, registrar);
    expect(secretOnly.result).toMatchObject({ id, secret: 'second-secret', max_enrollments: 1 });
    expect((await rejection(ca.enroll({ enrollmentID: id, enrollmentSecret: 'second-secret' }))).errors[0]?.code).toBe(20);

    await identities.update(id, { enrollmentID: id, affiliation: '', enrollmentSecret: 'third-secret', maxEnrollments: 2 }, registrar);
    expect((await rejection(ca.enroll({ enrollmentID: id, enrollmentSecret: 'second-secret' }))).errors[0]?.code).toBe(20);
    const again = await ca.enroll({ enrollmentID: id, enrollmentSecret: 'third-secret' });
    expect(again.certificate).not.toBe(lost.certificate);
    expect((await rejection(ca.enroll({ enrollmentID: id, enrollmentSecret: 'third-secret' }))).errors[0]?.code).toBe(20);

    // not a registrar: the identity may not give itself more enrolments
    const self = User.createUser(id, '', org.mspId, again.certificate, again.key.toBytes());
    expect((await rejection(identities.update(id, { enrollmentID: id, affiliation: '', enrollmentSecret: 'mine', maxEnrollments: 9 }, self))).errors).toEqual([{ code: 71, message: 'Authorization failure' }]);

    // unknown identity
    expect((await rejection(identities.getOne(`${id}-nobody`, registrar))).errors[0]?.code).toBe(63);
  });
});
