/**
 * The narrow views the peer, orderer and gateway take of the identity and policy modules
 * (DESIGN.md identity side API). Structural, so the real MspRegistry / policy evaluator plug in
 * unchanged and unit tests can pass small fakes.
 */
export type NodeOuRole = 'client' | 'peer' | 'admin' | 'orderer';

export interface PeerIdentity {
  mspId: string;
  certPem: string;
  role: NodeOuRole;
  /** hex SHA-256 of the certificate DER; de-duplicates endorsements */
  id: string;
  serialized: Buffer;
}

export interface ChannelMsp {
  /** throws (MspError) when the identity is unknown, malformed, invalid or revoked */
  deserialize(serializedIdentity: Uint8Array): PeerIdentity;
  verify(identity: PeerIdentity, message: Uint8Array, signature: Uint8Array): boolean;
}

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

export interface MspErrorLike {
  kind?: string;
  mspId?: string;
  message: string;
}
