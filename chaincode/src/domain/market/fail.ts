/**
 * Market rules throw the foundation's typed error (../../errors.ts has no Fabric dependency, so the
 * pure domain modules can use it). `fail` keeps each rule a one-liner.
 */
import { ErrorCode, GridLedgerError } from '../../errors';

export function fail(code: ErrorCode, detail: string): never {
  throw new GridLedgerError(code, detail);
}
