export { LedgerStore } from './ledgerStore';
export type { LedgerOpenOptions, LedgerReader, LedgerSnapshot } from './ledgerStore';
export { LedgerError } from './errors';
export type { LedgerFailure } from './errors';
export { compareKeys } from './keys';
export type * from './types';
