import type { Identity, NodeOuRole } from '../../src/identity/msp';
import { MspRegistry } from '../../src/identity/msp';
import {
  ChannelPolicies,
  evaluatePolicy,
  parsePolicy,
  PolicyEvaluationError,
  PolicyParseError,
  principalsOf,
} from '../../src/policy';

const ORGS = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
// satisfiesPrincipal needs no MSP definitions; identities here are pre-validated fakes.
const ctx = { orgMspIds: ORGS, msp: new MspRegistry([]) };

let counter = 0;
function ident(mspId: string, role: NodeOuRole, id = `cert-${++counter}`): Identity {
  return { mspId, role, id, certPem: '', serialized: Buffer.alloc(0) };
}

function parseError(text: string): PolicyParseError {
  try {
    parsePolicy(text);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyParseError);
    return err as PolicyParseError;
  }
  throw new Error(`expected ${text} to be rejected`);
}

describe('parsePolicy', () => {
  test('signature policies, nested, with every role and Fabric gate spellings', () => {
    expect(parsePolicy("OR('A.member', 'B.peer')")).toEqual({
      type: 'n-out-of',
      n: 1,
      rules: [
        { type: 'signed-by', principal: { mspId: 'A', role: 'member' } },
        { type: 'signed-by', principal: { mspId: 'B', role: 'peer' } },
      ],
    });
    const nested = parsePolicy("OutOf(2, 'Org1MSP.peer', AND(\"Org2.MSP.admin\", 'x-y.client'), or('O.orderer'))");
    expect(nested).toEqual({
      type: 'n-out-of',
      n: 2,
      rules: [
        { type: 'signed-by', principal: { mspId: 'Org1MSP', role: 'peer' } },
        {
          type: 'n-out-of',
          n: 2,
          rules: [
            { type: 'signed-by', principal: { mspId: 'Org2.MSP', role: 'admin' } },
            { type: 'signed-by', principal: { mspId: 'x-y', role: 'client' } },
          ],
        },
        { type: 'n-out-of', n: 1, rules: [{ type: 'signed-by', principal: { mspId: 'O', role: 'orderer' } }] },
      ],
    });
    expect(parsePolicy("outof('1', 'A.member')")).toEqual({
      type: 'n-out-of',
      n: 1,
      rules: [{ type: 'signed-by', principal: { mspId: 'A', role: 'member' } }],
    });
  });

  test('implicit-meta policies', () => {
    expect(parsePolicy('MAJORITY Endorsement')).toEqual({ type: 'implicit-meta', rule: 'MAJORITY', subPolicy: 'Endorsement' });
    expect(parsePolicy('  ANY Readers ')).toEqual({ type: 'implicit-meta', rule: 'ANY', subPolicy: 'Readers' });
    expect(parsePolicy('ALL Writers')).toEqual({ type: 'implicit-meta', rule: 'ALL', subPolicy: 'Writers' });
  });

  test('bad syntax names the position', () => {
    expect(parseError("OR('A.member'").position).toBe(13);
    expect(parseError("OR('A.member'").message).toMatch(/at position 13: expected ',' or '\)', found end of input/);
    expect(parseError("OR('A.bogus')").position).toBe(3);
    expect(parseError("XOR('A.member')").message).toMatch(/position 0: unknown function 'XOR'/);
    expect(parseError("OutOf(x, 'A.member')").position).toBe(6);
    expect(parseError("OutOf(3, 'A.member', 'B.member')").message).toMatch(/can never be satisfied/);
    expect(parseError("OR('A.member') junk").position).toBe(15);
    expect(parseError("OR('A.member)").message).toMatch(/position 3: unterminated string/);
    expect(parseError('OR()').position).toBe(3);
    expect(parseError('MAJORITY').message).toMatch(/position 8: implicit-meta policy needs exactly one sub-policy/);
    expect(parseError('').message).toMatch(/empty policy/);
    expect(parseError("OR('A.member'; 'B.member')").message).toMatch(/position 13: unexpected character ';'/);
  });
});

