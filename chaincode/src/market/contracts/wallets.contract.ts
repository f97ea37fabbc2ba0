import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import { MAX_QUANTITY } from '../domain/validate';
import { EVENTS } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { getCaller, requireMeter, requireOperator } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import { ensureAccount, lookupParticipant } from '../ledger/directory';
import { MKT, PENALTY_POOL } from '../ledger/keys';
import { AuditEntry, balanceOf, credit } from '../ledger/wallets';
import { fail } from '../../kernel/errors';
import { ID_PATTERN, intArg } from '../../kernel/args';
import { pageByPartialKey, pageSizeArg } from '../../kernel/paging';
import { GridLedgerContext } from '../../kernel/context';
import { openMarketTx } from '../services/session';

/**
 * Wallets (issue 3 §3): operators credit their own utility's participants (the fiat on-ramp);
 * everything else moves only through escrow, settlement and penalties.
 */
@Info({ title: 'wallets', description: 'Integer-minor-unit wallets with an audit trail' })
export class WalletsContract extends GridLedgerContract {
  constructor() {
    super('wallets');
  }

  /** A meter opens its market account (also done implicitly by its first market action). */
  @Transaction()
  @Returns('string')
  async open(ctx: GridLedgerContext): Promise<string> {
    const m = requireMeter(ctx, 'wallets:open');
    await openMarketTx(ctx);
    await ensureAccount(ctx, m);
    return canonicalJson({ participantId: m.participantId, balance: await balanceOf(ctx, m.participantId) });
  }

  @Transaction()
  @Returns('string')
  async credit(ctx: GridLedgerContext, participantId: string, amount: string, reference: string): Promise<string> {
    const op = requireOperator(ctx, 'wallets:credit');
    if (!ID_PATTERN.test(participantId)) fail('INVALID_ARGUMENT', 'BAD_ID', 'participantId is not a valid participant id');
    const value = intArg(amount, 'amount', 1, MAX_QUANTITY);
    if (typeof reference !== 'string' || reference.length < 1 || reference.length > 128) fail('INVALID_ARGUMENT', 'BAD_REFERENCE', 'reference must be 1-128 characters (e.g. the payment reference)');
    await openMarketTx(ctx);
    const p = await lookupParticipant(ctx, participantId);
    if (!p) fail('NOT_FOUND', 'NO_ACCOUNT', `participant ${participantId} has no market account; the meter must join or open its wallet first`);
    if (p.mspId !== op.mspId) fail('FORBIDDEN', 'OTHER_UTILITY', `operators of ${op.mspId} may only credit participants of their own utility (this one belongs to ${p.mspId})`);
    await credit(ctx, participantId, value, 'topup', reference);
    emit(ctx, EVENTS.walletCredited, { participantId, amount: value, reference });
    return canonicalJson({ participantId, balance: await balanceOf(ctx, participantId) });
  }

  /** The owner, operators of its utility, or the regulator (who also sees the penalty pool). */
  @Transaction(false)
  @Returns('string')
  async get(ctx: GridLedgerContext, participantId: string): Promise<string> {
    const c = getCaller(ctx);
    await openMarketTx(ctx);
    await this.checkReader(ctx, c, participantId);
    return canonicalJson({ participantId, balance: await balanceOf(ctx, participantId) });
  }

  /** Audit trail, oldest first, paginated. Same readers as `get`. */
  @Transaction(false)
  @Returns('string')
  async history(ctx: GridLedgerContext, participantId: string, pageSize: string, bookmark: string): Promise<string> {
    const c = getCaller(ctx);
    await openMarketTx(ctx);
    await this.checkReader(ctx, c, participantId);
    const page = await pageByPartialKey<AuditEntry>(ctx, MKT.walletAudit, [participantId], pageSizeArg(pageSize), bookmark ?? '');
    return canonicalJson({ items: page.items.map((i) => i.value), bookmark: page.bookmark });
  }

  private async checkReader(ctx: GridLedgerContext, c: ReturnType<typeof getCaller>, participantId: string): Promise<void> {
    if (typeof participantId !== 'string' || !ID_PATTERN.test(participantId)) fail('INVALID_ARGUMENT', 'BAD_ID', 'participantId is not a valid participant id');
    if (c.role === 'regulator' || c.participantId === participantId) return;
    if (participantId === PENALTY_POOL) fail('FORBIDDEN', 'POOL_REGULATOR_ONLY', 'only the regulator may read the penalty pool');
    if (c.role === 'operator') {
      const p = await lookupParticipant(ctx, participantId);
      if (!p) fail('NOT_FOUND', 'NO_ACCOUNT', `participant ${participantId} has no market account`);
      if (p.mspId === c.mspId) return;
    }
    fail('FORBIDDEN', 'NOT_WALLET_READER', 'a wallet is readable by its owner, operators of its utility and the regulator');
  }
}
