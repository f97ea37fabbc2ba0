/**
 * Conformance: transaction lifecycle through the unmodified @hyperledger/fabric-gateway client —
 * submit/evaluate, chaincode errors, MVCC and phantom conflicts, resubmission of one signed
 * transaction, non-deterministic endorsement, range/pagination/history. Expected behaviour is real
 * Fabric 3.1's (network/devnet protocol reference P§5, P§6); nothing here knows which tier runs.
 */
import { CommitError, EndorseError, GatewayError, StatusCode, type Contract } from '@hyperledger/fabric-gateway';
import { awaitBlock, chaincodeMessages, rejectionOf, utf8, type OrgDescriptor } from '../support';
import { openFixture, type Fixture } from './fixture';

let f: Fixture;
let org1: OrgDescriptor;
let org2: OrgDescriptor;
let contract: Contract;

beforeAll(() => {
  f = openFixture();
  [org1, org2] = f.orgs as [OrgDescriptor, OrgDescriptor];
  contract = f.contract(org1);
});

afterAll(() => f.close());

const key = (name: string): string => `${f.run}:${name}`;

describe('submit and evaluate', () => {
  it('commits a submitted transaction as VALID, returns its result, and every org reads the write', async () => {
    const k = key('put');
    const submitted = await contract.submitAsync('put', { arguments: [k, 'value-1'] });
    expect(utf8(submitted.getResult())).toBe('value-1');
    const status = await submitted.getStatus();
    expect(status.code).toBe(StatusCode.VALID);
    expect(status.successful).toBe(true);
    expect(status.transactionId).toBe(submitted.getTransactionId());
    expect(status.blockNumber).toBeGreaterThan(0n);

    for (const o of f.orgs) {
      await awaitBlock(f.network(o), status.blockNumber); // each peer commits on its own
      await expect(f.evaluate(o, 'get', k)).resolves.toBe('value-1');
    }
  });

  it('submitTransaction returns the result; evaluate of an absent key returns empty', async () => {
    const k = key('submitTransaction');
    await expect(contract.submitTransaction('put', k, 'v').then(utf8)).resolves.toBe('v');
    await expect(f.evaluate(org2, 'get', key('never-written'))).resolves.toBe('');
  });

  it('reports the caller MSP and certificate attribute role to the chaincode', async () => {
    const me = JSON.parse(await f.evaluate(org1, 'whoAmI')) as { mspId: string; role: string | null };
    expect(me.mspId).toBe(org1.mspId);
    expect(me.role).toBe('operator');
  });
});

describe('chaincode errors', () => {
  it('surfaces a chaincode error on submit as EndorseError carrying the chaincode message', async () => {
    const message = `deliberate failure ${f.run}`;
    const err = await rejectionOf(contract.submitTransaction('fail', message));
    expect(err).toBeInstanceOf(EndorseError);
    const e = err as EndorseError;
    expect(e.code).toBe(10); // ABORTED
    expect(e.transactionId).toMatch(/^[0-9a-f]{64}$/);
    expect(chaincodeMessages(e)).toContainEqual({ status: 500, message });
  });

  it('surfaces a chaincode error on evaluate as GatewayError carrying the chaincode message', async () => {
    const message = `deliberate evaluate failure ${f.run}`;
    const err = await rejectionOf(contract.evaluateTransaction('fail', message));
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).not.toBeInstanceOf(EndorseError);
    const e = err as GatewayError;
    expect(e.code).toBe(2); // UNKNOWN
    expect(e.message).toContain(`chaincode response 500, ${message}`);
    expect(chaincodeMessages(e)).toContainEqual({ status: 500, message });
  });

  it('refuses an unknown function with the contract API message', async () => {
    const err = (await rejectionOf(contract.evaluateTransaction('noSuchFunction'))) as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(chaincodeMessages(err).map((m) => m.message).join('\n')).toMatch(/function that does not exist: noSuchFunction/);
  });

  it('fails endorsement of a non-deterministic function: ProposalResponsePayloads do not match', async () => {
    const k = key('nondeterministic');
    const err = await rejectionOf(contract.submitTransaction('nondeterministic', k));
    expect(err).toBeInstanceOf(EndorseError);
    const e = err as EndorseError;
    expect(e.code).toBe(10); // ABORTED
    expect(e.details.map((d) => d.message)).toContainEqual(expect.stringMatching(/ProposalResponsePayloads do not match/));
    await expect(f.evaluate(org1, 'get', k)).resolves.toBe('');
  });
});

