/**
 * Energy packets and the per-meter-interval counters that bound minting (no phantom energy) and
 * delivery evidence (one buyer import cannot evidence two trades). Counters are keyed by meter and
 * interval, so only that meter's own transactions touch them.
 */
import { createHash } from 'crypto';
import { EnergyPacket } from '../domain/energy';
import { MKT } from './keys';
import { fail } from '../../kernel/errors';
import { GridLedgerContext } from '../../kernel/context';
import { padUint } from '../../kernel/keys';

export interface MintedCounter {
  mintedWh: number;
}
export interface ImportClaim {
  claimedWh: number;
}

export const packetKey = (ctx: GridLedgerContext, packetId: string): string => ctx.state.key(MKT.packet, [packetId]);
export const mintedKey = (ctx: GridLedgerContext, mspId: string, meterId: string, intervalStart: number): string =>
  ctx.state.key(MKT.minted, [mspId, meterId, padUint(intervalStart, 12)]);
export const importClaimKey = (ctx: GridLedgerContext, mspId: string, meterId: string, intervalStart: number): string =>
  ctx.state.key(MKT.importClaim, [mspId, meterId, padUint(intervalStart, 12)]);

export async function getPacket(ctx: GridLedgerContext, packetId: string): Promise<EnergyPacket> {
  const p = await ctx.state.get<EnergyPacket>(packetKey(ctx, packetId));
  if (!p) fail('NOT_FOUND', 'PACKET_NOT_FOUND', `energy packet ${packetId} does not exist`);
  return p;
}

/**
 * Running energy balance per owner, split into BALANCE_SHARDS keys by packet: a packet's changes go
 * to shard sha256(packetId)[0] mod BALANCE_SHARDS, so `energy:balance` reads a constant number of
 * keys (O(1), not O(history)), unrelated owners never share a key, and two concurrent transactions
 * on different packets of the SAME owner collide only when their packets share a shard.
 */
export const BALANCE_SHARDS = 16;

export interface EnergyBalance {
  availableWh: number;
  escrowedWh: number;
  soldWh: number;
  claimedWh: number;
  packets: number;
}

const ZERO: EnergyBalance = { availableWh: 0, escrowedWh: 0, soldWh: 0, claimedWh: 0, packets: 0 };

export const shardOf = (packetId: string): number => createHash('sha256').update(packetId, 'utf8').digest().readUInt8(0) % BALANCE_SHARDS;
const balanceKey = (ctx: GridLedgerContext, owner: string, shard: number): string => ctx.state.key(MKT.energyBalance, [owner, padUint(shard, 2)]);

export async function putPacket(ctx: GridLedgerContext, p: EnergyPacket, isNew: boolean): Promise<void> {
  const before = isNew ? undefined : await ctx.state.get<EnergyPacket>(packetKey(ctx, p.packetId));
  if (before && before.owner !== p.owner) fail('CONFLICT', 'PACKET_OWNER_CHANGE', `packet ${p.packetId} cannot change owner`);
  await ctx.state.put(packetKey(ctx, p.packetId), p);
  if (isNew) await ctx.state.put(ctx.state.key(MKT.packetByOwner, [p.owner, p.packetId]), { packetId: p.packetId });
  const key = balanceKey(ctx, p.owner, shardOf(p.packetId));
  const cur = (await ctx.state.get<EnergyBalance>(key)) ?? ZERO;
  await ctx.state.put(key, {
    availableWh: cur.availableWh + p.availableWh - (before?.availableWh ?? 0),
    escrowedWh: cur.escrowedWh + p.escrowedWh - (before?.escrowedWh ?? 0),
    soldWh: cur.soldWh + p.soldWh - (before?.soldWh ?? 0),
    claimedWh: cur.claimedWh + p.claimedWh - (before?.claimedWh ?? 0),
    packets: cur.packets + (isNew ? 1 : 0),
  });
}

/** The owner's energy balance: BALANCE_SHARDS point reads, whatever the owner's history. */
export async function energyBalance(ctx: GridLedgerContext, owner: string): Promise<EnergyBalance> {
  const sum = { ...ZERO };
  for (let i = 0; i < BALANCE_SHARDS; i++) {
    const b = await ctx.state.get<EnergyBalance>(balanceKey(ctx, owner, i));
    if (!b) continue;
    sum.availableWh += b.availableWh;
    sum.escrowedWh += b.escrowedWh;
    sum.soldWh += b.soldWh;
    sum.claimedWh += b.claimedWh;
    sum.packets += b.packets;
  }
  return sum;
}
