/**
 * The household autopilot of a trade's seller and buyer meters (issue 17; docs/agents.md §4): once the
 * delivery interval ended and the meter's reading of it is recorded, the seller mints from its proven
 * surplus and delivers what it sold; once the execution stage is approved, the buyer confirms with its
 * metered import. Pure: the agent reads the trade, the meters' proofs (their own utility's peer) and the
 * seller's packets, and acts on the answer. Re-reading before each act keeps it exactly-once: a packet
 * minted before a crash is found and delivered instead of minting again.
 */
import type { AgentSettings } from '../behaviour';
import type { TradeView } from './types';

export type HouseholdStep =
  | { kind: 'mint'; amountWh: number; intervalStart: number }
  | { kind: 'deliver'; packetId: string; amountWh: number }
  | { kind: 'confirm'; receivedWh: number }
  | { kind: 'wait'; atMs?: number; why: string }
  | { kind: 'done'; why: string };

export interface HouseholdInput {
  trade: TradeView;
  nowMs: number;
  /** settings of the seller / buyer meter when this gateway holds it (undefined: another gateway's) */
  seller?: AgentSettings;
  buyer?: AgentSettings;
  /** the seller meter's export and the buyer meter's import in the delivery interval; null = no reading yet */
  exportWh?: number | null;
  importWh?: number | null;
  /** the seller's unsold packets of the seller meter in the delivery interval */
  packets?: Array<{ packetId: string; availableWh: number }>;
}

/** The states a trade ends in (chaincode market/domain/trade.ts). */
export const TERMINAL_TRADE_STATES: ReadonlySet<string> = new Set(['SETTLED', 'DECLINED', 'FAILED_LATE']);

export function nextHouseholdStep(i: HouseholdInput): HouseholdStep {
  const t = i.trade;
  const seller = i.seller?.autopilot ? i.seller : undefined;
  const buyer = i.buyer?.autopilot ? i.buyer : undefined;
  if (!seller && !buyer) return { kind: 'done', why: "no autopilot for this trade's meters here" };
  if (TERMINAL_TRADE_STATES.has(t.state)) return { kind: 'done', why: `trade ${t.state}` };
  const endMs = (t.deliveryStart + t.deliveryLength) * 1000;
  if (t.state === 'AWAITING_ENERGY') {
    if (!seller) return { kind: 'wait', why: "the seller's delivery" };
    if (i.nowMs < endMs) return { kind: 'wait', atMs: endMs, why: 'the delivery interval has not ended' };
    if (seller.behaviour === 'withhold-delivery') return { kind: 'done', why: 'withholds delivery (test behaviour)' };
    const target = seller.behaviour === 'under-deliver' ? Math.max(1, Math.floor(t.amountWh / 2)) : t.amountWh;
    const packet = (i.packets ?? []).find((p) => p.availableWh >= target);
    if (packet) return { kind: 'deliver', packetId: packet.packetId, amountWh: target };
    if (i.exportWh === null || i.exportWh === undefined) return { kind: 'wait', why: "the seller meter's reading of the delivery interval" };
    if (i.exportWh <= 0) return { kind: 'done', why: 'no export in the delivery interval: nothing to deliver' };
    return { kind: 'mint', amountWh: Math.min(target, i.exportWh), intervalStart: t.deliveryStart };
  }
  // Past the delivery only the buyer has a step left, its confirmation in the final stage; once its evidence
  // is recorded (or its meter is not one with the autopilot here) the duty is over: waiting on would only read
  // the trade again at every event of it until it closes.
  if (!buyer) return { kind: 'done', why: "the energy is escrowed; the buyer's confirmation is not this gateway's" };
  if (t.meteredWh !== undefined) return { kind: 'done', why: "the buyer's delivery evidence is recorded" };
  if (t.state === 'FINAL') {
    if (i.importWh === null || i.importWh === undefined) return { kind: 'wait', why: "the buyer meter's reading of the delivery interval" };
    const metered = Math.min(t.energyEscrowWh, i.importWh);
    return { kind: 'confirm', receivedWh: buyer.behaviour === 'lying-buyer' ? Math.floor(metered / 2) : metered };
  }
  return { kind: 'wait', why: `trade ${t.state}: the committee's turn` };
}
