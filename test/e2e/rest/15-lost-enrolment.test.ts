/**
 * Nothing acknowledged is lost, at enrolment (issue 16): a meter enrolment whose CA answer never reached
 * the gateway can be retried. The gateway seals the meter's registration secret in its wallet before it
 * asks the CA; the test holds the org's CA (SIGSTOP of the process that serves it, network.json
 * `control.caPidFiles`) while an operator enrols a meter, sees the wallet's REGISTERED row, SIGKILLs the
 * gateway, lets the CA go on, and — as the CA's registrar — leaves the CA exactly as a lost answer does:
 * the identity registered with one enrolment, and that enrolment used by a certificate the gateway never
 * got. After the restart the same POST /api/v1/meters answers 201: the gateway, as the registrar, gave the
 * identity a new secret and one more enrolment (PUT /api/v1/identities/{id}) and enrolled again; the lost
 * certificate is not the one it holds, and the meter's readings commit with the new one. Before this
 * change the retry was refused (502 ca-error, "Authentication failure") and the meter was stuck.
 * Tier-agnostic: everything comes from network.json and gateways.json.
 */
import { readFileSync } from 'node:fs';
import { RUN, expectStatus, eventually, killGateway, loadGateways, readingSeries, restartGateways, restartGatewaysIfDown, RestClient, waitReceipt } from './support';
import { CaHelper, isAlive, loadNetwork, org } from '../support';

const gateways = loadGateways();
const victim = gateways[gateways.length - 1]!;
const net = loadNetwork();

function caPid(orgName: string): number {
  const file = net.control.caPidFiles?.[orgName];
  if (!file) throw new Error(`network.json has no control.caPidFiles entry for ${orgName}`);
  const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`CA pid file ${file} holds no pid`);
  return pid;
}

describe('a meter enrolment whose CA answer was lost', () => {
  let held: number | undefined;
  afterAll(async () => {
    // leave the network as we found it even if an assertion failed mid-way
    if (held !== undefined && isAlive(held)) process.kill(held, 'SIGCONT');
    await restartGatewaysIfDown(victim.org);
  });

  test('is retried by POSTing it again: the gateway re-enrols the identity at the CA and never uses the lost certificate', async () => {
    const meterId = `lost-${RUN}`;
    const operator = new RestClient(victim.url, victim.apiKeys.operator);
    const body = { meterId, zone: 'feeder-lost' };

    // 1. the CA holds every answer; the enrolment reaches the wallet (REGISTERED, secret sealed) and waits
    held = caPid(victim.org);
    process.kill(held, 'SIGSTOP');
    const first = operator.post('/api/v1/meters', body, { idempotencyKey: `enrol-${meterId}` }).catch((e: unknown) => e);
    await eventually('the wallet row of the enrolment in flight', async () => {
      const r = await operator.get(`/api/v1/meters/${meterId}`);
      return r.status === 200 && r.body.status === 'REGISTERED' ? r : undefined;
    });
    // 2. the gateway dies before any CA answer; then the CA goes on
    await killGateway(victim.org);
    await first;
    process.kill(held, 'SIGCONT');
    held = undefined;

    // 3. the CA as a lost answer leaves it: registered (max 1 enrolment) and that enrolment used by a
    //    certificate the gateway never got. (Whether the held registration reached the CA depends on a
    //    pooled connection; either way the registrar makes the state the same.)
    const ca = new CaHelper(org(net, victim.org));
    const registrar = await ca.enrollRegistrar();
    const meterAttrs = [
      { name: 'role', value: 'meter', ecert: true },
      { name: 'meterId', value: meterId, ecert: true },
      { name: 'zone', value: body.zone, ecert: true },
    ];
    try {
      await ca.ca.register({ enrollmentID: meterId, enrollmentSecret: `lost-${RUN}`, role: 'client', affiliation: '', maxEnrollments: 1, attrs: meterAttrs }, registrar);
    } catch (e) {
      if (!(e as { errors?: Array<{ code: number }> }).errors?.some((x) => x.code === 74)) throw e;
      await ca.ca.newIdentityService().update(meterId, { enrollmentID: meterId, affiliation: '', enrollmentSecret: `lost-${RUN}` }, registrar);
    }
    const lost = await ca.ca.enroll({ enrollmentID: meterId, enrollmentSecret: `lost-${RUN}` });

    // 4. the restarted gateway enrols the meter on the same request
    await restartGateways();
    const again = await operator.post('/api/v1/meters', body, { idempotencyKey: `enrol-${meterId}` });
    expectStatus(again, 201);
    expect(again.body).toMatchObject({ meterId, status: 'ACTIVE', ledgerTxId: expect.any(String) });
    expect(again.body.certificatePem).not.toBe(lost.certificate);
    const metrics = await operator.get('/metrics');
    expect(metrics.text).toMatch(/gateway_meter_enrolments_again_total\{outcome="reset"\} [1-9]/);

    // 5. and the key it stored is the certificate's: the meter's reading commits
    const meter = new RestClient(victim.url, again.body.apiKey as string);
    const [reading] = readingSeries(1);
    const posted = await meter.post(`/api/v1/meters/${meterId}/readings`, reading, { idempotencyKey: `${meterId}-${reading!.intervalStart}` });
    expectStatus(posted, 202);
    expect(await waitReceipt(meter, posted.body.receiptId as string)).toMatchObject({ state: 'COMMITTED', result: { status: 'RECORDED' } });
  });
});
