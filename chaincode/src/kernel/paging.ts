/**
 * The one paging helper. Every list transaction takes `pageSize` ("" = PAGE_DEFAULT, at most
 * PAGE_MAX) and an opaque `bookmark` ("" for the first page), and answers `{items…, bookmark}` with
 * bookmark "" on the last page. The limit matches the REST edge (openapi.yaml `PageSize`: 1-100,
 * default 50), so a page the gateway accepts is one the chaincode serves.
 *
 * Fabric serves paginated range queries to read-only transactions only
 * (fabric core/ledger/kvledger/txmgmt/txmgr/tx_simulator.go refuses writes after a paginated query), so list
 * transactions are evaluate-only (`@Transaction(false)`).
 */
import { decode } from './codec';
import { intArg } from './args';
import { GridLedgerContext } from './context';

export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 100;

export interface Page<T> {
  items: T[];
  bookmark: string;
}

export function pageSizeArg(v: string | undefined): number {
  return v === undefined || v === '' ? PAGE_DEFAULT : intArg(v, 'pageSize', 1, PAGE_MAX);
}

/** A page of entries under a partial composite key, with each entry's key attributes. */
export async function pageByPartialKey<T>(ctx: GridLedgerContext, type: string, attrs: string[], pageSize: number, bookmark: string): Promise<Page<{ attributes: string[]; value: T }>> {
  const res = await ctx.stub.getStateByPartialCompositeKeyWithPagination(type, attrs, pageSize, bookmark ?? '');
  const items: Array<{ attributes: string[]; value: T }> = [];
  const it = res.iterator;
  try {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      items.push({ attributes: ctx.stub.splitCompositeKey(r.value.key).attributes, value: decode<T>(r.value.value) });
    }
  } finally {
    await it.close();
  }
  return { items, bookmark: res.metadata?.bookmark ?? '' };
}
