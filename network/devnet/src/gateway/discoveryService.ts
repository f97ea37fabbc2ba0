/**
 * Fabric's service discovery (`discovery.Discovery/Discover`, F discovery/service.go) on every peer
 * endpoint, enough for the legacy SDKs (fabric-network 2.2 with discovery on) and `peer` CLI tools:
 * - config query: every channel MSP (root and TLS root certificates, NodeOUs) and the orderer
 *   endpoints by orderer MSP (F discovery/support/config);
 * - peer membership query (channel and local): one peer per org with its gossip alive message
 *   (endpoint, PKI-ID) and, for the channel query, its state info (ledger height, chaincodes);
 * - chaincode query: an EndorsementDescriptor whose groups are orgs and whose layouts are the minimal
 *   sets of orgs satisfying the interest's policies (`discoveryPolicies`), restricted to collection
 *   members when the interest reads privately (plan.ts `eligiblePeers`).
 * Each query is checked as Fabric's does: channel exists and the signed request satisfies the
 * channel's Readers (else the result is the error "access denied"); a malformed request or one
 * without client identity fails the call.
 * The devnet has no gossip: the alive and state-info envelopes are built on demand and signed by
 * the peer's key, which the SDKs do not verify.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { discovery, gossip, msp, peer } from '@hyperledger/fabric-protos';
import type { ChaincodeConfig } from '@gridledger/protocol';
import { findCollection } from '../config/collections';
import { DEFAULT_CHAINCODE_VERSION } from '../config/chaincodeVersion';
import type { LedgerStore } from '../ledger';
import type { ChannelMsp, PeerIdentity, PolicyEvaluator } from '../peer/deps';
import { eligiblePeers, satisfiesAll, type PlanInput } from './plan';
import { rpcError, toServiceError } from './errors';

export interface DiscoveryPeer {
  mspId: string;
  /** host:port the peer advertises (gossip externalEndpoint) */
  endpoint: string;
  /** msp.SerializedIdentity of the peer */
  serialized: Uint8Array;
  identity: PeerIdentity;
  sign(message: Uint8Array): Uint8Array;
}

export interface DiscoveryMsp {
  mspId: string;
  rootCertsPem: string[];
  tlsRootCertsPem: string[];
}

export interface DiscoveryServiceOptions {
  channel: string;
  msp: ChannelMsp;
  policies: PolicyEvaluator;
  ledger: LedgerStore;
  chaincodes: ReadonlyMap<string, ChaincodeConfig>;
  /** every org's peer, in network order */
  peers: DiscoveryPeer[];
  /** the peer serving this endpoint (answers the local peers query) */
  local: DiscoveryPeer;
  msps: DiscoveryMsp[];
  /** orderer endpoints by orderer MSP id */
  orderers: Array<{ mspId: string; host: string; port: number }>;
  /** the version of a chaincode's committed definition (config/chaincodeVersion.ts; default `1.0`) */
  chaincodeVersion?: (chaincode: string) => string;
}

const READER_ROLES = new Set(['admin', 'peer', 'client']);

function errorResult(message: string): discovery.QueryResult {
  const e = new discovery.Error();
  e.setContent(message);
  const r = new discovery.QueryResult();
  r.setError(e);
  return r;
}

/** F gossip/common PKIidType: SHA-256 over the peer's MSP id and certificate (msp mgmt GetPKIidOfCert). */
function pkiId(p: DiscoveryPeer): Buffer {
  const sid = msp.SerializedIdentity.deserializeBinary(p.serialized);
  return createHash('sha256').update(sid.getMspid()).update(sid.getIdBytes_asU8()).digest();
}

export class DiscoveryService {
  constructor(private readonly opts: DiscoveryServiceOptions) {}

  handlers(): grpc.UntypedServiceImplementation {
    return {
      discover: (call: grpc.ServerUnaryCall<discovery.SignedRequest, discovery.Response>, cb: grpc.sendUnaryData<discovery.Response>) => {
        try {
          cb(null, this.discover(call.request));
        } catch (err) {
          cb(toServiceError(err));
        }
      },
    };
  }

  discover(signed: discovery.SignedRequest): discovery.Response {
    let req: discovery.Request;
    try {
      req = discovery.Request.deserializeBinary(signed.getPayload_asU8());
    } catch (err) {
      throw rpcError(grpc.status.UNKNOWN, `failed parsing request: ${(err as Error).message}`);
    }
    const auth = req.getAuthentication();
    if (!auth) throw rpcError(grpc.status.UNKNOWN, 'access denied, no authentication info in request');
    const clientIdentity = auth.getClientIdentity_asU8();
    if (clientIdentity.length === 0) throw rpcError(grpc.status.UNKNOWN, "access denied, client identity wasn't supplied");
    const res = new discovery.Response();
    for (const q of req.getQueriesList()) res.addResults(this.query(q, signed, clientIdentity));
    return res;
  }

