/**
 * Base class of every GridLedger contract: makes fabric-contract-api create a GridLedgerContext
 * for each transaction and prepare it before the function runs (see kernel/context.ts).
 * Contracts declare `ctx: GridLedgerContext` — fabric-contract-api recognises the context
 * parameter by the class `createContext()` returns (lib/annotations/transaction.js), so the
 * declared type must be exactly this class.
 */
import { Contract } from 'fabric-contract-api';
import { GridLedgerContext } from './context';

export abstract class GridLedgerContract extends Contract {
  override createContext(): GridLedgerContext {
    return new GridLedgerContext();
  }

  override async beforeTransaction(ctx: GridLedgerContext): Promise<void> {
    ctx.begin();
  }
}
