/**
 * Energy packets (seed 002's Energy class), pure rules.
 * A packet is minted only from a meter's measured surplus export: for one meter and interval the
 * sum of all packets minted never exceeds the export its (hash-verified) reading shows.
 * Per packet, always: amountWh = availableWh + escrowedWh + soldWh (seller packets), and a buyer's
 * packet (origin "trade") is claimedWh = amountWh — energy is transferred only by trades.
 */
import { createHash } from 'crypto';
import { Obj } from './validate';
import { fail } from '../../kernel/errors';
import { inputOf } from '../../kernel/args';

export const SOURCES = ['solar', 'wind', 'hydro', 'storage', 'grid', 'other'] as const;
export type Source = (typeof SOURCES)[number];

export interface EnergyPacket {
  packetId: string;
  owner: string;
  mspId: string;
  meterId: string;
  source: Source;
  intervalStart: number;
  intervalLength: number;
  amountWh: number;
  availableWh: number;
  escrowedWh: number;
  soldWh: number;
  claimedWh: number;
  origin: 'mint' | 'trade';
  tradeId?: string;
  createdAt: number;
}

export interface MintInput {
  intervalStart: number;
  amountWh: number;
  source: Source;
}

/** `mintJson`, checked against its schema (MintInput, packages/protocol). */
export function parseMint(o: Obj): MintInput {
  return inputOf<MintInput>('MintInput', o, 'mint');
}

/** No phantom energy: already minted + this mint must fit in the interval's measured export. */
export function checkMintBound(alreadyMintedWh: number, amountWh: number, exportWh: number, what: string): void {
  if (alreadyMintedWh + amountWh > exportWh) {
    fail('INSUFFICIENT_ENERGY', 'MINT_EXCEEDS_EXPORT', `${what}: ${amountWh} Wh would bring the energy minted for this interval to ${alreadyMintedWh + amountWh} Wh, above the meter's measured export; at most ${Math.max(0, exportWh - alreadyMintedWh)} Wh can still be minted`);
  }
}

export function packetIdFor(localId: string): string {
  return 'pkt-' + createHash('sha256').update(`gridledger/packet\n${localId}`).digest('hex').slice(0, 32);
}
