import { peer } from '@hyperledger/fabric-protos';

/**
 * peer.TxValidationCode (fabric-protos peer/transaction.proto, P§5), the values the committer
 * assigns; fabric-gateway exposes the same enum as `StatusCode`.
 */
export const TxCode = peer.TxValidationCode;

const names = new Map<number, string>(Object.entries(TxCode).map(([k, v]) => [v as number, k]));
/** The code's name as Fabric prints it. */
export function txCodeName(code: number): string {
  return names.get(code) ?? `UNKNOWN_${code}`;
}
