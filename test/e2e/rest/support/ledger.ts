/**
 * REST suite support — direct ledger reads through Fabric's gateway: evaluate, block scans, who signed what.
 * Tier-agnostic: only $GRIDLEDGER_HOME/gateways.json and network.json are read.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { unpackEvents, type ChaincodeEvent } from '@gridledger/protocol';
import { clientUserName, loadNetwork, org } from '../../support/network';
import { connectOrg } from '../../support/gateway';
import { GatewayDescriptor } from './gateways';
import { expectStatus } from './http';
import { EnrolledMeter, enrolMeter, readingSeries } from './meters';

export async function ledgerEvaluate(orgName: string, fn: string, args: string[]): Promise<any> {
  const net = loadNetwork();
  const conn = connectOrg(org(net, orgName));
  try {
    const contract = conn.gateway.getNetwork(net.channel).getContract('gridledger');
    const bytes = await contract.evaluateTransaction(fn, ...args);
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } finally {
    conn.close();
  }
}

// The @hyperledger/fabric-protos copy fabric-gateway loads (its block messages are instances of it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protos: typeof import('@hyperledger/fabric-protos') = require(
  require.resolve('@hyperledger/fabric-protos', { paths: [dirname(require.resolve('@hyperledger/fabric-gateway'))] }),
);

/** One transaction as committed in a block: id, validity (TRANSACTIONS_FILTER code 0) and its creator. */
export interface LedgerTx {
  txId: string;
  blockNumber: number;
  valid: boolean;
  validationCode: number;
  creatorMspId: string;
  creatorCertPem: string;
  /** `<chaincode>/<function>` of the invocation (e.g. `gridledger/trades:vote`); '' when it cannot be read */
  fn: string;
  /** the channel header's timestamp, Unix seconds (the client's proposal time) */
  timestamp: number;
  /** the same timestamp in milliseconds (seconds and nanos of the channel header) */
  timestampMs: number;
  /** the GridLedger events the transaction set (unpacked from its one chaincode event; [] for other chaincodes) */
  events: ChaincodeEvent[];
  /** index of the transaction in its block (the `txNum` of the versions it wrote) */
  txNum: number;
  /** its public read-write set, when `scanTransactions` was asked for it (`{ rwsets: true }`) */
  rwset?: TxRwset[];
}

/** One namespace of a transaction's public read-write set (ledger.rwset.kvrwset.KVRWSet), as plain values. */
export interface TxRwset {
  namespace: string;
  /** keys read, with the committed version the simulation saw (null: the key did not exist) */
  reads: Array<{ key: string; version: { blockNum: number; txNum: number } | null }>;
  /** range queries: [startKey, endKey), or up to and including endKey when the iterator stopped early */
  ranges: Array<{ startKey: string; endKey: string; itrExhausted: boolean }>;
  writes: Array<{ key: string; isDelete: boolean }>;
}

/** The first action's read-write set (ChaincodeAction.results), public keys only; [] when it cannot be read. */
function transactionRwset(payload: import('@hyperledger/fabric-protos').common.Payload): TxRwset[] {
  try {
    const cca = chaincodeAction(payload);
    if (!cca) return [];
    const txrw = protos.ledger.rwset.TxReadWriteSet.deserializeBinary(cca.getResults_asU8());
    return txrw.getNsRwsetList().map((ns) => {
      const kv = protos.ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
      return {
        namespace: ns.getNamespace(),
        reads: kv.getReadsList().map((r) => {
          const v = r.getVersion();
          return { key: r.getKey(), version: v ? { blockNum: Number(v.getBlockNum()), txNum: Number(v.getTxNum()) } : null };
        }),
        ranges: kv.getRangeQueriesInfoList().map((q) => ({ startKey: q.getStartKey(), endKey: q.getEndKey(), itrExhausted: q.getItrExhausted() })),
        writes: kv.getWritesList().map((w) => ({ key: w.getKey(), isDelete: w.getIsDelete() })),
      };
    });
  } catch {
    return [];
  }
}

/** The first action's ChaincodeAction (results = read-write set, events) of an endorser transaction; undefined without one. */
function chaincodeAction(payload: import('@hyperledger/fabric-protos').common.Payload): import('@hyperledger/fabric-protos').peer.ChaincodeAction | undefined {
  const tx = protos.peer.Transaction.deserializeBinary(payload.getData_asU8());
  const action = tx.getActionsList()[0];
  if (!action) return undefined;
  const cap = protos.peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
  const prp = protos.peer.ProposalResponsePayload.deserializeBinary(cap.getAction()!.getProposalResponsePayload_asU8());
  return protos.peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
}

