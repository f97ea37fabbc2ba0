import { bls12_381 as bls } from '@noble/curves/bls12-381';
import { SecretKey } from '@chainsafe/blst';
import { BEACON_DST, beaconMessage } from '@gridledger/protocol';
import type { Task } from '../../src/governance/ledger/tasks';
import { verifyContribution } from '../../src/governance/domain/entropy';
import { identities } from '../support/fakeIdentity';
import { expectCode, TestLedger } from '../support/ledger';
import { beaconPublicKeyHex, beaconSignatureHex, getTask, join, registerUtilities, regulator, runBeacon, seedMembers } from '../support/community';

async function community(count = 12): Promise<TestLedger> {
  const ledger = new TestLedger();
  await registerUtilities(ledger);
  await seedMembers(ledger, count, ['z1', 'z2', 'z3']);
  return ledger;
}

describe('committee entropy that no party to the task can steer', () => {
  it('a requester grinding tx ids and timestamps gets the same task id, seed, committee and leader offset', async () => {
    const base = await community();
    await base.submit(identities.operator('Org2MSP'), 'participants:enrolMeter', ['new-1', 'z2']);
    const meter = identities.meter('Org2MSP', 'new-1', 'z2');
    const outcomes = new Set<string>();
    for (let k = 0; k < 12; k++) {
      const attempt = base.fork();
      // a different tx id (nonce) and a timestamp anywhere within the clock guard's ±60 s
      const r = await attempt.submit<{ admissionTaskId: string }>(meter, 'participants:requestJoin', ['{}'], {
        txId: `ground-nonce-${k}-${(k * 7919) % 1000}`,
        at: attempt.now - 57 + k * 10,
        peerClock: attempt.now,
      });
      attempt.advance(30);
      const task = await runBeacon(attempt, r.result.admissionTaskId);
      outcomes.add(JSON.stringify({ taskId: task.taskId, seed: task.seedHex, committee: task.committee, offset: task.leaderOffset }));
    }
    expect(outcomes.size).toBe(1);
  });

  it('which utilities contribute changes the committee, so no single utility fixes it alone', async () => {
    const ledger = await community();
    const j = await join(ledger, 'Org2MSP', 'new-1', 'z2');
    const a = await runBeacon(ledger.fork(), j.taskId, ['Org1MSP', 'Org2MSP']);
    const b = await runBeacon(ledger.fork(), j.taskId, ['Org2MSP', 'Org3MSP']);
    expect(a.seedHex).not.toBe(b.seedHex);
    // arrival order does not matter
    const c = await runBeacon(ledger.fork(), j.taskId, ['Org2MSP', 'Org1MSP']);
    expect(c.seedHex).toBe(a.seedHex);
    expect(c.committee).toEqual(a.committee);
  });

  it('TaskOpened announces what the gateways need for their turns: the message, the snapshot\'s utilities and the quorum', async () => {
    const ledger = await community();
    await ledger.submit(identities.operator('Org2MSP'), 'participants:enrolMeter', ['new-1', 'z2']);
    const r = await ledger.submit<{ admissionTaskId: string }>(identities.meter('Org2MSP', 'new-1', 'z2'), 'participants:requestJoin', ['{}']);
    const opened = r.events.find((e) => e.name === 'TaskOpened');
    expect(opened?.payload).toMatchObject({
      taskId: r.result.admissionTaskId,
      round: 0,
      beaconMessage: beaconMessage('gridledger', r.result.admissionTaskId, 0),
      utilities: ['Org1MSP', 'Org2MSP', 'Org3MSP'],
      quorum: 2,
    });
  });

  it('accepts only THE unique BLS signature of the announced message from a utility with a snapshotted key', async () => {
    const ledger = await community();
    const j = await join(ledger, 'Org2MSP', 'new-1', 'z2');
    const op1 = identities.operator('Org1MSP');
    // another message's signature (e.g. ground on a different round or task) is not valid here
    await expectCode(ledger.submit(op1, 'committees:contributeEntropy', [j.taskId, '0', beaconSignatureHex('Org1MSP', j.taskId, 1)]), 'INVALID_ARGUMENT', /not Org1MSP's BLS signature/);
    await expectCode(ledger.submit(op1, 'committees:contributeEntropy', [j.taskId, '0', beaconSignatureHex('Org2MSP', j.taskId, 0)]), 'INVALID_ARGUMENT', /not Org1MSP's BLS signature/);
    await expectCode(ledger.submit(op1, 'committees:contributeEntropy', [j.taskId, '0', 'abcd']), 'INVALID_ARGUMENT', /192 lowercase hex/);
    await expectCode(ledger.submit(op1, 'committees:contributeEntropy', [j.taskId, '1', beaconSignatureHex('Org1MSP', j.taskId, 1)]), 'CONFLICT', /round 0, not 1/);
    const first = await ledger.submit<Task>(op1, 'committees:contributeEntropy', [j.taskId, '0', beaconSignatureHex('Org1MSP', j.taskId, 0)]);
    expect(first.result.status).toBe('AWAITING_ENTROPY');
    expect(first.events[0]).toMatchObject({ name: 'EntropyContributed', payload: { contributions: 1, quorum: 2 } });
    await expectCode(ledger.submit(op1, 'committees:contributeEntropy', [j.taskId, '0', beaconSignatureHex('Org1MSP', j.taskId, 0)]), 'CONFLICT', /already contributed/);
    // a utility that registers its key after the task opened is not part of this task's beacon
    await expectCode(ledger.submit(identities.operator('Org4MSP'), 'committees:contributeEntropy', [j.taskId, '0', beaconSignatureHex('Org4MSP', j.taskId, 0)]), 'FORBIDDEN', /had no beacon key/);
    const m = identities.meter('Org1MSP', 'seed-0', 'z1');
    await expectCode(ledger.submit(m, 'committees:contributeEntropy', [j.taskId, '0', beaconSignatureHex('Org1MSP', j.taskId, 0)]), 'FORBIDDEN', /needs role operator/);
    const done = await ledger.submit<Task>(identities.operator('Org3MSP'), 'committees:contributeEntropy', [j.taskId, '0', beaconSignatureHex('Org3MSP', j.taskId, 0)]);
    expect(done.result.status).toBe('ACTIVE');
    expect(done.events.map((e) => e.name)).toEqual(['EntropyContributed', 'CommitteeDrawn']);
    await expectCode(ledger.submit(identities.operator('Org2MSP'), 'committees:contributeEntropy', [j.taskId, '0', beaconSignatureHex('Org2MSP', j.taskId, 0)]), 'CONFLICT', /already has its beacon/);
  });

  // A fixed key and message and THE signature under BEACON_DST: a different tag (blst's, noble's default
  // `…_NUL_`) or message encoding would change it, and every recorded contribution would stop verifying.
  const KAT = {
    secretKeyHex: '01d0486b187f92a2b7b121ac85402436b7281c3aca64bedd58c15a41326246bb',
    publicKeyHex: '969d3f254993f419be93f36e965870823a35de93021889eaf4213b9720032155aaa05422167dc1739d57256e99d7d146',
    message: beaconMessage('gridledger', 't-kat', 0),
    signatureHex:
      'abb3487f5b1a14273d7d856787d33918bce71ff5172e453596951af36ad907c8a667b7efd5c848b48969944c495728b5053ace6de138267b50d1ca46906c071fa23018919820eb4e6f71d9c978bf6e1e0f0e160e4d8c15d048c871eb8b3b9143',
  };

  it('known answer: a fixed key signs a fixed beacon message into a fixed signature under BEACON_DST, which verifies', () => {
    expect(BEACON_DST).toBe('BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_');
    const sk = SecretKey.fromBytes(Buffer.from(KAT.secretKeyHex, 'hex'));
    expect(Buffer.from(sk.toPublicKey().toBytes()).toString('hex')).toBe(KAT.publicKeyHex);
    expect(Buffer.from(sk.sign(Buffer.from(KAT.message, 'utf8')).toBytes()).toString('hex')).toBe(KAT.signatureHex);
    // an independent implementation agrees on the tag: noble with BEACON_DST gives the same signature
    expect(Buffer.from(bls.sign(Buffer.from(KAT.message, 'utf8'), Buffer.from(KAT.secretKeyHex, 'hex'), { DST: BEACON_DST })).toString('hex')).toBe(KAT.signatureHex);
    expect(verifyContribution(KAT.publicKeyHex, KAT.signatureHex, KAT.message)).toBe(true);
    // the same key's signature under the basic scheme's tag (noble's default, the beacon's before) does not
    const nul = Buffer.from(bls.sign(Buffer.from(KAT.message, 'utf8'), Buffer.from(KAT.secretKeyHex, 'hex'))).toString('hex');
    expect(nul).not.toBe(KAT.signatureHex);
    expect(verifyContribution(KAT.publicKeyHex, nul, KAT.message)).toBe(false);
  });

  it('verifies contributions as an independent implementation does (noble under BEACON_DST), remembering verdicts', () => {
    const message = beaconMessage('gridledger', 't-memo', 0);
    const other = beaconMessage('gridledger', 't-memo', 1);
    const identity = 'c0' + '00'.repeat(95);
    const cases: Array<[string, string, string]> = [
      ['Org1MSP', beaconSignatureHex('Org1MSP', 't-memo', 0), message],
      ['Org2MSP', beaconSignatureHex('Org2MSP', 't-memo', 0), message],
      ['Org1MSP', beaconSignatureHex('Org2MSP', 't-memo', 0), message], // another utility's signature
      ['Org1MSP', beaconSignatureHex('Org1MSP', 't-memo', 1), message], // another round's signature
      ['Org1MSP', beaconSignatureHex('Org1MSP', 't-memo', 1), other],
      ['Org1MSP', 'ab'.repeat(96), message], // not a point
      ['Org1MSP', identity, message], // the identity is nobody's signature
    ];
    const expected = cases.map(([msp, sig, msg]) => {
      try {
        return bls.verify(sig, bls.G2.hashToCurve(Buffer.from(msg, 'utf8'), { DST: BEACON_DST }) as Parameters<typeof bls.verify>[1], beaconPublicKeyHex(msp));
      } catch {
        return false;
      }
    });
    expect(expected).toEqual([true, true, false, false, true, false, false]);
    for (let pass = 0; pass < 2; pass++) expect(cases.map(([msp, sig, msg]) => verifyContribution(beaconPublicKeyHex(msp), sig, msg))).toEqual(expected);
    // the second pass was answered from the remembered verdicts: a signature altered behind the memo's
    // back would not be noticed, which is why the memo keys on the whole (key, signature, message)
    const verifying = jest.spyOn(jest.requireActual<typeof import('@chainsafe/blst')>('@chainsafe/blst'), 'verify');
    try {
      for (const [msp, sig, msg] of cases) verifyContribution(beaconPublicKeyHex(msp), sig, msg);
      expect(verifying).not.toHaveBeenCalled();
    } finally {
      verifying.mockRestore();
    }
  });

  it('beacon keys: one per utility, validated, replaceable only after the regulator revokes it', async () => {
    const ledger = new TestLedger();
    const op = identities.operator('Org1MSP');
    await expectCode(ledger.submit(op, 'committees:registerBeaconKey', ['00'.repeat(48)]), 'INVALID_ARGUMENT', /not a valid BLS12-381 G1 point/);
    await expectCode(ledger.submit(op, 'committees:registerBeaconKey', ['ab'.repeat(48)]), 'INVALID_ARGUMENT', /not a valid BLS12-381 G1 point: Point not on curve/);
    await expectCode(ledger.submit(op, 'committees:registerBeaconKey', ['80' + '00'.repeat(47)]), 'INVALID_ARGUMENT', /not a valid BLS12-381 G1 point: Point not in group/);
    await expectCode(ledger.submit(op, 'committees:registerBeaconKey', ['c0' + '00'.repeat(47)]), 'INVALID_ARGUMENT', /must not be the identity point/);
    await expectCode(ledger.submit(identities.meter('Org1MSP', 'm', 'z'), 'committees:registerBeaconKey', [beaconPublicKeyHex('Org1MSP')]), 'FORBIDDEN');
    await ledger.submit(op, 'committees:registerBeaconKey', [beaconPublicKeyHex('Org1MSP')]);
    await ledger.submit(op, 'committees:registerBeaconKey', [beaconPublicKeyHex('Org1MSP')]); // idempotent
    await expectCode(ledger.submit(op, 'committees:registerBeaconKey', [beaconPublicKeyHex('other')]), 'CONFLICT', /revoke it first/);
    await expectCode(ledger.submit(op, 'committees:revokeBeaconKey', ['Org1MSP']), 'FORBIDDEN');
    await ledger.submit(regulator, 'committees:revokeBeaconKey', ['Org1MSP']);
    await ledger.submit(op, 'committees:registerBeaconKey', [beaconPublicKeyHex('other')]);
    const keys = await ledger.evaluate<Array<{ mspId: string; publicKeyHex: string }>>(regulator, 'committees:getBeaconKeys');
    expect(keys).toEqual([expect.objectContaining({ mspId: 'Org1MSP', publicKeyHex: beaconPublicKeyHex('other') })]);
  });

  it('a task cannot open without beaconQuorum utility keys', async () => {
    const ledger = new TestLedger();
    await registerUtilities(ledger, ['Org1MSP']);
    await ledger.submit(identities.operator('Org1MSP'), 'participants:enrolMeter', ['m-1', 'z1']);
    await expectCode(ledger.submit(identities.meter('Org1MSP', 'm-1', 'z1'), 'participants:requestJoin', ['{}']), 'PRECONDITION_FAILED', /needs 2 utility keys, 1 registered/);
  });

  it('with too few eligible members the task stays seeded and can be drawn later', async () => {
    const ledger = await community(3);
    const j = await join(ledger, 'Org2MSP', 'new-1', 'z2');
    const seeded = await runBeacon(ledger, j.taskId);
    expect(seeded).toMatchObject({ status: 'SEEDED', committee: [] });
    expect(seeded.drawError).toMatch(/only 3 of 4 eligible members/);
    await expectCode(ledger.submit(regulator, 'committees:draw', [j.taskId]), 'PRECONDITION_FAILED', /only 3 of 4/);
    await seedMembers(ledger, 3, ['z1', 'z2', 'z3'], 'late');
    const drawn = await ledger.submit<Task>(regulator, 'committees:draw', [j.taskId]);
    expect(drawn.result.status).toBe('ACTIVE');
    expect((await getTask(ledger, j.taskId)).committee).toHaveLength(4);
  });
});
