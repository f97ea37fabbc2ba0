/**
 * Which orgs endorse (P§1.2.3, P§3.6; F internal/pkg/gateway/endorse.go planFromFirstEndorser): the
 * local org first, then — in network order — as few other orgs as the policies of the first
 * endorser's ChaincodeInterest need (`requiredPolicies`: chaincode policy unless disregarded, every
 * named collection's endorsement policy or else the chaincode policy, key-level policies).
 * Collection membership limits the candidates as discovery does: always when the simulation read
 * private data (no_private_reads = false), and — the gateway's caution — whenever the proposal
 * carries transient data, so transient values never reach orgs outside the collections.
 */
import type { ChaincodeConfig } from '@gridledger/protocol';
import { findCollection } from '../config/collections';
import type { PeerIdentity, PolicyEvaluator } from '../peer/deps';

export interface PlanPeer {
  mspId: string;
  identity: PeerIdentity;
}

export interface PlanInput {
  chaincode: ChaincodeConfig;
  /** collections the first simulation read or wrote (namespace = this chaincode) */
  collections: string[];
  /** the simulation read private data in this chaincode's collections */
  privateReads?: boolean;
  hasTransientData: boolean;
  policies: PolicyEvaluator;
  /** key-level policies of written keys (state-based endorsement) */
  keyPolicies?: string[];
  /** every written key has a key-level policy: the chaincode policy is not required */
  disregardNamespacePolicy?: boolean;
}

/**
 * The policies one layout must satisfy, as discovery computes them (F discovery/endorsement/
 * endorsement.go computePrincipalSets; discovery/support/chaincode/support.go PoliciesByChaincode):
 * a named collection contributes ITS endorsement policy, or the chaincode policy when it has none;
 * the chaincode policy itself only when the interest needs it (not disregarded: the endorser omits
 * the namespace's public call when the tx writes only to collections, or marks it
 * disregard_namespace_policy when every public write has a key-level policy); key-level policies
 * always. So a tx writing only to `Utility1MSPPrivateCollection` with endorsementPolicy
 * OR('Utility1MSP.peer') plans on Utility1MSP alone.
 */
export function requiredPolicies(input: PlanInput): string[] {
  const out: string[] = [];
  const add = (p: string): void => {
    if (!out.includes(p)) out.push(p);
  };
  if (!input.disregardNamespacePolicy || (input.collections.length === 0 && (input.keyPolicies ?? []).length === 0)) {
    add(input.chaincode.endorsementPolicy);
  }
  for (const p of input.keyPolicies ?? []) add(p);
  for (const name of input.collections) {
    const c = findCollection(input.chaincode.collections, name);
    add(c?.endorsementPolicy ?? input.chaincode.endorsementPolicy);
  }
  return out;
}

/** Orgs that may endorse at all, given the transient-data restriction. */
export function eligiblePeers<T extends PlanPeer>(peers: T[], input: PlanInput, protectTransient = true): T[] {
  const restrict = input.privateReads || (protectTransient && input.hasTransientData);
  if (!restrict || input.collections.length === 0) return peers;
  const allowed = input.collections.map((name) => {
    const c = findCollection(input.chaincode.collections, name);
    return new Set(c ? input.policies.memberMsps(c.policy) : []);
  });
  return peers.filter((p) => allowed.every((s) => s.has(p.mspId)));
}

export function satisfiesAll(policies: string[], ids: PeerIdentity[], evaluator: PolicyEvaluator): boolean {
  return policies.every((p) => evaluator.satisfied(p, ids));
}

/**
 * Greedy completion: adds candidates in order until every policy is satisfied by `have` plus the
 * additions. Returns the additions, or undefined when even all candidates are not enough.
 */
export function completeLayout<T extends PlanPeer>(have: PeerIdentity[], candidates: T[], policies: string[], evaluator: PolicyEvaluator): T[] | undefined {
  const chosen: T[] = [];
  const ids = [...have];
  if (satisfiesAll(policies, ids, evaluator)) return chosen;
  for (const c of candidates) {
    chosen.push(c);
    ids.push(c.identity);
    if (satisfiesAll(policies, ids, evaluator)) return prune(have, chosen, policies, evaluator);
  }
  return undefined;
}

/** Drops additions that turned out unnecessary (keeps the layout minimal, as discovery's layouts are). */
function prune<T extends PlanPeer>(have: PeerIdentity[], chosen: T[], policies: string[], evaluator: PolicyEvaluator): T[] {
  let current = chosen;
  for (let i = 0; i < current.length; ) {
    const without = current.filter((_, j) => j !== i);
    if (satisfiesAll(policies, [...have, ...without.map((c) => c.identity)], evaluator)) current = without;
    else i++;
  }
  return current;
}
