/**
 * Fabric's gateway.Gateway service as one org's peer runs it (P§1, P§6; F internal/pkg/gateway):
 * Evaluate, Endorse (multi-org, payload byte-compare, prepared transaction assembly), Submit (to the
 * orderer), CommitStatus (Readers ACL, waits for the commit) and ChaincodeEvents (server stream).
 * Every failure carries Fabric's gRPC code, message and ErrorDetail trailer so the real
 * @hyperledger/fabric-gateway client raises the same errors as against Fabric.
 */
import * as grpc from '@grpc/grpc-js';
import { common, discovery, gateway, peer } from '@hyperledger/fabric-protos';
import type { ChaincodeConfig } from '@gridledger/protocol';
import type { LedgerStore, TxStatus } from '../ledger';
import type { CommitNotifier } from '../peer/commitNotifier';
import type { BroadcastResult } from '../orderer/orderer';
import type { ChannelMsp, PeerIdentity, PolicyEvaluator } from '../peer/deps';
import { Endorser, EndorsementOutcome, ProposalRejectedError } from '../peer/endorser';
import { ProposalFormatError, UnpackedProposal, unpackSignedProposal } from '../peer/proposal';
import { assembleTransaction } from '../peer/transaction';
import { EndpointDetail, GatewayRpcError, rpcError, toServiceError } from './errors';
import type { DeliverService } from './deliverService';
import type { DiscoveryService } from './discoveryService';
import { endorserHandlers, RAW_ENDORSER_SERVICE } from './endorserService';
import { completeLayout, eligiblePeers, requiredPolicies } from './plan';
import { guardStreamResetBudget } from './resetBudget';
import { present } from '../present';

export interface GatewayPeer {
  endorser: Endorser;
  mspId: string;
  /** host:port shown in ErrorDetail.address */
  address: string;
  /** the peer's own identity (for planning which orgs satisfy a policy) */
  identity: PeerIdentity;
}

export interface GatewayServiceOptions {
  channel: string;
  local: GatewayPeer;
  /** every org's peer, local included, in network order */
  peers: GatewayPeer[];
  chaincodes: ReadonlyMap<string, ChaincodeConfig>;
  policies: PolicyEvaluator;
  msp: ChannelMsp;
  ledger: LedgerStore;
  /** wakes CommitStatus waiters and event streams after each committed block */
  notifier: CommitNotifier<TxStatus>;
  orderer: { broadcast(envelope: Uint8Array): BroadcastResult };
  /** Fabric's peer.gateway.endorsementTimeout (default 10 s) for Evaluate and Endorse */
  endorsementTimeoutMs?: number;
}

