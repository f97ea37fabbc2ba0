/** Public API of the devnet package. */
export { Devnet } from './devnet';
export type { DevnetStartOptions } from './devnet';
export { TxCode, txCodeName } from './peer/validationCodes';
