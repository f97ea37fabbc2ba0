/** Typed failures of the ledger store; callers (committer, gateway) branch on `kind`. */
export type LedgerFailure = 'closed' | 'out-of-order-block' | 'corrupt-record';

export class LedgerError extends Error {
  constructor(
    readonly kind: LedgerFailure,
    message: string,
  ) {
    super(message);
    this.name = 'LedgerError';
  }
}