/** Rejects with DEADLINE_EXCEEDED and `message` if `p` has not settled by `deadline` (epoch ms). */
function beforeDeadline<T>(p: Promise<T>, deadline: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(rpcError(grpc.status.DEADLINE_EXCEEDED, message)), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

const S = grpc.status;
const READER_ROLES = new Set(['admin', 'peer', 'client']);
const READERS_ACL_ERROR =
  "failed evaluating policy on signed data during check policy [/Channel/Application/Readers]: [implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Readers' sub-policies to be satisfied]";
const statusNames = new Map<number, string>(Object.entries(common.Status).map(([k, v]) => [v as number, k]));

type Classified =
  | { ok: true; outcome: EndorsementOutcome }
  | { ok: false; message: string; retry: boolean; rejected: boolean; chaincode: boolean };

export class GatewayService {
  private closed = false;
  private readonly closers = new Set<() => void>();

  private readonly timeoutMs: number;

  constructor(private readonly opts: GatewayServiceOptions) {
    this.timeoutMs = opts.endorsementTimeoutMs ?? 10_000;
  }

  /** grpc-js handlers for gateway.GatewayService */
  handlers(): grpc.UntypedServiceImplementation {
    const unary = <Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> =>
      (call, callback) => {
        fn(call.request, call).then(
          (res) => callback(null, res),
          (err) => callback(toServiceError(err) as grpc.ServiceError),
        );
      };
    return {
      evaluate: unary((req: gateway.EvaluateRequest) => this.evaluate(req)),
      endorse: unary((req: gateway.EndorseRequest) => this.endorse(req)),
      submit: unary((req: gateway.SubmitRequest) => this.submit(req)),
      commitStatus: unary((req: gateway.SignedCommitStatusRequest, call) => this.commitStatus(req, call)),
      chaincodeEvents: (call: grpc.ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>) => {
        this.chaincodeEvents(call).catch((err) => {
          // grpc-js ends a server stream with this status when 'error' is emitted
          if (!call.cancelled) call.emit('error', toServiceError(err));
        });
      },
    };
  }

  /** Ends waiting CommitStatus calls and event streams (shutdown). */
  close(): void {
    this.closed = true;
    for (const c of [...this.closers]) c();
  }

  // ---------------------------------------------------------------- Evaluate
  async evaluate(req: gateway.EvaluateRequest | undefined): Promise<gateway.EvaluateResponse> {
    if (!req) throw rpcError(S.INVALID_ARGUMENT, 'an evaluate request is required');
    const sp = req.getProposedTransaction();
    if (!sp || sp.getProposalBytes_asU8().length === 0) {
      throw rpcError(S.INVALID_ARGUMENT, 'failed to unpack transaction proposal: a signed proposal is required');
    }
    const spBytes = sp.serializeBinary();
    const up = this.unpack(spBytes, 'failed to unpack transaction proposal: ');
    if (up.channelId !== this.opts.channel) {
      throw rpcError(S.UNAVAILABLE, `failed to get config for channel [${up.channelId}]: could not get last config for channel ${up.channelId}`);
    }
    if (!this.opts.chaincodes.has(up.chaincodeName)) {
      throw rpcError(S.FAILED_PRECONDITION, `no peers available to evaluate chaincode ${up.chaincodeName} in channel ${up.channelId}`);
    }
    const targets = req.getTargetOrganizationsList();
    let candidates: GatewayPeer[];
    if (targets.length > 0) candidates = this.opts.peers.filter((p) => targets.includes(p.mspId));
    else if (up.transient.size > 0) candidates = [this.opts.local];
    else candidates = [this.opts.local, ...this.opts.peers.filter((p) => p !== this.opts.local)];
    if (candidates.length === 0) {
      throw rpcError(S.FAILED_PRECONDITION, `no peers available to evaluate chaincode ${up.chaincodeName} in channel ${up.channelId}`);
    }
    const details: EndpointDetail[] = [];
    const deadline = Date.now() + this.timeoutMs;
    for (const p of candidates) {
      const r = await beforeDeadline(this.call(p, spBytes, true), deadline, 'evaluate timeout expired');
      if (r.ok) {
        const result = r.outcome.response.getResponse() ?? new peer.Response();
        result.setPayload(r.outcome.result ?? chaincodeResponsePayload(r.outcome.response));
        const res = new gateway.EvaluateResponse();
        res.setResult(result);
        return res;
      }
      details.push(this.detail(p, r.message));
      if (r.rejected) throw rpcError(S.FAILED_PRECONDITION, `evaluate call to endorser returned error: ${r.message}`, details);
      if (r.chaincode) throw rpcError(S.UNKNOWN, `evaluate call to endorser returned error: ${r.message}`, details);
    }
    throw rpcError(S.ABORTED, 'failed to evaluate transaction, see attached details for more info', details);
  }

  // ---------------------------------------------------------------- Endorse
  async endorse(req: gateway.EndorseRequest | undefined): Promise<gateway.EndorseResponse> {
    if (!req) throw rpcError(S.INVALID_ARGUMENT, 'an endorse request is required');
    const sp = req.getProposedTransaction();
    if (!sp || sp.getProposalBytes_asU8().length === 0) {
      throw rpcError(S.INVALID_ARGUMENT, 'the proposed transaction must contain a signed proposal');
    }
    const spBytes = sp.serializeBinary();
    const up = this.unpack(spBytes, '');
    const cc = this.opts.chaincodes.get(up.chaincodeName);
    if (up.channelId !== this.opts.channel || !cc) {
      throw rpcError(
        S.FAILED_PRECONDITION,
        `no combination of peers can be derived which satisfy the endorsement policy: No metadata was found for chaincode ${up.chaincodeName} in channel ${up.channelId}`,
      );
    }
    const orgs = req.getEndorsingOrganizationsList();
    const endorsements: peer.Endorsement[] = [];
    let firstPayload: Buffer;
    const details: EndpointDetail[] = [];
    const deadline = Date.now() + this.timeoutMs;
    const collecting = 'endorsement timeout expired while collecting endorsements';

    if (orgs.length > 0) {
      // Explicit orgs: one peer per org, all in parallel, no policy reasoning (P§1.2.2, §1.2.4).
      const missing = orgs.filter((o) => !this.opts.peers.some((p) => p.mspId === o));
      if (missing.length > 0) throw rpcError(S.UNAVAILABLE, `failed to find any endorsing peers for org(s): ${missing.join(', ')}`);
      const chosen = orgs.map((o) => this.opts.peers.find((p) => p.mspId === o)!);
      const results = await beforeDeadline(Promise.all(chosen.map((p) => this.call(p, spBytes, false))), deadline, collecting);
      let first: Buffer | undefined;
      results.forEach((r, i) => {
        const p = present(chosen[i], 'the peer of result i');
        if (!r.ok) return void details.push(this.detail(p, r.message));
        const payload = Buffer.from(r.outcome.response.getPayload_asU8());
        if (!first) first = payload;
        else if (!payload.equals(first)) return void details.push(this.detail(p, 'ProposalResponsePayloads do not match'));
        endorsements.push(r.outcome.response.getEndorsement()!);
      });
      if (details.length > 0 || !first) {
        throw rpcError(S.ABORTED, 'failed to collect enough transaction endorsements, see attached details for more info', details);
      }
      firstPayload = first;
    } else {
      const local = this.opts.local;
      const r = await beforeDeadline(this.call(local, spBytes, false), deadline, 'endorsement timeout expired while collecting first endorsement');
      if (!r.ok) throw rpcError(S.ABORTED, 'failed to endorse transaction, see attached details for more info', [this.detail(local, r.message)]);
      firstPayload = Buffer.from(r.outcome.response.getPayload_asU8());
      endorsements.push(r.outcome.response.getEndorsement()!);
      const touched = r.outcome.collections.filter((c) => c.ns === cc.name);
      const planInput = {
        chaincode: cc,
        collections: [...new Set(touched.map((c) => c.coll))],
        privateReads: touched.some((c) => c.privateReads),
        hasTransientData: up.transient.size > 0,
        policies: this.opts.policies,
        keyPolicies: r.outcome.keyPolicies,
        disregardNamespacePolicy: r.outcome.disregardNamespacePolicy,
      };
      const policies = requiredPolicies(planInput);
      const others = (protect: boolean): GatewayPeer[] => eligiblePeers(this.opts.peers, planInput, protect).filter((p) => p !== local);
      let remaining = others(true);
      const have: PeerIdentity[] = [local.identity];
      if (!completeLayout(have, remaining, policies, this.opts.policies)) {
        // Unsatisfiable only because of the transient-data caution? Fabric says so explicitly.
        const protectedCollections = planInput.hasTransientData && !planInput.privateReads ? planInput.collections : [];
        if (protectedCollections.length > 0 && completeLayout(have, others(false), policies, this.opts.policies)) {
          throw rpcError(
            S.FAILED_PRECONDITION,
            `requires endorsement from organisation(s) that are not in the distribution policy of the private data collection(s): [${protectedCollections.join(' ')}]; retry specifying trusted endorsing organizations to protect transient data`,
          );
        }
        throw rpcError(
          S.FAILED_PRECONDITION,
          // discovery's text (fabric#3328)
          'no combination of peers can be derived which satisfy the endorsement policy: no peer combination can satisfy the endorsement policy',
        );
      }
      // Call the smallest completing set in parallel; on failures fall back to other layouts.
      for (;;) {
        const next = completeLayout(have, remaining, policies, this.opts.policies);
        if (!next) throw rpcError(S.ABORTED, 'failed to collect enough transaction endorsements, see attached details for more info', details);
        if (next.length === 0) break;
        remaining = remaining.filter((p) => !next.includes(p));
        const results = await beforeDeadline(Promise.all(next.map((p) => this.call(p, spBytes, false))), deadline, collecting);
        results.forEach((res, i) => {
          const p = present(next[i], 'the peer of result i');
          if (!res.ok) return void details.push(this.detail(p, res.message));
          if (!Buffer.from(res.outcome.response.getPayload_asU8()).equals(firstPayload)) {
            return void details.push(this.detail(p, 'ProposalResponsePayloads do not match'));
          }
          endorsements.push(res.outcome.response.getEndorsement()!);
          have.push(p.identity);
        });
      }
    }
    const env = assembleTransaction(up, firstPayload, endorsements);
    const res = new gateway.EndorseResponse();
    res.setPreparedTransaction(env);
    return res;
  }

  // ---------------------------------------------------------------- Submit
  async submit(req: gateway.SubmitRequest | undefined): Promise<gateway.SubmitResponse> {
    if (!req) throw rpcError(S.INVALID_ARGUMENT, 'a submit request is required');
    const env = req.getPreparedTransaction();
    if (!env) throw rpcError(S.INVALID_ARGUMENT, 'a prepared transaction is required');
    if (env.getSignature_asU8().length === 0) throw rpcError(S.INVALID_ARGUMENT, 'prepared transaction must be signed');
    const ch = req.getChannelId();
    if (ch !== this.opts.channel) {
      throw rpcError(S.FAILED_PRECONDITION, `failed to get config for channel [${ch}]: could not get last config for channel ${ch}`);
    }
    const r = this.opts.orderer.broadcast(env.serializeBinary());
    if (r.status === common.Status.SUCCESS) return new gateway.SubmitResponse();
    const text = `received unsuccessful response from orderer: status=${statusNames.get(r.status) ?? r.status}, info=${r.info}`;
    if (r.status >= 400 && r.status < 500) throw rpcError(S.ABORTED, text);
    // Fabric lists only transport failures as details; a 5xx status just moves on to the next orderer.
    throw rpcError(S.UNAVAILABLE, 'no orderers could successfully process transaction');
  }

  // ---------------------------------------------------------------- CommitStatus
  async commitStatus(
    signed: gateway.SignedCommitStatusRequest | undefined,
    call: grpc.ServerUnaryCall<gateway.SignedCommitStatusRequest, gateway.CommitStatusResponse>,
  ): Promise<gateway.CommitStatusResponse> {
    if (!signed || signed.getRequest_asU8().length === 0) throw rpcError(S.INVALID_ARGUMENT, 'a commit status request is required');
    let req: gateway.CommitStatusRequest;
    try {
      req = gateway.CommitStatusRequest.deserializeBinary(signed.getRequest_asU8());
    } catch (err) {
      throw rpcError(S.INVALID_ARGUMENT, `invalid status request: ${(err as Error).message}`);
    }
    if (req.getIdentity_asU8().length === 0) throw rpcError(S.INVALID_ARGUMENT, 'no identity provided');
    if (!req.getChannelId()) throw rpcError(S.INVALID_ARGUMENT, 'no channel ID provided');
    if (!req.getTransactionId()) throw rpcError(S.INVALID_ARGUMENT, 'transaction ID should not be empty');
    this.checkReaders(req.getChannelId(), req.getIdentity_asU8(), signed.getRequest_asU8(), signed.getSignature_asU8());
    const txId = req.getTransactionId();
    if (this.closed) throw rpcError(S.UNAVAILABLE, 'peer is shutting down');
    const wait = this.opts.notifier.waitForTx(txId);
    let onClose: (() => void) | undefined;
    const ended = new Promise<never>((_, reject) => {
      onClose = () => reject(rpcError(S.UNAVAILABLE, 'peer is shutting down'));
      this.closers.add(onClose);
      call.on('cancelled', () => reject(rpcError(S.CANCELLED, 'context canceled')));
    });
    try {
      const st = await Promise.race([wait.promise, ended]);
      const res = new gateway.CommitStatusResponse();
      res.setResult(st.code as peer.TxValidationCodeMap[keyof peer.TxValidationCodeMap]);
      res.setBlockNumber(st.blockNum);
      return res;
    } catch (err) {
      if (err instanceof GatewayRpcError) throw err;
      throw rpcError(S.ABORTED, (err as Error).message);
    } finally {
      wait.cancel();
      if (onClose) this.closers.delete(onClose);
      ended.catch(() => undefined); // settled later by cancel/shutdown or never: not an unhandled rejection
    }
  }

  // ---------------------------------------------------------------- ChaincodeEvents
  private async chaincodeEvents(call: grpc.ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>): Promise<void> {
    const signed = call.request;
    if (!signed || signed.getRequest_asU8().length === 0) throw rpcError(S.INVALID_ARGUMENT, 'a chaincode events request is required');
    let req: gateway.ChaincodeEventsRequest;
    try {
      req = gateway.ChaincodeEventsRequest.deserializeBinary(signed.getRequest_asU8());
    } catch (err) {
      throw rpcError(S.INVALID_ARGUMENT, `invalid chaincode events request: ${(err as Error).message}`);
    }
    this.checkReaders(req.getChannelId(), req.getIdentity_asU8(), signed.getRequest_asU8(), signed.getSignature_asU8());
    const ledger = this.opts.ledger;
    const chaincodeId = req.getChaincodeId();
    let next: number;
    const after = req.getAfterTransactionId();
    const afterStatus = after ? await ledger.getTxStatus(after) : undefined;
    // Fabric's matcher (chaincodeevents.go chaincodeEventMatcher): with after_transaction_id, every
    // event is skipped until one carrying that txid has gone by — whichever chaincode emitted it.
    let passedAfterTx = after === '';
    const isMatch = (e: { chaincodeId: string; txId: string }): boolean => {
      if (!passedAfterTx) {
        if (e.txId === after) passedAfterTx = true;
        return false;
      }
      return e.chaincodeId === chaincodeId;
    };
    if (afterStatus) {
      next = afterStatus.blockNum;
    } else {
      const pos = req.getStartPosition();
      const kind = pos?.getTypeCase() ?? 0;
      if (!pos || kind === 0 || pos.hasNextCommit()) next = ledger.height();
      else if (pos.hasSpecified()) next = pos.getSpecified()!.getNumber();
      else throw rpcError(S.INVALID_ARGUMENT, `invalid start position type: ${kind}`);
    }
    let wake: (() => void) | undefined;
    let ended = false;
    const end = (): void => {
      ended = true;
      wake?.();
    };
    const unsubscribe = this.opts.notifier.onBlock(() => wake?.());
    this.closers.add(end);
    call.on('cancelled', end);
    try {
      while (!ended) {
        if (next >= ledger.height()) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            if (ended || next < ledger.height()) resolve();
          });
          wake = undefined;
          continue;
        }
        // Only complete events count (F event/transaction.go), then the matcher, in transaction order.
        const events = (await ledger.getBlockEvents(next)).filter((e) => e.chaincodeId !== '' && e.eventName !== '' && e.txId !== '').filter(isMatch);
        if (events.length > 0 && !ended) {
          const res = new gateway.ChaincodeEventsResponse();
          res.setBlockNumber(next);
          res.setEventsList(
            events.map((e) => {
              const ev = new peer.ChaincodeEvent();
              ev.setChaincodeId(e.chaincodeId);
              ev.setTxId(e.txId);
              ev.setEventName(e.eventName);
              ev.setPayload(e.payload);
              return ev;
            }),
          );
          call.write(res);
        }
        next += 1;
      }
      if (this.closed && !call.cancelled) throw rpcError(S.UNAVAILABLE, 'peer is shutting down');
    } finally {
      unsubscribe();
      this.closers.delete(end);
    }
  }

  // ---------------------------------------------------------------- helpers
  /** Evaluate prefixes unpack errors with "failed to unpack transaction proposal: ", Endorse does not (F evaluate.go, endorse.go). */
  private unpack(spBytes: Uint8Array, prefix: string): UnpackedProposal {
    let up: UnpackedProposal;
    try {
      up = unpackSignedProposal(spBytes);
    } catch (err) {
      const msg = err instanceof ProposalFormatError ? err.message : String(err);
      throw rpcError(S.INVALID_ARGUMENT, `${prefix}${msg}`);
    }
    if (!up.channelId) throw rpcError(S.INVALID_ARGUMENT, `${prefix}no channel id provided`);
    if (!up.chaincodeName) throw rpcError(S.INVALID_ARGUMENT, `${prefix}no chaincode name is provided, channel id [${up.channelId}]`);
    return up;
  }

  /** Fabric's responseStatus (F apiutils.go): success, peer error (retry), chaincode error, rejection. */
  private async call(p: GatewayPeer, spBytes: Uint8Array, readOnly: boolean): Promise<Classified> {
    let outcome: EndorsementOutcome;
    try {
      outcome = await p.endorser.processProposal(spBytes, readOnly);
    } catch (err) {
      if (err instanceof ProposalRejectedError) return { ok: false, message: err.message, retry: false, rejected: true, chaincode: false };
      return { ok: false, message: (err as Error).message, retry: true, rejected: false, chaincode: false };
    }
    const resp = outcome.response.getResponse();
    const status = resp?.getStatus() ?? 500;
    if (status < 200 || status >= 400) {
      if (outcome.response.getPayload_asU8().length === 0 && status === 500) {
        return { ok: false, message: resp?.getMessage() ?? '', retry: true, rejected: false, chaincode: false };
      }
      return { ok: false, message: `chaincode response ${status}, ${resp?.getMessage() ?? ''}`, retry: false, rejected: false, chaincode: true };
    }
    return { ok: true, outcome };
  }

  private detail(p: GatewayPeer, message: string): EndpointDetail {
    return { address: p.address, mspId: p.mspId, message };
  }

  /** ACL gateway/CommitStatus and gateway/ChaincodeEvents = /Channel/Application/Readers. */
  private checkReaders(channel: string, identity: Uint8Array, data: Uint8Array, signature: Uint8Array): void {
    if (channel !== this.opts.channel) throw rpcError(S.PERMISSION_DENIED, `Failed to get policy manager for channel [${channel}]`);
    let id: PeerIdentity;
    try {
      id = this.opts.msp.deserialize(identity);
    } catch {
      throw rpcError(S.PERMISSION_DENIED, READERS_ACL_ERROR);
    }
    if (!this.opts.msp.verify(id, data, signature) || !READER_ROLES.has(id.role)) throw rpcError(S.PERMISSION_DENIED, READERS_ACL_ERROR);
  }
}

