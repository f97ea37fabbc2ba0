import crypto from 'node:crypto';
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { connect, type Contract, type Gateway } from '@hyperledger/fabric-gateway';
import { gateway as gatewayProto, msp } from '@hyperledger/fabric-protos';
import { LedgerError, normalizeLedgerError, type LedgerStage } from './errors';
import type { OrgDescriptor } from './network';
import { newGatewaySigning } from './signer';

/** An identity the gateway signs with: the org's operator/regulator, or an enrolled meter from the wallet. */
export interface ActingIdentity {
  /** stable cache key, e.g. `operator` or `meter:m-17` */
  key: string;
  mspId: string;
  certPem: string;
  privateKeyPem: string;
}

export interface PreparedTx {
  txId: string;
  /** fabric-gateway PreparedTransaction bytes (endorsed; signed again identically-identified on each send) */
  bytes: Uint8Array;
  result: Uint8Array;
}

export interface CommittedTx {
  txId: string;
  blockNumber: number;
  result: Uint8Array;
}

/** One chaincode event (Fabric keeps at most one per transaction; ours is `gridledger` with a batch of named events). */
export interface LedgerEvent {
  blockNumber: number;
  txId: string;
  eventName: string;
  payload: Uint8Array;
}

/** A live stream of chaincode events in ledger order; `close()` ends the iteration. */
export interface EventStream extends AsyncIterable<LedgerEvent> {
  close(): void;
}

/**
 * Where a stream starts: `startBlock` (default: the next block to be committed); with `afterTxId` the
 * events of `startBlock` up to and including that transaction are skipped (Fabric's checkpoint semantics).
 */
export interface EventStreamOptions {
  startBlock?: number;
  afterTxId?: string;
}

/** What the rest of the gateway needs from Fabric. Unit tests inject a fake; production uses FabricLedger. */
export interface LedgerClient {
  evaluate(id: ActingIdentity, fn: string, args: string[]): Promise<Uint8Array>;
  /**
   * Builds, signs and endorses a new proposal (a new tx id). Nothing is sent to the orderer.
   * `transient` data reaches the chaincode but is never written to the block (private inputs).
   */
  endorse(id: ActingIdentity, fn: string, args: string[], transient?: Record<string, string>): Promise<PreparedTx>;
  /** Sends an endorsed transaction to the orderer and waits (with a deadline) for its commit status. Re-sending the same bytes is safe. */
  submitPrepared(id: ActingIdentity, bytes: Uint8Array): Promise<CommittedTx>;
  /** True if the peer's gateway endpoint accepts a connection within the deadline. */
  reachable(timeoutMs: number): Promise<boolean>;
  /** Chaincode events of this gateway's chaincode, read with the given identity (fabric-gateway getChaincodeEvents). */
  chaincodeEvents(id: ActingIdentity, opts: EventStreamOptions): Promise<EventStream>;
  forget(key: string): void;
  close(): void;
}

export interface FabricLedgerOptions {
  org: OrgDescriptor;
  channel: string;
  chaincode: string;
  timeouts: { evaluateMs: number; endorseMs: number; submitMs: number; commitStatusMs: number };
  /**
   * MSP IDs to endorse proposals that carry transient data. Without it Fabric's gateway endorses such
   * proposals only on members of the collections the chaincode touched, which cannot satisfy a
   * chaincode-level MAJORITY policy when the collection belongs to one utility (docs in gateway/README.md).
   */
  transientEndorsers?: string[];
}

export function newGrpcClient(org: OrgDescriptor): grpc.Client {
  const tlsRoot = fs.readFileSync(org.peer.tlsRootCertPath);
  return new grpc.Client(org.peer.endpoint, grpc.credentials.createSsl(tlsRoot), {
    'grpc.ssl_target_name_override': org.peer.hostAlias,
    'grpc.default_authority': org.peer.hostAlias,
  });
}

/** How long a failed send waits for the peer to report the transaction as committed anyway. */
const PROBE_MS = 3_000;

/** @hyperledger/fabric-gateway over one TLS gRPC connection to the org's peer; one Gateway per acting identity. */
export class FabricLedger implements LedgerClient {
  private readonly client: grpc.Client;
  private readonly gateways = new Map<string, { gateway: Gateway; contract: Contract }>();

  constructor(private readonly opts: FabricLedgerOptions) {
    this.client = newGrpcClient(opts.org);
  }