  private eligible(signed: discovery.SignedRequest, clientIdentity: Uint8Array): boolean {
    let id: PeerIdentity;
    try {
      id = this.opts.msp.deserialize(clientIdentity);
    } catch {
      return false;
    }
    return READER_ROLES.has(id.role) && this.opts.msp.verify(id, signed.getPayload_asU8(), signed.getSignature_asU8());
  }

  private query(q: discovery.Query, signed: discovery.SignedRequest, clientIdentity: Uint8Array): discovery.QueryResult {
    const channel = q.getChannel();
    if (channel !== '' && channel !== this.opts.channel) return errorResult('access denied');
    if (!this.eligible(signed, clientIdentity)) return errorResult('access denied');
    const C = discovery.Query.QueryCase;
    if (channel === '') {
      return q.getQueryCase() === C.LOCAL_PEERS ? this.membership(false) : errorResult('unknown or missing request type');
    }
    switch (q.getQueryCase()) {
      case C.CONFIG_QUERY:
        return this.config();
      case C.PEER_QUERY:
        return this.membership(true);
      case C.CC_QUERY:
        return this.chaincodes(q.getCcQuery()!);
      default:
        return errorResult('unknown or missing request type');
    }
  }

  private config(): discovery.QueryResult {
    const cr = new discovery.ConfigResult();
    for (const m of this.opts.msps) {
      const c = new msp.FabricMSPConfig();
      c.setName(m.mspId);
      c.setRootCertsList(m.rootCertsPem.map((p) => Buffer.from(p)));
      c.setTlsRootCertsList(m.tlsRootCertsPem.map((p) => Buffer.from(p)));
      cr.getMspsMap().set(m.mspId, c);
    }
    for (const o of this.opts.orderers) {
      let eps = cr.getOrderersMap().get(o.mspId);
      if (!eps) {
        eps = new discovery.Endpoints();
        cr.getOrderersMap().set(o.mspId, eps);
      }
      const ep = new discovery.Endpoint();
      ep.setHost(o.host);
      ep.setPort(o.port);
      eps.addEndpoint(ep);
    }
    const r = new discovery.QueryResult();
    r.setConfigResult(cr);
    return r;
  }

  private peerMessage(p: DiscoveryPeer, withState: boolean): discovery.Peer {
    const id = pkiId(p);
    const member = new gossip.Member();
    member.setEndpoint(p.endpoint);
    member.setPkiId(id);
    const time = new gossip.PeerTime();
    time.setIncNum(1);
    time.setSeqNum(1);
    const alive = new gossip.AliveMessage();
    alive.setMembership(member);
    alive.setTimestamp(time);
    const aliveMsg = new gossip.GossipMessage();
    aliveMsg.setTag(gossip.GossipMessage.Tag.EMPTY);
    aliveMsg.setAliveMsg(alive);
    const out = new discovery.Peer();
    out.setIdentity(p.serialized);
    out.setMembershipInfo(this.envelope(p, aliveMsg));
    if (withState) {
      const props = new gossip.Properties();
      props.setLedgerHeight(this.opts.ledger.height());
      props.setChaincodesList(
        [...this.opts.chaincodes.keys()].map((name) => {
          const c = new gossip.Chaincode();
          c.setName(name);
          c.setVersion(this.opts.chaincodeVersion?.(name) ?? DEFAULT_CHAINCODE_VERSION);
          return c;
        }),
      );
      const state = new gossip.StateInfo();
      state.setTimestamp(time);
      state.setPkiId(id);
      state.setProperties(props);
      const stateMsg = new gossip.GossipMessage();
      stateMsg.setTag(gossip.GossipMessage.Tag.CHAN_OR_ORG);
      stateMsg.setStateInfo(state);
      out.setStateInfo(this.envelope(p, stateMsg));
    }
    return out;
  }

  private envelope(p: DiscoveryPeer, m: gossip.GossipMessage): gossip.Envelope {
    const payload = m.serializeBinary();
    const env = new gossip.Envelope();
    env.setPayload(payload);
    env.setSignature(p.sign(payload));
    return env;
  }

