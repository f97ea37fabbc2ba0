/**
 * A revoked meter is refused: by the gateway as soon as the operator revokes it, and — once the CRL the
 * revocation returned is in the channel MSP (control.applyCrl) — by the peers too, for a client that
 * bypasses the gateway with a certificate listed in that CRL.
 */
import * as x509 from '@peculiar/x509';
import { EndorseError, GatewayError } from '@hyperledger/fabric-gateway';
import { applyCrl, CaHelper, connectOrg, loadNetwork, org, rejectionOf, sleep, utf8 } from '../support';
import { RUN, enrolMeter, expectStatus, loadGateways, readingSeries, RestClient } from './support';

const gateways = loadGateways();
const gw = gateways[1] ?? gateways[0]!;

const serialOf = (pem: string) => new x509.X509Certificate(pem).serialNumber.toLowerCase().replace(/^0+/, '');

describe('revocation', () => {
  test('the gateway refuses a revoked meter at once; after the CRL is applied the peers refuse its certificate', async () => {
    const net = loadNetwork();
    const o = org(net, gw.org);
    const operator = new RestClient(gw.url, gw.apiKeys.operator);
    const meter = await enrolMeter(gw, `revoke-${RUN}`, 'feeder-r');
    const bystander = await enrolMeter(gw, `revoke-bystander-${RUN}`, 'feeder-r');
    const series = readingSeries(2);

    // the meter works before revocation
    const ok = await meter.client.post(`/api/v1/meters/${meter.meterId}/readings?sync=true`, series[0]);
    expectStatus(ok, 200);

    // a second certificate of the same meter, held by a client outside the gateway; the utility revokes it at its CA
    const ca = new CaHelper(o);
    const direct = await ca.registerAndEnroll(`${meter.meterId}-direct`, { role: 'meter', meterId: meter.meterId, zone: 'feeder-r' });
    const conn = connectOrg(o, direct);
    try {
      const contract = conn.gateway.getNetwork(net.channel).getContract('gridledger');
      expect(JSON.parse(utf8(await contract.evaluateTransaction('participants:whoAmI')))).toMatchObject({ meterId: meter.meterId });
      await ca.revokeWithCrl(direct.enrollmentId);

      // the operator revokes the meter through the gateway: CA revoke + gencrl; the CRL lists every revoked certificate of the CA
      const revoked = await operator.post(`/api/v1/meters/${meter.meterId}/revocation`, { reason: 'keycompromise' }, { idempotencyKey: `revoke-${meter.meterId}` });
      expectStatus(revoked, 200);
      expect(revoked.body).toMatchObject({ meterId: meter.meterId, status: 'REVOKED', revocationReason: 'keycompromise' });
      expect(revoked.body.crlPem).toMatch(/-----BEGIN X509 CRL-----/);
      const crl = new x509.X509Crl(revoked.body.crlPem);
      const listed = crl.entries.map((e) => e.serialNumber.toLowerCase().replace(/^0+/, ''));
      expect(listed).toEqual(expect.arrayContaining([serialOf(meter.certificatePem), serialOf(direct.certPem)]));

      // the gateway refuses the meter from now on
      const after = await meter.client.post(`/api/v1/meters/${meter.meterId}/readings`, series[1]);
      expectStatus(after, 401, 'unauthenticated');
      const state = await operator.get(`/api/v1/meters/${meter.meterId}`);
      expectStatus(state, 200);
      expect(state.body.status).toBe('REVOKED');
      expect(state.body.revokedAt).not.toBeNull();
      // re-enrolling a revoked meter id is refused
      const reenrol = await operator.post('/api/v1/meters', { meterId: meter.meterId, zone: 'feeder-r' });
      expectStatus(reenrol, 409, 'meter-revoked');

      // before the CRL is in the channel MSP, the peers still accept the direct certificate (CA revocation alone is not enough)
      expect(JSON.parse(utf8(await contract.evaluateTransaction('participants:whoAmI'))).meterId).toBe(meter.meterId);

      await applyCrl(net, o.mspId, revoked.body.crlPem);
      let err: unknown;
      for (let attempt = 0; attempt < 60 && !err; attempt++) {
        err = await contract.evaluateTransaction('participants:whoAmI').then(() => undefined, (e: unknown) => e);
        if (!err) await sleep(500);
      }
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).message).toMatch(/access denied/);
      const endorse = await rejectionOf(
        contract.submit('meters:postReading', {
          arguments: [''],
          transientData: { reading: JSON.stringify({ ...series[1]!, meterId: meter.meterId }) },
        }),
      );
      expect(endorse).toBeInstanceOf(EndorseError);
      expect((endorse as EndorseError).details.map((d) => d.message)).toContainEqual(expect.stringMatching(/access denied/));
    } finally {
      conn.close();
    }

    // only the revoked certificates are refused: another meter of the same utility still commits
    const other = await bystander.client.post(`/api/v1/meters/${bystander.meterId}/readings?sync=true`, series[0]);
    expectStatus(other, 200);
    expect(other.body.result.status).toBe('RECORDED');
  });
});