  private contractFor(id: ActingIdentity): { gateway: Gateway; contract: Contract } {
    let entry = this.gateways.get(id.key);
    if (!entry) {
      const t = this.opts.timeouts;
      // node:crypto ECDSA for P-256 keys (low-S, DER; signer.ts), fabric-gateway's signer otherwise
      const { signer, hash } = newGatewaySigning(crypto.createPrivateKey(id.privateKeyPem));
      const gateway = connect({
        client: this.client,
        identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) },
        signer,
        hash,
        evaluateOptions: () => ({ deadline: Date.now() + t.evaluateMs }),
        endorseOptions: () => ({ deadline: Date.now() + t.endorseMs }),
        submitOptions: () => ({ deadline: Date.now() + t.submitMs }),
        // CommitStatus waits forever for an unknown tx id (devnet-protocol.md §8.13): always a deadline.
        commitStatusOptions: () => ({ deadline: Date.now() + t.commitStatusMs }),
      });
      const contract = gateway.getNetwork(this.opts.channel).getContract(this.opts.chaincode);
      entry = { gateway, contract };
      this.gateways.set(id.key, entry);
    }
    return entry;
  }

  private async call<T>(stage: LedgerStage, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw normalizeLedgerError(e, stage);
    }
  }

  evaluate(id: ActingIdentity, fn: string, args: string[]): Promise<Uint8Array> {
    return this.call('evaluate', () => this.contractFor(id).contract.evaluate(fn, { arguments: args }));
  }

  async endorse(id: ActingIdentity, fn: string, args: string[], transient?: Record<string, string>): Promise<PreparedTx> {
    const { contract } = this.contractFor(id);
    const transientData = transient ? Object.fromEntries(Object.entries(transient).map(([k, v]) => [k, Buffer.from(v, 'utf8')])) : undefined;
    const orgs = transientData && this.opts.transientEndorsers?.length ? { endorsingOrganizations: this.opts.transientEndorsers } : {};
    const tx = await this.call('endorse', () => contract.newProposal(fn, { arguments: args, ...(transientData ? { transientData } : {}), ...orgs }).endorse());
    return { txId: tx.getTransactionId(), bytes: tx.getBytes(), result: tx.getResult() };
  }

  async submitPrepared(id: ActingIdentity, bytes: Uint8Array): Promise<CommittedTx> {
    const { gateway } = this.contractFor(id);
    const tx = gateway.newTransaction(bytes);
    const txId = tx.getTransactionId();
    let commit;
    try {
      commit = await this.call('submit', () => tx.submit());
    } catch (e) {
      // A send can fail although the transaction was ordered: after a crash the gateway re-sends what it
      // may already have sent, and SmartBFT orderers refuse a request they already hold or processed
      // ("insufficient number of orderers could successfully process transaction to satisfy quorum
      // requirement") — re-sending would fail until their cache forgets it. So ask the peer first.
      const probed = await this.committedStatus(id, txId, Math.min(PROBE_MS, this.opts.timeouts.commitStatusMs)).catch(() => undefined);
      if (!probed) throw e;
      commit = probed;
    }
    const status = await this.call('commitStatus', () => commit.getStatus());
    if (!status.successful) {
      throw new LedgerError({
        stage: 'commit',
        message: `Transaction ${txId} failed to commit with status code ${status.code}`,
        validationCode: status.code,
        txId,
      });
    }
    return { txId, blockNumber: Number(status.blockNumber), result: tx.getResult() };
  }

  /**
   * The commit of `txId` if the peer has committed it within `waitMs`, else undefined. CommitStatus waits
   * for an unknown tx id, so the deadline bounds the probe. The request names the acting identity as
   * fabric-gateway's own Transaction.submit does (gateway.CommitStatusRequest), signed when sent.
   */
  private async committedStatus(id: ActingIdentity, txId: string, waitMs: number) {
    const { gateway } = this.contractFor(id);
    const creator = new msp.SerializedIdentity();
    creator.setMspid(id.mspId);
    creator.setIdBytes(Buffer.from(id.certPem));
    const request = new gatewayProto.CommitStatusRequest();
    request.setTransactionId(txId);
    request.setChannelId(this.opts.channel);
    request.setIdentity(creator.serializeBinary());
    const signed = new gatewayProto.SignedCommitStatusRequest();
    signed.setRequest(request.serializeBinary());
    const commit = gateway.newCommit(signed.serializeBinary());
    await commit.getStatus({ deadline: Date.now() + waitMs }); // throws DEADLINE_EXCEEDED if not committed
    return commit;
  }

  async chaincodeEvents(id: ActingIdentity, opts: EventStreamOptions): Promise<EventStream> {
    const { gateway } = this.contractFor(id);
    const network = gateway.getNetwork(this.opts.channel);
    const start = opts.startBlock;
    const events = await this.call('evaluate', () =>
      network.getChaincodeEvents(this.opts.chaincode, {
        ...(opts.afterTxId !== undefined && start !== undefined
          ? { checkpoint: { getBlockNumber: () => BigInt(start), getTransactionId: () => opts.afterTxId } }
          : start !== undefined
            ? { startBlock: BigInt(start) }
            : {}),
      }),
    );
    return {
      close: () => events.close(),
      async *[Symbol.asyncIterator]() {
        for await (const e of events) {
          yield { blockNumber: Number(e.blockNumber), txId: e.transactionId, eventName: e.eventName, payload: e.payload };
        }
      },
    };
  }

  reachable(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => resolve(!err));
    });
  }

  forget(key: string): void {
    const entry = this.gateways.get(key);
    if (entry) {
      entry.gateway.close();
      this.gateways.delete(key);
    }
  }

  close(): void {
    for (const { gateway } of this.gateways.values()) gateway.close();
    this.gateways.clear();
    this.client.close();
  }
}