describe('evaluatePolicy', () => {
  test('OR / AND / OutOf over principals and roles', () => {
    const p1 = ident('Org1MSP', 'peer');
    const p2 = ident('Org2MSP', 'peer');
    const c1 = ident('Org1MSP', 'client');
    const or = parsePolicy("OR('Org1MSP.peer', 'Org2MSP.peer')");
    expect(evaluatePolicy(or, [p2], ctx)).toBe(true);
    expect(evaluatePolicy(or, [c1], ctx)).toBe(false);
    expect(evaluatePolicy(or, [], ctx)).toBe(false);
    const and = parsePolicy("AND('Org1MSP.peer', 'Org2MSP.peer')");
    expect(evaluatePolicy(and, [p1], ctx)).toBe(false);
    expect(evaluatePolicy(and, [p1, p2], ctx)).toBe(true);
    expect(evaluatePolicy(parsePolicy("OR('Org1MSP.member')"), [c1], ctx)).toBe(true);
    expect(evaluatePolicy(parsePolicy("OR('Org1MSP.admin')"), [c1], ctx)).toBe(false);
    const two = parsePolicy("OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer')");
    expect(evaluatePolicy(two, [p1], ctx)).toBe(false);
    expect(evaluatePolicy(two, [p1, ident('Org3MSP', 'peer')], ctx)).toBe(true);
  });

  test('each identity satisfies at most one principal', () => {
    const twice = parsePolicy("AND('Org1MSP.member', 'Org1MSP.member')");
    expect(evaluatePolicy(twice, [ident('Org1MSP', 'peer')], ctx)).toBe(false);
    expect(evaluatePolicy(twice, [ident('Org1MSP', 'peer'), ident('Org1MSP', 'client')], ctx)).toBe(true);
    // Fabric consumes greedily in identity order: member takes the peer first, then peer is unmet
    const greedy = parsePolicy("AND('Org1MSP.member', 'Org1MSP.peer')");
    const peer = ident('Org1MSP', 'peer');
    const client = ident('Org1MSP', 'client');
    expect(evaluatePolicy(greedy, [peer, client], ctx)).toBe(false);
    expect(evaluatePolicy(greedy, [client, peer], ctx)).toBe(true);
    // a failed sub-rule gives back what it consumed
    const giveBack = parsePolicy("OutOf(1, AND('Org1MSP.peer', 'Org2MSP.peer'), 'Org1MSP.peer')");
    expect(evaluatePolicy(giveBack, [peer], ctx)).toBe(true);
  });

  test('identities are de-duplicated by MSP ID + cert hash before counting', () => {
    const and = parsePolicy("AND('Org1MSP.peer', 'Org1MSP.peer')");
    const p = ident('Org1MSP', 'peer', 'same-cert');
    const sameCertAgain = ident('Org1MSP', 'peer', 'same-cert');
    expect(evaluatePolicy(and, [p, sameCertAgain], ctx)).toBe(false);
    expect(evaluatePolicy(and, [p, ident('Org1MSP', 'peer', 'other-cert')], ctx)).toBe(true);
    const majority = parsePolicy('MAJORITY Endorsement');
    expect(evaluatePolicy(majority, [p, p, p], ctx)).toBe(false);
  });

  test('MAJORITY Endorsement over 3 orgs needs peers of 2 different orgs', () => {
    const majority = parsePolicy('MAJORITY Endorsement');
    const p1 = ident('Org1MSP', 'peer');
    const p2 = ident('Org2MSP', 'peer');
    const p3 = ident('Org3MSP', 'peer');
    expect(evaluatePolicy(majority, [p1], ctx)).toBe(false);
    expect(evaluatePolicy(majority, [p1, ident('Org1MSP', 'peer')], ctx)).toBe(false); // two peers, one org
    expect(evaluatePolicy(majority, [p1, ident('Org2MSP', 'client')], ctx)).toBe(false); // Endorsement = peer role
    expect(evaluatePolicy(majority, [p1, p3], ctx)).toBe(true);
    expect(evaluatePolicy(majority, [p1, p2, p3], ctx)).toBe(true);
    expect(evaluatePolicy(majority, [p1, ident('OtherMSP', 'peer')], ctx)).toBe(false);
    // MAJORITY of 2 orgs = 2, of 4 orgs = 3
    expect(evaluatePolicy(majority, [p1], { ...ctx, orgMspIds: ['Org1MSP', 'Org2MSP'] })).toBe(false);
    expect(evaluatePolicy(majority, [p1, p2], { ...ctx, orgMspIds: ['Org1MSP', 'Org2MSP'] })).toBe(true);
    expect(evaluatePolicy(majority, [p1, p2], { ...ctx, orgMspIds: [...ORGS, 'Org4MSP'] })).toBe(false);
  });

  test('ANY / ALL with Readers, Writers, Admins sub-policies', () => {
    const anyWriters = parsePolicy('ANY Writers');
    expect(evaluatePolicy(anyWriters, [ident('Org2MSP', 'client')], ctx)).toBe(true);
    expect(evaluatePolicy(anyWriters, [ident('Org2MSP', 'admin')], ctx)).toBe(true);
    expect(evaluatePolicy(anyWriters, [ident('Org2MSP', 'peer')], ctx)).toBe(false);
    const anyReaders = parsePolicy('ANY Readers');
    expect(evaluatePolicy(anyReaders, [ident('Org3MSP', 'peer')], ctx)).toBe(true);
    expect(evaluatePolicy(anyReaders, [ident('Org3MSP', 'orderer')], ctx)).toBe(false);
    const allAdmins = parsePolicy('ALL Admins');
    const admins = ORGS.map((m) => ident(m, 'admin'));
    expect(evaluatePolicy(allAdmins, admins, ctx)).toBe(true);
    expect(evaluatePolicy(allAdmins, admins.slice(0, 2), ctx)).toBe(false);
    expect(() => evaluatePolicy(parsePolicy('ANY Bogus'), [], ctx)).toThrow(PolicyEvaluationError);
  });
});

