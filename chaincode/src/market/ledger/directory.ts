/**
 * Who a participant is, for market rules that need its utility (operators credit only their own
 * utility's participants; the buyer's readings live in its utility's collection).
 *
 * Source of truth is the governance participant record (gl.participant) when it exists; until a
 * meter has joined through governance, the market keeps a minimal account (gl.market.account) created by
 * the meter's own first market call. Nothing here is personal data: pseudonym, MSP, meter, zone.
 */
import type { MeterCaller } from '../../kernel/caller';
import { GridLedgerContext } from '../../kernel/context';
import { readParticipant } from '../../governance';

export interface MarketAccount {
  participantId: string;
  mspId: string;
  meterId: string;
  zone: string;
  openedAt: number;
}

export const ACCOUNT = 'gl.market.account';

export async function lookupParticipant(ctx: GridLedgerContext, participantId: string): Promise<{ mspId: string; meterId?: string; status?: string } | undefined> {
  const gov = await readParticipant(ctx, participantId);
  if (gov && typeof gov.mspId === 'string') {
    return { mspId: gov.mspId, meterId: typeof gov.meterId === 'string' ? gov.meterId : undefined, status: typeof gov.status === 'string' ? gov.status : undefined };
  }
  const acc = await ctx.state.get<MarketAccount>(ctx.state.key(ACCOUNT, [participantId]));
  return acc ? { mspId: acc.mspId, meterId: acc.meterId } : undefined;
}

/** Creates the caller's market account on its first market call (one read afterwards). */
export async function ensureAccount(ctx: GridLedgerContext, c: MeterCaller): Promise<void> {
  const key = ctx.state.key(ACCOUNT, [c.participantId]);
  if (await ctx.state.get(key)) return;
  const acc: MarketAccount = { participantId: c.participantId, mspId: c.mspId, meterId: c.meterId, zone: c.zone, openedAt: ctx.now };
  await ctx.state.put(key, acc);
}
