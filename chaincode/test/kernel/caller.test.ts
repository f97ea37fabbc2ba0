import { GridLedgerContext } from '../../src/kernel/context';
import { getCaller, participantIdFor, requireMeter, requireOperator, requireRegulator } from '../../src/kernel/caller';
import { EVENTS } from '@gridledger/protocol';
import { emit } from '../../src/kernel/events';
import { FakeClientIdentity, IdentitySpec, identities } from '../support/fakeIdentity';
import { FakeStub, WorldState } from '../support/fakeStub';

function ctxAs(spec: IdentitySpec): GridLedgerContext & { stub: FakeStub } {
  const ctx = new GridLedgerContext() as GridLedgerContext & { stub: FakeStub };
  (ctx as { stub: unknown }).stub = new FakeStub(new WorldState(), { txId: 't', timestamp: 0, creatorMspId: spec.mspId });
  ctx.clientIdentity = new FakeClientIdentity(spec);
  return ctx;
}

describe('caller identity', () => {
  it('reads MSP, role, meterId and zone from the certificate and derives a pseudonymous id', () => {
    const c = getCaller(ctxAs(identities.meter('Org1MSP', 'm-17', 'feeder-a')));
    expect(c).toMatchObject({ mspId: 'Org1MSP', role: 'meter', meterId: 'm-17', zone: 'feeder-a' });
    expect(c.participantId).toMatch(/^p-[0-9a-f]{32}$/);
    expect(c.participantId).not.toContain('m-17');
    expect(c.participantId).toBe(participantIdFor('Org1MSP', c.x509Id));
  });

  it('gives the same subject in another MSP a different pseudonym', () => {
    const a = getCaller(ctxAs(identities.meter('Org1MSP', 'm-1', 'z'))).participantId;
    const b = getCaller(ctxAs(identities.meter('Org2MSP', 'm-1', 'z'))).participantId;
    expect(a).not.toBe(b);
  });

  it('refuses certificates without a usable role or meter attributes (UNAUTHENTICATED)', () => {
    expect(() => getCaller(ctxAs({ mspId: 'Org1MSP', id: 'x' }))).toThrow(/^\[UNAUTHENTICATED:NO_ROLE\] .*no "role"/);
    expect(() => getCaller(ctxAs({ mspId: 'Org1MSP', id: 'x', attrs: { role: 'admin' } }))).toThrow(/^\[UNAUTHENTICATED:UNKNOWN_ROLE\] .*role "admin"/);
    expect(() => getCaller(ctxAs({ mspId: 'Org1MSP', id: 'x', attrs: { role: 'meter', zone: 'z' } }))).toThrow(/meterId/);
    expect(() => getCaller(ctxAs({ mspId: 'Org1MSP', id: 'x', attrs: { role: 'meter', meterId: 'm', zone: 'bad zone' } }))).toThrow(/zone/);
  });

  it('role helpers say which role is needed (FORBIDDEN)', () => {
    const meter = ctxAs(identities.meter('Org1MSP', 'm-1', 'z'));
    expect(() => requireRegulator(meter, 'governance:setParameters')).toThrow(/^\[FORBIDDEN:WRONG_ROLE\] governance:setParameters needs role regulator; caller has role meter/);
    expect(() => requireOperator(ctxAs(identities.operator('Org2MSP')), 'x', 'Org1MSP')).toThrow(/^\[FORBIDDEN:OTHER_UTILITY\] .*own utility/);
    expect(requireOperator(ctxAs(identities.operator('Org1MSP')), 'x', 'Org1MSP').mspId).toBe('Org1MSP');
    expect(requireMeter(meter, 'x').meterId).toBe('m-1');
  });
});

describe('event batching', () => {
  it('sends every event of a transaction in one Fabric event, in order', () => {
    const ctx = ctxAs(identities.regulator());
    emit(ctx, EVENTS.taskOpened, { n: 1 });
    emit(ctx, EVENTS.offerCreated, { z: 2, a: 1 });
    expect(ctx.stub.event?.name).toBe('gridledger');
    expect(Buffer.from(ctx.stub.event!.payload).toString()).toBe('{"events":[{"name":"TaskOpened","payload":{"n":1}},{"name":"OfferCreated","payload":{"a":1,"z":2}}]}');
  });
});