  private membership(channel: boolean): discovery.QueryResult {
    const res = new discovery.PeerMembershipResult();
    for (const p of this.opts.peers) {
      let peers = res.getPeersByOrgMap().get(p.mspId);
      if (!peers) {
        peers = new discovery.Peers();
        res.getPeersByOrgMap().set(p.mspId, peers);
      }
      peers.addPeers(this.peerMessage(p, channel));
    }
    const r = new discovery.QueryResult();
    r.setMembers(res);
    return r;
  }

  private chaincodes(cq: discovery.ChaincodeQuery): discovery.QueryResult {
    const out = new discovery.ChaincodeQueryResult();
    for (const interest of cq.getInterestsList()) {
      const desc = this.descriptor(interest);
      if (!desc) return errorResult(`failed constructing descriptor for ${describeInterest(interest)}`);
      out.addContent(desc);
    }
    const r = new discovery.QueryResult();
    r.setCcQueryRes(out);
    return r;
  }

  /** Groups = eligible orgs; layouts = minimal org sets satisfying every required policy of the interest. */
  private descriptor(interest: peer.ChaincodeInterest): discovery.EndorsementDescriptor | undefined {
    const calls = interest.getChaincodesList();
    if (calls.length === 0) return undefined;
    let candidates = this.opts.peers;
    const policies: string[] = [];
    for (const call of calls) {
      const cc = this.opts.chaincodes.get(call.getName());
      if (!cc) return undefined;
      const collections = call.getCollectionNamesList();
      const input: PlanInput = {
        chaincode: cc,
        collections,
        privateReads: collections.length > 0 && !call.getNoPrivateReads(),
        hasTransientData: false,
        policies: this.opts.policies,
        disregardNamespacePolicy: call.getDisregardNamespacePolicy(),
      };
      candidates = eligiblePeers(candidates, input, false);
      for (const p of discoveryPolicies(cc, call)) if (!policies.includes(p)) policies.push(p);
    }
    const layouts: DiscoveryPeer[][] = [];
    const n = candidates.length;
    // every subset in order of size, keeping only those with no satisfying proper subset (minimal)
    const subsets = Array.from({ length: (1 << n) - 1 }, (_, i) => i + 1).sort((a, b) => popcount(a) - popcount(b) || a - b);
    const minimal: number[] = [];
    for (const mask of subsets) {
      if (minimal.some((m) => (m & mask) === m)) continue;
      const chosen = candidates.filter((_, i) => mask & (1 << i));
      if (satisfiesAll(policies, chosen.map((p) => p.identity), this.opts.policies)) {
        minimal.push(mask);
        layouts.push(chosen);
      }
    }
    if (layouts.length === 0) return undefined;
    const desc = new discovery.EndorsementDescriptor();
    desc.setChaincode(calls[0]!.getName());
    const groupOf = new Map<DiscoveryPeer, string>();
    candidates.forEach((p, i) => {
      const g = `G${i}`;
      groupOf.set(p, g);
      const peers = new discovery.Peers();
      peers.addPeers(this.peerMessage(p, true));
      desc.getEndorsersByGroupsMap().set(g, peers);
    });
    for (const l of layouts) {
      const layout = new discovery.Layout();
      for (const p of l) layout.getQuantitiesByGroupMap().set(groupOf.get(p)!, 1);
      desc.addLayouts(layout);
    }
    return desc;
  }
}

/**
 * The policies of one ChaincodeCall as discovery takes them (F discovery/support/chaincode/support.go
 * PoliciesByChaincode, discovery/endorsement/endorsement.go computePrincipalSets): the chaincode
 * policy when no collection is named; else each named collection's endorsement policy, or the
 * chaincode policy for a collection without one. With disregard_namespace_policy the first is
 * dropped when there are more. (Key-level policies of the interest are not taken into account.)
 */
function discoveryPolicies(cc: ChaincodeConfig, call: peer.ChaincodeCall): string[] {
  const names = call.getCollectionNamesList();
  if (names.length === 0) return [cc.endorsementPolicy];
  const out: string[] = [];
  for (const name of names) {
    const p = findCollection(cc.collections, name)?.endorsementPolicy ?? cc.endorsementPolicy;
    if (!out.includes(p)) out.push(p);
  }
  return call.getDisregardNamespacePolicy() && out.length > 1 ? out.slice(1) : out;
}

function popcount(x: number): number {
  let c = 0;
  for (let v = x; v; v &= v - 1) c++;
  return c;
}

function describeInterest(interest: peer.ChaincodeInterest): string {
  return `chaincodes:${interest
    .getChaincodesList()
    .map((c) => `<name:"${c.getName()}"${c.getCollectionNamesList().map((n) => ` collection_names:"${n}"`).join('')}>`)
    .join(' ')}`;
}
