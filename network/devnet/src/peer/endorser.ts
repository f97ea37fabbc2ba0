/**
 * One org's endorsing peer (P§1.1-1.2, F core/endorser/endorser.go): validates a SignedProposal
 * (header, creator via the channel MSP, low-S signature, Writers ACL, txid, duplicate txid),
 * simulates it on this org's own chaincode connection, and — unless the chaincode answered
 * status ≥ 400 — signs SHA-256(ProposalResponsePayload ‖ endorser) with the org's peer key (ESCC).
 */
import { common, msp as mspProto, peer } from '@hyperledger/fabric-protos';
import type { ChaincodeConfig } from '@gridledger/protocol';
import type { ChannelMsp, PeerIdentity, PeerSigner } from './deps';
import { computeTxId, ProposalFormatError, UnpackedProposal, unpackSignedProposal } from './proposal';
import { signaturePolicyEnvelopeToText } from './keyLevelPolicy';
import { decodeTxRwset, NsRwset } from './rwset';
import type { TransientStore } from './transientStore';
import type { ProposalContext, SimulationResult } from '../chaincode';
import { DEFAULT_CHAINCODE_VERSION } from '../config/chaincodeVersion';

export type { ProposalContext, SimulationResult };

/** What the endorser needs of a ChaincodeRuntime. */
export type ChaincodeExecutor = Pick<import('../chaincode').ChaincodeRuntime, 'execute'>;

/**
 * A proposal rejected before simulation (Fabric returns a 500 response AND an error, which the
 * gateway reports without retrying on another peer, P§6.2).
 */
export class ProposalRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProposalRejectedError';
  }
}

export interface EndorserOptions {
  org: string;
  mspId: string;
  channel: string;
  msp: ChannelMsp;
  signer: PeerSigner;
  chaincodes: ReadonlyMap<string, ChaincodeConfig>;
  runtime(chaincode: string): ChaincodeExecutor | undefined;
  txIdCommitted(txId: string): Promise<boolean>;
  /** committed VALIDATION_PARAMETER of a key, for the ChaincodeInterest's key policies */
  validationParameter?(ns: string, key: string): Promise<Buffer | undefined>;
  transient: TransientStore;
  /**
   * the version of a chaincode's committed definition, written into ChaincodeAction.chaincode_id
   * (config/chaincodeVersion.ts; default: chaincode.sh's fallback `1.0`)
   */
  chaincodeVersion?: (chaincode: string) => string;
  onEndorsed?: (durationMs: number, ok: boolean) => void;
}

export interface EndorsementOutcome {
  response: peer.ProposalResponse;
  /**
   * Collections the simulation read or wrote, per namespace, and whether it read private data there
   * (the gateway's ChaincodeInterest: collection_names, no_private_reads).
   */
  collections: Array<{ ns: string; coll: string; privateReads: boolean }>;
  /**
   * Key-level policies (policy text) of the keys the simulation wrote, and whether every written
   * key has one (then the chaincode policy is not needed: ChaincodeInterest.disregard_namespace_policy).
   */
  keyPolicies: string[];
  disregardNamespacePolicy: boolean;
  /** the ChaincodeInterest as Fabric's endorser returns it (ProposalResponse.interest) */
  interest: InterestCall[];
  proposal: UnpackedProposal;
  /**
   * Read-only (the gateway's Evaluate) and the chaincode answered < 400: its response payload, and
   * `response` carries only the chaincode's Response — no rwset, no ProposalResponsePayload, no
   * endorsement (see simulateAndEndorse).
   */
  result?: Buffer;
}

const WRITERS_ACL_ERROR =
  "failed evaluating policy on signed data during check policy [/Channel/Application/Writers]: [implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Writers' sub-policies to be satisfied]";
const WRITER_ROLES = new Set(['admin', 'client']);
const HEADER_TYPE_NAMES = new Map<number, string>(Object.entries(common.HeaderType).map(([k, v]) => [v as number, k]));

export class Endorser {
  constructor(private readonly opts: EndorserOptions) {}

  get org(): string {
    return this.opts.org;
  }
  get mspId(): string {
    return this.opts.mspId;
  }

