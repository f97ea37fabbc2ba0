/**
 * Energy packets and the per-meter-interval counters that bound minting (no phantom energy) and
 * delivery evidence (one buyer import cannot evidence two trades). Counters are keyed by meter and
 * interval, so only that meter's own transactions touch them.
 */
import { EnergyPacket } from '../../domain/market/energy';
import { fail } from '../../domain/market/fail';
import { padUint } from '../keys';
import { MKT } from './keys';
import { MarketTx } from './txState';

export interface MintedCounter {
  mintedWh: number;
}
export interface ImportClaim {
  claimedWh: number;
}

export const packetKey = (tx: MarketTx, packetId: string): string => tx.key(MKT.packet, [packetId]);
export const mintedKey = (tx: MarketTx, mspId: string, meterId: string, intervalStart: number): string =>
  tx.key(MKT.minted, [mspId, meterId, padUint(intervalStart, 12)]);
export const importClaimKey = (tx: MarketTx, mspId: string, meterId: string, intervalStart: number): string =>
  tx.key(MKT.importClaim, [mspId, meterId, padUint(intervalStart, 12)]);

export async function getPacket(tx: MarketTx, packetId: string): Promise<EnergyPacket> {
  const p = await tx.get<EnergyPacket>(packetKey(tx, packetId));
  if (!p) fail('NOT_FOUND', `energy packet ${packetId} does not exist`);
  return p;
}

export async function putPacket(tx: MarketTx, p: EnergyPacket, isNew: boolean): Promise<void> {
  await tx.put(packetKey(tx, p.packetId), p);
  if (isNew) await tx.put(tx.key(MKT.packetByOwner, [p.owner, p.packetId]), { packetId: p.packetId });
}