describe('validation codes', () => {
  it('two transactions that read and write one key: one VALID, one MVCC_READ_CONFLICT (11)', async () => {
    const k = key('counter');
    await expect(contract.submitTransaction('readModifyWrite', k).then(utf8)).resolves.toBe('1');

    // Both are endorsed against the same committed version before either is ordered, so exactly one
    // can commit whatever the batch timeout (deterministic, unlike racing two submit() calls).
    const proposals = [0, 1].map(() => contract.newProposal('readModifyWrite', { arguments: [k] }));
    const endorsed = await Promise.all(proposals.map((p) => p.endorse()));
    expect(endorsed.map((t) => utf8(t.getResult()))).toEqual(['2', '2']);
    const submitted = [];
    for (const t of endorsed) submitted.push(await t.submit());
    const statuses = await Promise.all(submitted.map((s) => s.getStatus()));

    // Which one wins is the orderer's choice (a BFT leader need not keep submission order).
    expect(statuses.map((s) => s.code).sort((a, b) => a - b)).toEqual([StatusCode.VALID, StatusCode.MVCC_READ_CONFLICT]);
    const winner = statuses.find((s) => s.successful)!;
    const loser = statuses.find((s) => !s.successful)!;
    expect(loser.blockNumber).toBeGreaterThanOrEqual(winner.blockNumber);
    // org1's peer reported both commits; org2's peer commits the same blocks on its own schedule
    await awaitBlock(f.network(org2), loser.blockNumber);
    await expect(f.evaluate(org2, 'get', k)).resolves.toBe('2');
  });

  it('a transaction endorsed on a version that has since changed fails with MVCC_READ_CONFLICT (11)', async () => {
    const k = key('counter-commit-error');
    await contract.submitTransaction('readModifyWrite', k);
    // The loser is endorsed first and held back; the winner is endorsed on the same version and committed
    // in an earlier block, so the loser's read version is stale at validation.
    const loser = await contract.newProposal('readModifyWrite', { arguments: [k] }).endorse();
    await contract.submitTransaction('readModifyWrite', k);
    const status = await (await loser.submit()).getStatus();
    expect(status.code).toBe(StatusCode.MVCC_READ_CONFLICT);
    expect(status.successful).toBe(false);
    await expect(f.evaluate(org1, 'get', k)).resolves.toBe('2');
  });

  it('a key inserted into a range read by a later transaction: PHANTOM_READ_CONFLICT (12)', async () => {
    const prefix = key('phantom:');
    const end = key('phantom;'); // ';' follows ':' — the range [prefix, end) covers every prefix key
    await Promise.all(['a', 'c'].map((s) => contract.submitTransaction('put', prefix + s, s)));

    const rangeTx = await contract.newProposal('rangeAndWrite', { arguments: [prefix, end, key('phantom-out')] }).endorse();
    expect(JSON.parse(utf8(rangeTx.getResult()))).toEqual([prefix + 'a', prefix + 'c']);
    const insertTx = await contract.newProposal('put', { arguments: [prefix + 'b', 'b'] }).endorse();

    // The insert commits before the range transaction is even submitted, whatever the orderer.
    const insertStatus = await (await insertTx.submit()).getStatus();
    expect(insertStatus.code).toBe(StatusCode.VALID);
    const rangeStatus = await (await rangeTx.submit()).getStatus();
    expect(rangeStatus.code).toBe(StatusCode.PHANTOM_READ_CONFLICT);
    expect(rangeStatus.successful).toBe(false);
    await expect(f.evaluate(org1, 'get', key('phantom-out'))).resolves.toBe('');
    await expect(f.evaluate(org1, 'rangeKeys', prefix, end).then((s) => JSON.parse(s))).resolves.toEqual(
      ['a', 'b', 'c'].map((s) => prefix + s),
    );
  });

  it('a write endorsed by fewer orgs than the policy needs: submit() throws CommitError ENDORSEMENT_POLICY_FAILURE (10)', async () => {
    const k = key('one-endorser');
    // The gateway does not check client-chosen orgs against the policy (MAJORITY of three); the committer does.
    const err = await rejectionOf(contract.submit('put', { arguments: [k, 'x'], endorsingOrganizations: [org1.mspId] }));
    expect(err).toBeInstanceOf(CommitError);
    const e = err as CommitError;
    expect(e.code).toBe(StatusCode.ENDORSEMENT_POLICY_FAILURE);
    expect(e.message).toBe(`Transaction ${e.transactionId} failed to commit with status code 10 (ENDORSEMENT_POLICY_FAILURE)`);
    await expect(f.evaluate(org1, 'get', k)).resolves.toBe('');
  });

  // Fabric 3.1.5 validates the invoked chaincode's namespace even without writes (plugindispatcher/
  // dispatcher.go: wrNamespace[ccID] = true; statebased v20 CheckCCEPIfNoEPChecked), so a read-only
  // transaction submitted for ordering must satisfy the chaincode's endorsement policy like any other.
  it('a read-only transaction is policy-checked at commit: one endorsement of a majority policy is ENDORSEMENT_POLICY_FAILURE (10)', async () => {
    const k = key('read-only');
    await contract.submitTransaction('put', k, 'r');
    const lone = await contract.submitAsync('get', { arguments: [k], endorsingOrganizations: [org1.mspId] });
    expect(utf8(lone.getResult())).toBe('r');
    const status = await lone.getStatus();
    expect(status.code).toBe(StatusCode.ENDORSEMENT_POLICY_FAILURE);
    expect(status.successful).toBe(false);

    const planned = await contract.submitAsync('get', { arguments: [k] });
    expect(utf8(planned.getResult())).toBe('r');
    expect((await planned.getStatus()).code).toBe(StatusCode.VALID);
  });

  it('the same signed transaction submitted twice commits once', async () => {
    const k = key('resubmitted');
    const proposal = contract.newProposal('readModifyWrite', { arguments: [k] });
    const transaction = await proposal.endorse();

    const first = await transaction.submit();
    const second = await transaction.submit(); // Fabric (Raft) accepts the copy; it is invalidated at commit
    expect(second.getTransactionId()).toBe(first.getTransactionId());
    const [s1, s2] = await Promise.all([first.getStatus(), second.getStatus()]);
    expect(s1.code).toBe(StatusCode.VALID);
    // CommitStatus reports the original commit for a txid present twice (P§1.6).
    expect(s2.code).toBe(StatusCode.VALID);
    expect(s2.blockNumber).toBe(s1.blockNumber);

    // Anything ordered after the copy commits after it: once this is VALID the copy has been validated.
    await contract.submitTransaction('put', key('resubmitted-fence'), 'x');
    await expect(f.evaluate(org1, 'get', k)).resolves.toBe('1');
    const history = JSON.parse(await f.evaluate(org1, 'history', k)) as Array<{ txId: string; value: string }>;
    expect(history).toEqual([{ txId: transaction.getTransactionId(), value: '1', isDelete: false }]);
  });
});