/** The events of an endorser transaction: the first action's ChaincodeAction.events, unpacked (`unpackEvents`). */
function transactionEvents(payload: import('@hyperledger/fabric-protos').common.Payload): ChaincodeEvent[] {
  try {
    const cca = chaincodeAction(payload);
    if (!cca) return [];
    const ev = protos.peer.ChaincodeEvent.deserializeBinary(cca.getEvents_asU8());
    return unpackEvents({ eventName: ev.getEventName(), payload: ev.getPayload_asU8() });
  } catch {
    return [];
  }
}

/** `<chaincode>/<function>` of an endorser transaction: first action's ChaincodeInvocationSpec, args[0]. */
function invokedFunction(payload: import('@hyperledger/fabric-protos').common.Payload): string {
  try {
    const tx = protos.peer.Transaction.deserializeBinary(payload.getData_asU8());
    const action = tx.getActionsList()[0];
    if (!action) return '';
    const cap = protos.peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    const cpp = protos.peer.ChaincodeProposalPayload.deserializeBinary(cap.getChaincodeProposalPayload_asU8());
    const spec = protos.peer.ChaincodeInvocationSpec.deserializeBinary(cpp.getInput_asU8()).getChaincodeSpec();
    const args = spec?.getInput()?.getArgsList_asU8() ?? [];
    return `${spec?.getChaincodeId()?.getName() ?? ''}/${args[0] ? Buffer.from(args[0]).toString('utf8') : ''}`;
  } catch {
    return '';
  }
}

/**
 * Reads blocks `fromBlock..toBlock` (inclusive) from an org's peer as its operator (Deliver through the
 * peer gateway) and returns every endorser transaction in them. The ledger's own record, independent
 * of the REST gateway's receipts.
 */