  /**
   * ProcessProposal. Throws ProposalRejectedError for validation failures; otherwise returns the
   * ProposalResponse: status 500 without payload for peer-side simulation failures, the
   * chaincode's own ≥400 response (with payload for ≥500) unsigned, or an endorsed response.
   */
  async processProposal(signedProposal: Uint8Array, readOnly = false): Promise<EndorsementOutcome> {
    const started = Date.now();
    let up: UnpackedProposal;
    try {
      up = unpackSignedProposal(signedProposal);
    } catch (err) {
      throw new ProposalRejectedError(err instanceof ProposalFormatError ? err.message : String(err));
    }
    const creator = this.preProcess(up);
    if (await this.opts.txIdCommitted(up.txId)) {
      throw new ProposalRejectedError(`duplicate transaction found [${up.txId}]. Creator [${up.creator.toString('hex')}]`);
    }
    // ACL peer/Propose after the uniqueness check, in Fabric's order
    if (!WRITER_ROLES.has(creator.role)) throw new ProposalRejectedError(WRITERS_ACL_ERROR);
    const outcome = await this.simulateAndEndorse(up, creator, readOnly);
    this.opts.onEndorsed?.(Date.now() - started, outcome.result !== undefined || outcome.response.hasEndorsement());
    return outcome;
  }

  /** F core/endorser: channel lookup, then UnpackedProposal.Validate (msgvalidation.go) in its order and words. */
  private preProcess(up: UnpackedProposal): PeerIdentity {
    const ch = this.opts.channel;
    if (up.channelId !== ch) throw new ProposalRejectedError(`channel '${up.channelId}' not found`);
    if (!up.chaincodeName) throw new ProposalRejectedError('ChaincodeHeaderExtension.ChaincodeId.Name is empty');
    const invalid = (why: string): ProposalRejectedError => new ProposalRejectedError(`error validating proposal: ${why}`);
    if (up.headerType !== common.HeaderType.ENDORSER_TRANSACTION && up.headerType !== common.HeaderType.CONFIG) {
      throw invalid(`invalid header type ${HEADER_TYPE_NAMES.get(up.headerType) ?? up.headerType}`);
    }
    if (up.epoch !== 0) throw invalid('epoch is non-zero');
    if (up.nonce.length === 0) throw invalid('nonce is empty');
    if (up.creator.length === 0) throw invalid('creator is empty');
    const expected = computeTxId(up.nonce, up.creator);
    if (expected !== up.txId) throw invalid(`incorrectly computed txid '${up.txId}' -- expected '${expected}'`);
    if (up.proposalBytes.length === 0) throw invalid('empty proposal bytes');
    if (up.signature.length === 0) throw invalid('empty signature bytes');
    let creator: PeerIdentity;
    try {
      creator = this.opts.msp.deserialize(up.creator);
    } catch (err) {
      // Fabric separates "cannot deserialize" from "deserialized but not valid" (chain, NodeOU, CRL).
      const e = err as { kind?: string };
      if (e.kind === 'unknown-msp' || e.kind === 'malformed') throw invalid(`access denied: channel [${ch}] creator org unknown, creator is malformed`);
      throw invalid(`access denied: channel [${ch}] creator org [${creatorMsp(up.creator)}]`);
    }
    if (!this.opts.msp.verify(creator, up.proposalBytes, up.signature)) {
      throw invalid(`access denied: channel [${ch}] creator org [${creator.mspId}]`);
    }
    return creator;
  }

