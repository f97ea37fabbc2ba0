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
import { padUint } from '../keys';
import { MKT } from './keys';
import { MarketTx } from './txState';
import { fail } from '../../kernel/errors';

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

async function audit(tx: MarketTx, participantId: string, amount: number, kind: WalletEntryKind, reference: string): Promise<void> {
  const entry: AuditEntry = { participantId, amount, kind, reference, txId: tx.txId, at: tx.nowS };
  await tx.put(tx.key(MKT.walletAudit, [participantId, padUint(tx.nowS, 12), tx.nextLocalId()]), entry);
}

export async function credit(tx: MarketTx, participantId: string, amount: number, kind: WalletEntryKind, reference: string): Promise<void> {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new Error(`wallet credit of ${amount} is not a non-negative integer`);
  if (amount === 0) return;
  const pending: PendingCredit = { amount, kind, reference };
  await tx.put(tx.key(MKT.walletCredit, [participantId, tx.nextLocalId()]), pending);
  await audit(tx, participantId, amount, kind, reference);
}

async function fold(tx: MarketTx, participantId: string): Promise<{ base: WalletBase; pendingKeys: string[] }> {
  const base = (await tx.get<WalletBase>(tx.key(MKT.wallet, [participantId]))) ?? { participantId, balance: 0, updatedAt: 0 };
  const pending = await tx.list<PendingCredit>(MKT.walletCredit, [participantId]);
  const balance = pending.reduce((s, p) => s + p.value.amount, base.balance);
  return { base: { ...base, balance }, pendingKeys: pending.map((p) => p.key) };
}

export async function debit(tx: MarketTx, participantId: string, amount: number, kind: WalletEntryKind, reference: string): Promise<number> {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new Error(`wallet debit of ${amount} is not a non-negative integer`);
  const { base, pendingKeys } = await fold(tx, participantId);
  if (base.balance < amount) {
    fail('INSUFFICIENT_FUNDS', 'INSUFFICIENT_BALANCE', `${kind} needs ${amount} minor units but the wallet holds ${base.balance}; top up through your utility's operator`);
  }
  if (amount === 0) return base.balance;
  for (const k of pendingKeys) await tx.del(k);
  const next: WalletBase = { participantId, balance: base.balance - amount, updatedAt: tx.nowS };
  await tx.put(tx.key(MKT.wallet, [participantId]), next);
  await audit(tx, participantId, -amount, kind, reference);
  return next.balance;
}

/** Read-only view: folded balance plus pending credits. */
export async function balanceOf(tx: MarketTx, participantId: string): Promise<number> {
  return (await fold(tx, participantId)).base.balance;
}
