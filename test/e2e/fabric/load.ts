/**
 * Steady submit load for the Fabric-only tests (faults.test.ts, orderers.test.ts), with the
 * exactly-once check both use: each submission is endorsed once and its signed envelope re-sent on a
 * submit error, so a transaction can never be applied twice, and its outcome is read back with
 * CommitStatus (or, after an error, from the conformance chaincode's `history` of its key).
 */
import { StatusCode, type Gateway } from '@hyperledger/fabric-gateway';
import { connectOrg, sleep, utf8, type NetworkDescriptor } from '../support';

export const CHAINCODE = 'conformance';

export interface Outcome { key: string; txId: string; code?: number; error?: string; at: number }

/** True once `txId` is the transaction that wrote `key` (the conformance chaincode's `history`). */
async function committedOnLedger(net: NetworkDescriptor, gateway: Gateway, key: string, txId: string): Promise<boolean> {
  try {
    const cc = gateway.getNetwork(net.channel).getContract(CHAINCODE);
    const history = JSON.parse(utf8(await cc.evaluateTransaction('history', key))) as Array<{ txId: string }>;
    return history.some((h) => h.txId === txId);
  } catch {
    return false;
  }
}

/**
 * One transaction: endorse once, submit; on a submit error (e.g. SERVICE_UNAVAILABLE while SmartBFT
 * changes view) first look whether it was ordered after all, else re-send the same signed envelope —
 * so it can never be applied twice. Returns its validation code, or the last error.
 */
export async function submitOnce(net: NetworkDescriptor, gateway: Gateway, key: string, value: string, resendForMs: number): Promise<Outcome> {
  const until = Date.now() + resendForMs;
  const proposal = gateway.getNetwork(net.channel).getContract(CHAINCODE).newProposal('put', { arguments: [key, value] });
  // An endorsement refused while the channel's membership changes (FAILED_PRECONDITION "no combination of
  // peers can be derived…" while a joining org's peer has no chaincode yet) sent nothing to the orderers:
  // endorse again, as a client would, until the deadline.
  let tx: Awaited<ReturnType<typeof proposal.endorse>>;
  for (;;) {
    try {
      tx = await proposal.endorse();
      break;
    } catch (err) {
      if (Date.now() > until) return { key, txId: proposal.getTransactionId(), error: describeError(err), at: Date.now() };
      await sleep(1000);
    }
  }
  const txId = tx.getTransactionId();
  let lastError: unknown;
  for (;;) {
    try {
      const commit = await tx.submit();
      const status = await commit.getStatus();
      return { key, txId, code: status.code, at: Date.now() };
    } catch (err) {
      lastError = err;
      if (Date.now() > until) break;
      const lookUntil = Math.min(until, Date.now() + 15_000);
      while (Date.now() < lookUntil) {
        if (await committedOnLedger(net, gateway, key, txId)) return { key, txId, code: StatusCode.VALID, at: Date.now() };
        await sleep(1000);
      }
    }
  }
  return { key, txId, error: describeError(lastError), at: Date.now() };
}

function describeError(err: unknown): string {
  const e = err as { code?: number; message?: string; details?: Array<{ message: string }> };
  return `${e.code ?? ''} ${e.message ?? String(err)} ${(e.details ?? []).map((d) => d.message).join('; ')}`.trim();
}

/**
 * Validation codes after which a client endorses the same request anew: the transaction wrote nothing.
 * A change of the channel's membership or of a chaincode definition between a transaction's endorsement
 * and its validation invalidates it: MAJORITY Endorsement of the new member set is more signatures
 * (ENDORSEMENT_POLICY_FAILURE), and the endorsement read the definition's sequence (MVCC_READ_CONFLICT;
 * a put of a fresh key has no other read to conflict on). network.sh add-org / remove-org do both.
 */
const RE_ENDORSE = new Set<number>([StatusCode.ENDORSEMENT_POLICY_FAILURE, StatusCode.MVCC_READ_CONFLICT]);

/**
 * Steady load: `concurrency` workers submitting distinct keys until stop() is called. An outcome in
 * RE_ENDORSE is kept in `superseded` and the key submitted again (at most 3 times), as a client would.
 */
export function startLoad(net: NetworkDescriptor, gateway: Gateway, prefix: string, concurrency = 4): { stop: () => Promise<Outcome[]>; outcomes: Outcome[]; superseded: Outcome[] } {
  let stopping = false;
  let i = 0;
  const outcomes: Outcome[] = [];
  const superseded: Outcome[] = [];
  const workers = Array.from({ length: concurrency }, async () => {
    while (!stopping) {
      const key = `${prefix}:${i++}`;
      let o = await submitOnce(net, gateway, key, key, 90_000);
      for (let n = 0; n < 3 && o.code !== undefined && RE_ENDORSE.has(o.code); n++) {
        superseded.push(o);
        o = await submitOnce(net, gateway, key, key, 90_000);
      }
      outcomes.push(o);
    }
  });
  return {
    outcomes,
    superseded,
    async stop() {
      stopping = true;
      await Promise.all(workers);
      return outcomes;
    },
  };
}

/** Every key committed exactly once, with its own value, on every peer. */
export async function expectExactlyOnce(net: NetworkDescriptor, outcomes: Outcome[]): Promise<void> {
  expect(outcomes.filter((o) => o.error)).toEqual([]);
  expect(outcomes.filter((o) => o.code !== StatusCode.VALID)).toEqual([]);
  for (const org of net.organizations) {
    const c = connectOrg(org);
    try {
      const cc = c.gateway.getNetwork(net.channel).getContract(CHAINCODE);
      // a commit status comes from org1's peer; every other peer commits the same blocks on its own
      // time (a restarted peer may still be catching up), so give each a minute to show it
      const until = Date.now() + 60_000;
      for (const o of outcomes) {
        let value = utf8(await cc.evaluateTransaction('get', o.key));
        while (value !== o.key && Date.now() < until) {
          await sleep(500);
          value = utf8(await cc.evaluateTransaction('get', o.key));
        }
        expect(value).toBe(o.key);
        const history = JSON.parse(utf8(await cc.evaluateTransaction('history', o.key))) as Array<{ txId: string }>;
        expect(history.map((h) => h.txId)).toEqual([o.txId]);
      }
    } finally {
      c.close();
    }
  }
}