  private async simulateAndEndorse(up: UnpackedProposal, creator: PeerIdentity, readOnly: boolean): Promise<EndorsementOutcome> {
    const fail500 = (message: string): EndorsementOutcome => {
      const r = new peer.Response();
      r.setStatus(500);
      r.setMessage(message);
      const pr = new peer.ProposalResponse();
      pr.setResponse(r);
      return { response: pr, collections: [], keyPolicies: [], disregardNamespacePolicy: false, interest: [], proposal: up };
    };
    const runtime = this.opts.runtime(up.chaincodeName);
    if (!this.opts.chaincodes.has(up.chaincodeName) || !runtime) {
      return fail500(`make sure the chaincode ${up.chaincodeName} has been successfully defined on channel ${this.opts.channel} and try again: chaincode ${up.chaincodeName} not found`);
    }
    let sim: SimulationResult;
    try {
      sim = await runtime.execute({
        org: this.opts.org, mspId: this.opts.mspId, channel: this.opts.channel, chaincode: up.chaincodeName,
        txId: up.txId, signedProposal: up.signedProposal, input: up.input, creator, transient: up.transient, readOnly,
      });
    } catch (err) {
      return fail500(`error in simulation: ${(err as Error).message}`);
    }
    const response = new peer.Response();
    response.setStatus(sim.response.status);
    response.setMessage(sim.response.message);
    response.setPayload(sim.response.payload);
    if (readOnly && sim.response.status < 400) {
      // An evaluation: Fabric's gateway returns the chaincode's response and nothing else of the
      // ProposalResponse (F internal/pkg/gateway/evaluate.go: EvaluateResponse{Result}, the payload
      // from getResultFromProposalResponse — the ChaincodeAction's response, i.e. this one). Its peer
      // still builds, hashes and signs the whole ProposalResponse, which nobody sees; here that work
      // (the rwset, the interest, the ProposalResponsePayload and an ECDSA signature — the agents'
      // reads made this a tenth of the devnet's CPU under bench:market) is skipped. Failures (≥ 400)
      // take the full path below, whose payload tells a chaincode error from a peer error.
      const pr = new peer.ProposalResponse();
      pr.setVersion(1);
      pr.setResponse(response);
      return { response: pr, collections: [], keyPolicies: [], disregardNamespacePolicy: false, interest: [], proposal: up, result: sim.response.payload };
    }
    const ccId = new peer.ChaincodeID();
    ccId.setName(up.chaincodeName);
    ccId.setVersion(this.opts.chaincodeVersion?.(up.chaincodeName) ?? DEFAULT_CHAINCODE_VERSION);
    const action = new peer.ChaincodeAction();
    action.setResults(sim.rwsetBytes);
    if (sim.eventBytes && sim.eventBytes.length > 0) action.setEvents(sim.eventBytes);
    action.setResponse(response);
    action.setChaincodeId(ccId);
    const prp = new peer.ProposalResponsePayload();
    prp.setProposalHash(up.proposalHash);
    prp.setExtension$(action.serializeBinary());
    const prpBytes = Buffer.from(prp.serializeBinary());

    const pr = new peer.ProposalResponse();
    pr.setVersion(1);
    pr.setResponse(response);
    const interest = await this.interestOf(sim.rwsetBytes, up.chaincodeName, sim.privateReads);
    if (sim.response.status >= 400) {
      if (sim.response.status >= 500) pr.setPayload(prpBytes);
      return { response: pr, ...interest, proposal: up };
    }
    pr.setPayload(prpBytes);
    const endorsement = new peer.Endorsement();
    endorsement.setEndorser(this.opts.signer.serialized);
    endorsement.setSignature(this.opts.signer.sign(Buffer.concat([prpBytes, this.opts.signer.serialized])));
    pr.setEndorsement(endorsement);
    if (!readOnly) this.opts.transient.put(up.txId, sim.privateData);
    return { response: pr, ...interest, proposal: up };
  }