describe('queries', () => {
  it('range, paginated range and history with delete', async () => {
    const prefix = key('range:');
    const end = key('range;');
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5'].map((s) => prefix + s);
    const puts = await Promise.all(keys.map(async (k, i) => (await contract.submitAsync('put', { arguments: [k, `v${i}`] })).getStatus()));
    expect(puts.every((st) => st.successful)).toBe(true);
    // committed on org1's peer; org2's peer commits on its own (seen on Fabric: an empty range without this)
    await awaitBlock(f.network(org2), puts.reduce((max, st) => (st.blockNumber > max ? st.blockNumber : max), 0n));

    await expect(f.evaluate(org2, 'rangeKeys', prefix, end).then((s) => JSON.parse(s))).resolves.toEqual(keys);

    const pages: string[][] = [];
    let bookmark = '';
    do {
      const page = JSON.parse(await f.evaluate(org1, 'rangePage', prefix, end, '2', bookmark)) as {
        keys: string[]; bookmark: string; fetchedRecordsCount: number;
      };
      expect(page.fetchedRecordsCount).toBe(page.keys.length);
      pages.push(page.keys);
      bookmark = page.bookmark;
    } while (bookmark !== '' && pages.length < 10);
    expect(pages).toEqual([keys.slice(0, 2), keys.slice(2, 4), keys.slice(4)]);

    const hk = key('history');
    const tx1 = await contract.submitAsync('put', { arguments: [hk, 'h1'] });
    expect((await tx1.getStatus()).successful).toBe(true);
    const tx2 = await contract.submitAsync('put', { arguments: [hk, 'h2'] });
    expect((await tx2.getStatus()).successful).toBe(true);
    const tx3 = await contract.submitAsync('del', { arguments: [hk] });
    expect((await tx3.getStatus()).successful).toBe(true);
    await expect(f.evaluate(org1, 'get', hk)).resolves.toBe('');
    await awaitBlock(f.network(org2), (await tx3.getStatus()).blockNumber);
    expect(JSON.parse(await f.evaluate(org2, 'history', hk))).toEqual([
      { txId: tx3.getTransactionId(), value: '', isDelete: true },
      { txId: tx2.getTransactionId(), value: 'h2', isDelete: false },
      { txId: tx1.getTransactionId(), value: 'h1', isDelete: false },
    ]);
  });
});
