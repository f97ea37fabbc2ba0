/**
 * The utility beacon's signed message (docs/governance.md "Entropy"): for every committee task round,
 * each utility's gateway signs `beaconMessage(channel, taskId, round)` with its BLS12-381 key and
 * submits the signature; the chaincode verifies it against the same bytes
 * (chaincode/src/governance/domain/entropy.ts). The channel id prevents cross-channel replay.
 */
export function beaconMessage(channelId: string, taskId: string, round: number): string {
  return `gridledger/beacon/v1|${channelId}|${taskId}|${round}`;
}