export async function scanTransactions(orgName: string, fromBlock: number, toBlock: number, timeoutMs = 60_000, opts: { rwsets?: boolean } = {}): Promise<LedgerTx[]> {
  const net = loadNetwork();
  const conn = connectOrg(org(net, orgName));
  const out: LedgerTx[] = [];
  const blocks = await conn.gateway.getNetwork(net.channel).getBlockEvents({ startBlock: BigInt(fromBlock) });
  const timer = setTimeout(() => blocks.close(), timeoutMs);
  let last = fromBlock - 1;
  try {
    for await (const block of blocks) {
      const number = Number(block.getHeader()!.getNumber());
      const filter = block.getMetadata()!.getMetadataList_asU8()[protos.common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array();
      block.getData()!.getDataList_asU8().forEach((envBytes, i) => {
        const env = protos.common.Envelope.deserializeBinary(envBytes);
        const payload = protos.common.Payload.deserializeBinary(env.getPayload_asU8());
        const header = payload.getHeader()!;
        const ch = protos.common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
        if (ch.getType() !== protos.common.HeaderType.ENDORSER_TRANSACTION) return;
        const sig = protos.common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
        const creator = protos.msp.SerializedIdentity.deserializeBinary(sig.getCreator_asU8());
        const code = filter[i] ?? 255;
        out.push({
          txId: ch.getTxId(),
          blockNumber: number,
          valid: code === 0,
          validationCode: code,
          creatorMspId: creator.getMspid(),
          creatorCertPem: Buffer.from(creator.getIdBytes_asU8()).toString('utf8'),
          fn: invokedFunction(payload),
          timestamp: ch.getTimestamp()?.getSeconds() ?? 0,
          timestampMs: (ch.getTimestamp()?.getSeconds() ?? 0) * 1000 + Math.floor((ch.getTimestamp()?.getNanos() ?? 0) / 1e6),
          events: transactionEvents(payload),
          txNum: i,
          ...(opts.rwsets ? { rwset: transactionRwset(payload) } : {}),
        });
      });
      last = number;
      if (number >= toBlock) break;
    }
  } finally {
    clearTimeout(timer);
    blocks.close();
    conn.close();
  }
  if (last < toBlock) throw new Error(`read blocks ${fromBlock}..${last} of ${orgName}'s peer, expected up to ${toBlock} within ${timeoutMs} ms`);
  return out;
}

const normPem = (pem: string) => pem.replace(/\r/g, '').trim();

/** The valid transactions in blocks `from..to` signed with this certificate. */
export async function validTxsSignedBy(orgName: string, certPem: string, fromBlock: number, toBlock: number): Promise<LedgerTx[]> {
  const txs = await scanTransactions(orgName, fromBlock, toBlock);
  return txs.filter((t) => t.valid && normPem(t.creatorCertPem) === normPem(certPem));
}

/**
 * Every valid transaction that may have delivered the meter's readings from `fromBlock` to `toBlock`:
 * signed by its certificate (its own transactions), or a relayed batch of its utility
 * (`meters:relayReadings`, signed by the operator; docs/market.md "Relayed readings"). The suites run on
 * a quiet network (no community), so the utility's relayed batches in the range are the suite's own.
 */
export async function validDeliveriesFor(orgName: string, certPem: string, fromBlock: number, toBlock: number): Promise<LedgerTx[]> {
  const mspId = org(loadNetwork(), orgName).mspId;
  const txs = await scanTransactions(orgName, fromBlock, toBlock);
  return txs.filter((t) => t.valid && (normPem(t.creatorCertPem) === normPem(certPem) || (t.creatorMspId === mspId && t.fn.endsWith('/meters:relayReadings'))));
}

/**
 * A block number at or above every commit so far: a marker meter posts its next reading synchronously
 * and the commit's block is returned. Scanning up to it covers everything committed before the call.
 */
export class BlockCeiling {
  private next = 0;
  /** the marker's own transactions (relayed batches of its utility, or its own) */
  readonly txIds = new Set<string>();
  private readonly series = readingSeries(96, { endBeforeNowSeconds: 7200 });
  private constructor(private readonly meter: EnrolledMeter) {}

  static async create(gw: GatewayDescriptor, name: string): Promise<BlockCeiling> {
    return new BlockCeiling(await enrolMeter(gw, name, 'marker'));
  }

  async block(): Promise<number> {
    const r = this.series[this.next++];
    const res = await this.meter.client.post(`/api/v1/meters/${this.meter.meterId}/readings?sync=true`, r);
    expectStatus(res, 200);
    this.txIds.add(res.body.txId as string);
    return res.body.blockNumber as number;
  }
}

/**
 * `txId` is a valid `meters:relayReadings` transaction in `blockNumber`, signed by the utility's own
 * operator (the user the gateway acts with, network.json) — a reading relayed in a cross-meter batch,
 * signed inside it by the meter's key (docs/market.md "Relayed readings").
 */
export async function expectRelayedBy(orgName: string, txId: string, blockNumber: number): Promise<void> {
  const txs = await scanTransactions(orgName, blockNumber, blockNumber);
  const tx = txs.find((t) => t.txId === txId);
  if (!tx) throw new Error(`tx ${txId} is not in block ${blockNumber} (block holds ${txs.map((t) => t.txId).join(', ')})`);
  if (!tx.valid) throw new Error(`tx ${txId} in block ${blockNumber} has validation code ${tx.validationCode}`);
  if (!tx.fn.endsWith('/meters:relayReadings')) throw new Error(`tx ${txId} invoked ${tx.fn}, not meters:relayReadings`);
  const o = org(loadNetwork(), orgName);
  const operatorCert = readFileSync(o.users[clientUserName(o)]!.certPath, 'utf8');
  if (tx.creatorMspId !== o.mspId || normPem(tx.creatorCertPem) !== normPem(operatorCert)) throw new Error(`tx ${txId} was not signed by ${orgName}'s operator`);
}

/** Evaluates (never commits) `meters:relayReadings` as `orgName`'s operator: the chaincode's verdicts. */
export async function evaluateRelay(orgName: string, entries: unknown[]): Promise<{ results: Array<Record<string, unknown>> }> {
  const net = loadNetwork();
  const conn = connectOrg(org(net, orgName));
  try {
    const contract = conn.gateway.getNetwork(net.channel).getContract('gridledger');
    const bytes = await contract.evaluate('meters:relayReadings', { arguments: [''], transientData: { relay: JSON.stringify({ entries }) } });
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as { results: Array<Record<string, unknown>> };
  } finally {
    conn.close();
  }
}

/** The transaction is in block `blockNumber`, valid, and signed with exactly this certificate. */
export async function expectCommittedBy(orgName: string, certPem: string, txId: string, blockNumber: number): Promise<void> {
  const txs = await scanTransactions(orgName, blockNumber, blockNumber);
  const tx = txs.find((t) => t.txId === txId);
  if (!tx) throw new Error(`tx ${txId} is not in block ${blockNumber} (block holds ${txs.map((t) => t.txId).join(', ')})`);
  if (!tx.valid) throw new Error(`tx ${txId} in block ${blockNumber} has validation code ${tx.validationCode}`);
  if (normPem(tx.creatorCertPem) !== normPem(certPem)) throw new Error(`tx ${txId} was signed by another certificate`);
}

/** A community member this suite created, with the meter key that acts for it (kept in the home for re-runs). */