  /**
   * The ChaincodeInterest exactly as Fabric v3.1.5 builds it (core/endorser/endorser.go
   * buildChaincodeInterest + parseWritesetMetadata; tx_simulator.go checkStateMetadata), plus the
   * flattened view the gateway plans with:
   *
   * - every namespace WRITTEN (public, metadata or collection writes) starts as "chaincode policy not
   *   required"; a public write to a key without a VALIDATION_PARAMETER makes it required; a key with
   *   one adds its policy to key_policies;
   * - a collection write (the devnet has no private key-level policies) yields its own call
   *   {name, collection_names: [coll], no_private_reads}; so does a private read;
   * - a namespace only READ (public rwset, nothing written) requires the chaincode policy;
   * - the namespace's public call is emitted with key_policies (disregard_namespace_policy when not
   *   required), or plain when required, or NOT AT ALL when neither — a tx that writes only to
   *   collections therefore names only those collections, and discovery plans it with the
   *   collections' endorsement policies alone (discovery/support/chaincode/support.go
   *   PoliciesByChaincode returns only the named collections' policies, the chaincode policy standing
   *   in for a collection without one).
   *
   * Fabric sets no_public_writes nowhere (v3.1.5: only the generated protobuf mentions it); it is
   * not set here either. Fabric counts as a private read only GetPrivateData/private queries
   * (txmgr/query_executor.go privateReads.Add), not GetPrivateDataHash; the devnet rwset cannot tell
   * the two apart, so a hashed read counts as a private read unless the runtime reports
   * `privateReads` itself (conservative: it can only narrow the endorsers to collection members).
   */
  private async interestOf(
    rwsetBytes: Buffer,
    chaincodeName: string,
    privateReadsReported?: Array<{ ns: string; coll: string }>,
  ): Promise<Pick<EndorsementOutcome, 'collections' | 'keyPolicies' | 'disregardNamespacePolicy' | 'interest'>> {
    const empty = { collections: [], keyPolicies: [], disregardNamespacePolicy: false, interest: [] };
    let rwset: NsRwset[];
    try {
      rwset = decodeTxRwset(rwsetBytes);
    } catch {
      return empty;
    }
    const interest: InterestCall[] = [];
    for (const ns of rwset) {
      const publicKeys = [...new Set([...ns.writes.map((w) => w.key), ...ns.metadataWrites.map((m) => m.key)])];
      const writtenColls = ns.collections.filter((c) => c.hashedWrites.length > 0 || c.metadataWrites > 0).map((c) => c.name);
      const privatelyRead = (coll: string): boolean =>
        privateReadsReported
          ? privateReadsReported.some((r) => r.ns === ns.namespace && r.coll === coll)
          : (ns.collections.find((c) => c.name === coll)?.hashedReads.length ?? 0) > 0;
      const readColls = ns.collections.map((c) => c.name).filter(privatelyRead);
      const written = publicKeys.length > 0 || writtenColls.length > 0;
      // parseWritesetMetadata: written namespaces start with "" -> false
      let requireCcPolicy = !written; // a namespace only read needs the chaincode policy
      const keyPolicies = new Set<string>();
      for (const key of publicKeys) {
        const vp = this.opts.validationParameter ? await this.opts.validationParameter(ns.namespace, key) : undefined;
        if (!vp || vp.length === 0) {
          requireCcPolicy = true;
          continue;
        }
        try {
          keyPolicies.add(signaturePolicyEnvelopeToText(vp));
        } catch {
          requireCcPolicy = true; // an unreadable key policy fails at commit anyway; plan with the chaincode policy
        }
      }
      if (keyPolicies.size > 0) {
        interest.push({ name: ns.namespace, collectionNames: [], noPrivateReads: false, keyPolicies: [...keyPolicies], disregardNamespacePolicy: !requireCcPolicy });
      } else if (requireCcPolicy) {
        interest.push({ name: ns.namespace, collectionNames: [], noPrivateReads: false, keyPolicies: [], disregardNamespacePolicy: false });
      }
      for (const coll of [...new Set([...writtenColls, ...readColls])]) {
        interest.push({ name: ns.namespace, collectionNames: [coll], noPrivateReads: !privatelyRead(coll), keyPolicies: [], disregardNamespacePolicy: false });
      }
    }
    // The gateway's flattened view, for the invoked chaincode (the one it plans for).
    const mine = interest.filter((c) => c.name === chaincodeName);
    const collections = mine.flatMap((c) => c.collectionNames.map((coll) => ({ ns: c.name, coll, privateReads: !c.noPrivateReads })));
    const keyPolicies = [...new Set(mine.flatMap((c) => c.keyPolicies))];
    // The chaincode policy is needed unless Fabric's interest names this namespace only through
    // collections and/or a public call that disregards it. No call at all = the gateway's default
    // interest {name} = the chaincode policy.
    const publicCall = mine.find((c) => c.collectionNames.length === 0);
    const disregardNamespacePolicy = mine.length > 0 && (publicCall === undefined || publicCall.disregardNamespacePolicy);
    return { collections, keyPolicies, disregardNamespacePolicy, interest };
  }
}

/** One ChaincodeCall of Fabric's ChaincodeInterest (protos peer/proposal_response.proto), policies as text. */
export interface InterestCall {
  name: string;
  collectionNames: string[];
  noPrivateReads: boolean;
  keyPolicies: string[];
  disregardNamespacePolicy: boolean;
}

function creatorMsp(serialized: Buffer): string {
  try {
    return mspProto.SerializedIdentity.deserializeBinary(serialized).getMspid();
  } catch {
    return 'unknown';
  }
}
