/**
 * The utility beacon's signed message (docs/governance.md "Entropy"): for every committee task round,
 * each utility's gateway signs `beaconMessage(channel, taskId, round)` with its BLS12-381 key and
 * submits the signature; the chaincode verifies it against the same bytes
 * (chaincode/src/governance/domain/entropy.ts). The channel id prevents cross-channel replay.
 */
export function beaconMessage(channelId: string, taskId: string, round: number): string {
  return `gridledger/beacon/v1|${channelId}|${taskId}|${round}`;
}

/**
 * The hash-to-curve domain separation tag of beacon signatures — a protocol constant: a signature made
 * under another tag does not verify, so signer (gateway/src/events/beacon.ts) and verifier
 * (chaincode/src/governance/domain/entropy.ts) must use this one. It is the IETF BLS ciphersuite
 * `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` ("minimal-pubkey-size": keys in G1, signatures in G2),
 * the one tag `@chainsafe/blst` signs and verifies with. The beacon never aggregates signatures, so the
 * proof-of-possession the tag names is not needed: a single signature under it is exactly as unique and
 * unforgeable as under the basic scheme's tag. Known-answer tests pin it (chaincode/test/governance/
 * entropy.test.ts, gateway/test/beacon.test.ts). Earlier builds signed under the basic
 * scheme's `…_NUL_` tag; their signatures do not verify under this one (docs/governance.md §5).
 */
export const BEACON_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
