/**
 * Typed chaincode errors. The message starts with a stable code in brackets (CONTRACTS.md) so the
 * gateway can map it to an HTTP status without parsing prose, e.g. `[FORBIDDEN] meter m-17 ...`.
 * Throwing any of these fails the transaction as a whole: Fabric discards the simulation's writes,
 * so a thrown error never leaves half-written state.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'INSUFFICIENT_FUNDS',
  'INSUFFICIENT_ENERGY',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class GridLedgerError extends Error {
  readonly code: ErrorCode;
  /** The human part of the message, without the `[CODE]` prefix. */
  readonly detail: string;

  constructor(code: ErrorCode, detail: string) {
    super(`[${code}] ${detail}`);
    this.name = 'GridLedgerError';
    this.code = code;
    this.detail = detail;
  }
}

export const invalidArgument = (detail: string): GridLedgerError => new GridLedgerError('INVALID_ARGUMENT', detail);
export const unauthenticated = (detail: string): GridLedgerError => new GridLedgerError('UNAUTHENTICATED', detail);
export const forbidden = (detail: string): GridLedgerError => new GridLedgerError('FORBIDDEN', detail);
export const notFound = (detail: string): GridLedgerError => new GridLedgerError('NOT_FOUND', detail);
export const conflict = (detail: string): GridLedgerError => new GridLedgerError('CONFLICT', detail);
export const preconditionFailed = (detail: string): GridLedgerError => new GridLedgerError('PRECONDITION_FAILED', detail);

/** Parses `[CODE] detail` back into its parts (used by tests and by callers relaying errors). */
export function parseErrorCode(message: string): ErrorCode | undefined {
  const m = /^\[([A-Z_]+)\]/.exec(message);
  if (!m) return undefined;
  return (ERROR_CODES as readonly string[]).includes(m[1]) ? (m[1] as ErrorCode) : undefined;
}
