/**
 * Conformance: identities. A client enrolled at the org's Fabric CA (through fabric-ca-client) is
 * accepted with its certificate attributes; a proposal signed by an identity from a CA the channel
 * does not know, or by an identity revoked at the CA whose CRL was put into the channel MSP
 * (control.applyCrl), is refused by the gateway (P§4.3, P§6.2: "access denied").
 */
import { EndorseError, GatewayError, StatusCode } from '@hyperledger/fabric-gateway';
import { applyCrl, CaHelper, connectOrg, newUnknownCaIdentity, rejectionOf, sleep, utf8, type Connection, type OrgDescriptor } from '../support';
import { CHAINCODE, openFixture, type Fixture } from './fixture';

let f: Fixture;
let org1: OrgDescriptor;
const opened: Connection[] = [];

beforeAll(() => {
  f = openFixture();
  org1 = f.orgs[0]!;
});

afterAll(() => {
  for (const c of opened) c.close();
  f.close();
});

function contractFor(c: Connection) {
  opened.push(c);
  return c.gateway.getNetwork(f.net.channel).getContract(CHAINCODE);
}

/** P§6.2: an invalid/revoked/unknown-CA creator is refused at proposal validation. */
function expectAccessDeniedOnEvaluate(err: unknown): void {
  expect(err).toBeInstanceOf(GatewayError);
  const e = err as GatewayError;
  expect(e.code).toBe(9); // FAILED_PRECONDITION
  expect(e.message).toMatch(/access denied/);
}

function expectAccessDeniedOnEndorse(err: unknown): void {
  expect(err).toBeInstanceOf(EndorseError);
  const e = err as EndorseError;
  expect(e.code).toBe(10); // ABORTED
  expect(e.details.map((d) => d.message)).toContainEqual(expect.stringMatching(/access denied/));
}

describe('identities', () => {
  it('accepts a client registered and enrolled at the org CA, with its role attribute', async () => {
    const ca = new CaHelper(org1);
    const meter = await ca.registerAndEnroll(`${f.run}-meter`, { role: 'meter' });
    const contract = contractFor(connectOrg(org1, meter));
    const me = JSON.parse(utf8(await contract.evaluateTransaction('whoAmI'))) as { mspId: string; role: string | null; id: string };
    expect(me.mspId).toBe(org1.mspId);
    expect(me.role).toBe('meter');
    expect(me.id).toContain(`CN=${f.run}-meter`);
    const submitted = await contract.submitAsync('put', { arguments: [`${f.run}:by-meter`, 'ok'] });
    expect((await submitted.getStatus()).code).toBe(StatusCode.VALID);
  });

  it('refuses a proposal signed by an identity from an unknown CA', async () => {
    const intruder = await newUnknownCaIdentity(org1.mspId);
    const contract = contractFor(connectOrg(org1, intruder));
    expectAccessDeniedOnEvaluate(await rejectionOf(contract.evaluateTransaction('whoAmI')));
    expectAccessDeniedOnEndorse(await rejectionOf(contract.submitTransaction('put', `${f.run}:intruder`, 'x')));
    await expect(f.evaluate(org1, 'get', `${f.run}:intruder`)).resolves.toBe('');
  });

  it('refuses a proposal signed by an identity revoked at the CA once its CRL is in the channel MSP', async () => {
    const ca = new CaHelper(org1);
    const doomed = await ca.registerAndEnroll(`${f.run}-revoked`, { role: 'meter' });
    const bystander = await ca.registerAndEnroll(`${f.run}-bystander`, { role: 'meter' });
    const doomedContract = contractFor(connectOrg(org1, doomed));
    // Control: the identity works before revocation.
    expect(JSON.parse(utf8(await doomedContract.evaluateTransaction('whoAmI'))).role).toBe('meter');

    const crlPem = await ca.revokeWithCrl(doomed.enrollmentId);
    expect(crlPem).toMatch(/-----BEGIN X509 CRL-----/);
    await applyCrl(f.net, org1.mspId, crlPem);

    // A channel config update may take a block to apply: wait (bounded) until the MSP refuses.
    let err: unknown;
    for (let attempt = 0; attempt < 60; attempt++) {
      err = await doomedContract.evaluateTransaction('whoAmI').then(() => undefined, (e: unknown) => e);
      if (err) break;
      await sleep(500);
    }
    expectAccessDeniedOnEvaluate(err);
    expectAccessDeniedOnEndorse(await rejectionOf(doomedContract.submitTransaction('put', `${f.run}:revoked`, 'x')));
    await expect(f.evaluate(org1, 'get', `${f.run}:revoked`)).resolves.toBe('');

    // Only the revoked certificate is refused: another identity of the same CA still transacts.
    const bystanderContract = contractFor(connectOrg(org1, bystander));
    await expect(bystanderContract.submitTransaction('put', `${f.run}:bystander`, 'ok').then(utf8)).resolves.toBe('ok');
  });
});