describe('principalsOf and ChannelPolicies', () => {
  test('principals of signature and implicit-meta policies', () => {
    expect(principalsOf(parsePolicy("OR('A.member', AND('B.peer', 'A.member'))"), ORGS)).toEqual([
      { mspId: 'A', role: 'member' },
      { mspId: 'B', role: 'peer' },
    ]);
    expect(principalsOf(parsePolicy('MAJORITY Endorsement'), ORGS)).toEqual(ORGS.map((mspId) => ({ mspId, role: 'peer' })));
    expect(principalsOf(parsePolicy('ANY Writers'), ['Org1MSP'])).toEqual([
      { mspId: 'Org1MSP', role: 'admin' },
      { mspId: 'Org1MSP', role: 'client' },
    ]);
  });

  test('collection membership and member MSPs from policy text', () => {
    const pol = new ChannelPolicies(ctx);
    const coll = "OR('Org1MSP.member')";
    expect(pol.memberMsps(coll)).toEqual(['Org1MSP']);
    expect(pol.memberMsps("OR('Org1MSP.peer', 'Org2MSP.member', 'Org1MSP.client')")).toEqual(['Org1MSP', 'Org2MSP']);
    expect(pol.isMember(coll, ident('Org1MSP', 'client'))).toBe(true);
    expect(pol.isMember(coll, ident('Org2MSP', 'client'))).toBe(false);
    expect(pol.isMember("OR('Org1MSP.peer')", ident('Org1MSP', 'client'))).toBe(false);
    expect(pol.satisfied('MAJORITY Endorsement', [ident('Org1MSP', 'peer'), ident('Org2MSP', 'peer')])).toBe(true);
    expect(pol.parse(coll)).toBe(pol.parse(coll)); // cached
    expect(() => pol.satisfied("OR('x", [])).toThrow(PolicyParseError);
  });
});
