/**
 * Wallets: integer minor units, never negative, with an audit trail.
 *
 * A wallet is a folded balance (gl.market.wallet) plus pending credits (gl.market.walletCredit, one new key per
 * credit). Credits never read or write the balance key, so concurrent trades, refunds and top-ups
 * for one participant commit together without MVCC conflicts. A debit (only the owner's own market
 * actions: collateral, payment) folds the pending credits into the balance, checks it covers the
 * amount, and writes the new balance; it reads a range bounded by this participant's unfolded
 * credits, never other participants'. Every movement also appends an immutable audit entry.
 */
import { MKT } from './keys';
import { fail } from '../../kernel/errors';
import { GridLedgerContext } from '../../kernel/context';
import { padUint } from '../../kernel/keys';

export type WalletEntryKind =
  | 'topup'
  | 'collateral-lock'
  | 'collateral-release'
  | 'payment-lock'
  | 'payment-refund'
  | 'trade-payout'
  | 'forfeit';

export interface WalletBase {
  participantId: string;
  balance: number;
  updatedAt: number;
}

interface PendingCredit {
  amount: number;
  kind: WalletEntryKind;
  reference: string;
}

export interface AuditEntry {
  participantId: string;
  amount: number; // signed: + credit, - debit
  kind: WalletEntryKind;
  reference: string;
  txId: string;
  at: number;
}

async function audit(ctx: GridLedgerContext, participantId: string, amount: number, kind: WalletEntryKind, reference: string): Promise<void> {
  const entry: AuditEntry = { participantId, amount, kind, reference, txId: ctx.txId, at: ctx.now };
  await ctx.state.put(ctx.state.key(MKT.walletAudit, [participantId, padUint(ctx.now, 12), ctx.nextLocalId()]), entry);
}

export async function credit(ctx: GridLedgerContext, participantId: string, amount: number, kind: WalletEntryKind, reference: string): Promise<void> {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new Error(`wallet credit of ${amount} is not a non-negative integer`);
  if (amount === 0) return;
  const pending: PendingCredit = { amount, kind, reference };
  await ctx.state.put(ctx.state.key(MKT.walletCredit, [participantId, ctx.nextLocalId()]), pending);
  await audit(ctx, participantId, amount, kind, reference);
}

async function fold(ctx: GridLedgerContext, participantId: string): Promise<{ base: WalletBase; pendingKeys: string[] }> {
  const base = (await ctx.state.get<WalletBase>(ctx.state.key(MKT.wallet, [participantId]))) ?? { participantId, balance: 0, updatedAt: 0 };
  const pending = await ctx.state.list<PendingCredit>(MKT.walletCredit, [participantId]);
  const balance = pending.reduce((s, p) => s + p.value.amount, base.balance);
  return { base: { ...base, balance }, pendingKeys: pending.map((p) => p.key) };
}

export async function debit(ctx: GridLedgerContext, participantId: string, amount: number, kind: WalletEntryKind, reference: string): Promise<number> {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new Error(`wallet debit of ${amount} is not a non-negative integer`);
  const { base, pendingKeys } = await fold(ctx, participantId);
  if (base.balance < amount) {
    fail('INSUFFICIENT_FUNDS', 'INSUFFICIENT_BALANCE', `${kind} needs ${amount} minor units but the wallet holds ${base.balance}; top up through your utility's operator`);
  }
  if (amount === 0) return base.balance;
  for (const k of pendingKeys) await ctx.state.del(k);
  const next: WalletBase = { participantId, balance: base.balance - amount, updatedAt: ctx.now };
  await ctx.state.put(ctx.state.key(MKT.wallet, [participantId]), next);
  await audit(ctx, participantId, -amount, kind, reference);
  return next.balance;
}

/** Read-only view: folded balance plus pending credits. */
export async function balanceOf(ctx: GridLedgerContext, participantId: string): Promise<number> {
  return (await fold(ctx, participantId)).base.balance;
}
