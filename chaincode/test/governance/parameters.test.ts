import { DEFAULT_PARAMETERS } from '../../src/governance/domain/parameters';
import { identities } from '../support/fakeIdentity';
import { expectCode, TestLedger } from '../support/ledger';

const regulator = identities.regulator();
const set = (ledger: TestLedger, p: object, who = regulator) =>
  ledger.submit<Record<string, number | string>>(who, 'governance:setParameters', [JSON.stringify(p)]);

describe('governance parameters', () => {
  it('returns the defaults (version 0) before the regulator sets anything', async () => {
    const ledger = new TestLedger();
    const p = await ledger.evaluate<Record<string, number>>(identities.meter('Org1MSP', 'm', 'z'), 'governance:getParameters');
    expect(p).toMatchObject({ ...DEFAULT_PARAMETERS, version: 0 });
  });

  it('lets the regulator change a subset, bumps the version and emits ParametersChanged', async () => {
    const ledger = new TestLedger();
    const r = await set(ledger, { f: 2, taskDeadlineSeconds: 7200 });
    expect(r.result).toMatchObject({ f: 2, taskDeadlineSeconds: 7200, version: 1, slotSeconds: DEFAULT_PARAMETERS.slotSeconds, updatedBy: 'RegulatorMSP' });
    expect(r.events).toEqual([{ name: 'ParametersChanged', payload: { changed: ['f', 'taskDeadlineSeconds'], version: 1 } }]);
    const again = await ledger.evaluate<Record<string, number>>(regulator, 'governance:getParameters');
    expect(again.f).toBe(2);
  });

  it('refuses non-regulators', async () => {
    const ledger = new TestLedger();
    await expectCode(set(ledger, { f: 2 }, identities.operator('Org1MSP')), 'FORBIDDEN', /needs role regulator/);
  });

  it('validates each field and the invariants between fields, writing nothing on error', async () => {
    const ledger = new TestLedger();
    await expectCode(set(ledger, { f: 0 }), 'INVALID_ARGUMENT:OUT_OF_RANGE', /paramsJson\.f must be between 1 and 10 \(got 0\)/);
    await expectCode(set(ledger, { f: 1.5 }), 'INVALID_ARGUMENT:NOT_INTEGER', /paramsJson\.f must be an integer/);
    await expectCode(set(ledger, { quorum: 3 }), 'INVALID_ARGUMENT:UNKNOWN_FIELD', /unknown field "quorum" \(allowed: f, slotSeconds/);
    await expectCode(set(ledger, { qScoreMin: 10, qScoreMax: 5 }), 'INVALID_ARGUMENT', /qScoreMin .* below qScoreMax/);
    await expectCode(set(ledger, { slotSeconds: 60 }), 'INVALID_ARGUMENT', /2 × clockToleranceSeconds/);
    await expectCode(set(ledger, { taskDeadlineSeconds: 600 }), 'INVALID_ARGUMENT', /every member can lead once/);
    await expectCode(set(ledger, { genesisAt: ledger.now + 1 }), 'INVALID_ARGUMENT', /future/);
    await expectCode(set(ledger, {}), 'INVALID_ARGUMENT', /at least one/);
    await expectCode(ledger.submit(regulator, 'governance:setParameters', ['{']), 'INVALID_ARGUMENT', /paramsJson is not valid JSON/);
    expect(ledger.world.state.size).toBe(0);
  });
});
