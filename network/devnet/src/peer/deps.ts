/**
 * The narrow views the peer, orderer and gateway take of the identity and policy modules: the
 * parts of MspRegistry / ChannelPolicies they call, so unit tests can pass small fakes while the
 * devnet passes the real objects unchanged.
 */
import type { Identity, MspRegistry, NodeOuRole as MspNodeOuRole } from '../identity/msp';

export type NodeOuRole = MspNodeOuRole;
export type PeerIdentity = Identity;

/** deserialize throws (MspError) when the identity is unknown, malformed, invalid or revoked. */
export type ChannelMsp = Pick<MspRegistry, 'deserialize' | 'verify'>;

/** Evaluates an endorsement/collection policy text ("MAJORITY Endorsement", "OR('A.member')") over identities. */
export interface PolicyEvaluator {
  satisfied(policy: string, identities: PeerIdentity[]): boolean;
  /** MSP IDs named by a collection member policy — the orgs that keep the private values. */
  memberMsps(policy: string): string[];
}

/** The peer's own signing identity (ESCC). */
export interface PeerSigner {
  mspId: string;
  /** msp.SerializedIdentity bytes of the peer's enrolment cert */
  serialized: Buffer;
  sign(message: Uint8Array): Buffer;
}