/** ChaincodeAction.response.payload from the ProposalResponsePayload (F evaluate.go getResultFromProposalResponse). */
function chaincodeResponsePayload(pr: peer.ProposalResponse): Uint8Array {
  const prp = peer.ProposalResponsePayload.deserializeBinary(pr.getPayload_asU8());
  const action = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
  return action.getResponse()?.getPayload_asU8() ?? new Uint8Array(0);
}

export interface GatewayServerOptions {
  host: string;
  port: number;
  tlsCertPem: string;
  tlsKeyPem: string;
  service: GatewayService;
  /** protos.Deliver on the same endpoint, as on a Fabric peer */
  deliver?: DeliverService;
  /** protos.Endorser (ProcessProposal) of this org's peer */
  endorser?: Endorser;
  /** discovery.Discovery */
  discovery?: DiscoveryService;
}

/** Starts a TLS grpc-js server offering gateway.Gateway (and the peer's other services given); resolves with the bound port. */
export async function startGatewayServer(o: GatewayServerOptions): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 100 * 1024 * 1024,
    'grpc.max_send_message_length': 100 * 1024 * 1024,
    // channelz bookkeeping costs CPU on every call and nothing reads it
    'grpc.enable_channelz': 0,
  });
  server.addService(gateway.GatewayService, o.service.handlers());
  if (o.deliver) server.addService(peer.DeliverService, o.deliver.handlers());
  if (o.endorser) server.addService(RAW_ENDORSER_SERVICE, endorserHandlers(o.endorser));
  if (o.discovery) server.addService(discovery.DiscoveryService, o.discovery.handlers());
  const creds = grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(o.tlsKeyPem), cert_chain: Buffer.from(o.tlsCertPem) }], false);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${o.host}:${o.port}`, creds, (err, p) => {
      if (!err) return resolve(p);
      // grpc-js wraps the listen error in prose; surface the usual code so callers can say why.
      if (/EADDRINUSE/.test(err.message)) {
        return reject(Object.assign(new Error(`listen EADDRINUSE: address already in use ${o.host}:${o.port}`), { code: 'EADDRINUSE' }));
      }
      reject(err);
    });
  });
  // grpc-js ≤ 1.10.3 clients reset every finished stream; see resetBudget.ts
  guardStreamResetBudget(server);
  return { server, port };
}
