/**
 * Which key made each MVCC-invalid transaction invalid (`BENCH_CONFLICTS=1 npm run bench:market`).
 *
 * Pure: it replays the scanned blocks in order, as the committer validates them (network/devnet
 * src/peer/mvcc.ts; Fabric core/ledger/kvledger/txmgmt/validation/validator.go): a transaction is
 * invalid with code 11 when a key it read was written by a VALID transaction committed after the
 * version its simulation saw, and with code 12 when a range it read gained, lost or changed a key.
 * For each invalid transaction it names the first such key and the function of the transaction
 * that wrote it. Writes before the scanned blocks are unknown, so a read of an older version is
 * attributed to "(before the window)".
 */
import type { LedgerTx } from '../rest/support';

export interface Conflict {
  txId: string;
  /** the invalid transaction's function, `trades:decide` */
  fn: string;
  code: number;
  /** the key's composite type (`gl.participant`), or the plain key */
  prefix: string;
  key: string;
  /** the function of the valid transaction that wrote the key ('' when unknown) */
  writerFn: string;
}

const shortFn = (fn: string): string => fn.replace(/^[^/]*\//, '');

/** `\u0000type\u0000attr…\u0000` → `type`; a plain key as it is. */
export function keyPrefix(key: string): string {
  if (!key.startsWith('\u0000')) return key;
  return key.slice(1).split('\u0000')[0] ?? key;
}

const before = (a: { blockNum: number; txNum: number }, b: { blockNum: number; txNum: number }): boolean =>
  a.blockNum < b.blockNum || (a.blockNum === b.blockNum && a.txNum < b.txNum);

const cmp = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Every MVCC/phantom-invalid transaction of `scanned` (read with `{ rwsets: true }`) with the key that invalidated it. */
export function findConflicts(scanned: LedgerTx[]): Conflict[] {
  const txs = [...scanned].sort((a, b) => a.blockNumber - b.blockNumber || a.txNum - b.txNum);
  // key (namespace-qualified) → valid writes in the window, in commit order
  const writes = new Map<string, Array<{ at: { blockNum: number; txNum: number }; fn: string }>>();
  const out: Conflict[] = [];
  for (const t of txs) {
    const at = { blockNum: t.blockNumber, txNum: t.txNum };
    if (!t.valid) {
      if (t.validationCode !== 11 && t.validationCode !== 12) continue;
      out.push(explain(t, at, writes));
      continue;
    }
    for (const ns of t.rwset ?? []) {
      for (const w of ns.writes) {
        const k = `${ns.namespace}\u0001${w.key}`;
        let list = writes.get(k);
        if (!list) writes.set(k, (list = []));
        list.push({ at, fn: t.fn });
      }
    }
  }
  return out;
}

function explain(t: LedgerTx, at: { blockNum: number; txNum: number }, writes: Map<string, Array<{ at: { blockNum: number; txNum: number }; fn: string }>>): Conflict {
  const base = { txId: t.txId, fn: shortFn(t.fn), code: t.validationCode };
  for (const ns of t.rwset ?? []) {
    for (const r of ns.reads) {
      const list = writes.get(`${ns.namespace}\u0001${r.key}`) ?? [];
      // the first valid write after the version the simulation read, committed before this transaction
      const w = list.find((x) => before(x.at, at) && (r.version === null || before(r.version, x.at)));
      if (w) return { ...base, prefix: keyPrefix(r.key), key: r.key, writerFn: shortFn(w.fn) };
    }
  }
  for (const ns of t.rwset ?? []) {
    for (const q of ns.ranges) {
      for (const [k, list] of writes) {
        const [n, key] = k.split('\u0001') as [string, string];
        if (n !== ns.namespace || cmp(key, q.startKey) < 0) continue;
        if (q.endKey !== '' && (q.itrExhausted ? cmp(key, q.endKey) >= 0 : cmp(key, q.endKey) > 0)) continue;
        // a write into the range committed shortly before this transaction (within its last 10 blocks)
        const w = list.find((x) => before(x.at, at) && x.at.blockNum >= at.blockNum - 10);
        if (w) return { ...base, prefix: `range ${keyPrefix(q.startKey)}`, key, writerFn: shortFn(w.fn) };
      }
    }
  }
  return { ...base, prefix: '(before the window)', key: '', writerFn: '' };
}

/** Counts, most frequent first: `fn ← prefix by writerFn: n`. */
export function summariseConflicts(conflicts: Conflict[]): Array<[string, string]> {
  const byFn = new Map<string, Map<string, number>>();
  for (const c of conflicts) {
    let m = byFn.get(`${c.fn}(${c.code})`);
    if (!m) byFn.set(`${c.fn}(${c.code})`, (m = new Map()));
    const k = `${c.prefix} ← ${c.writerFn || '?'}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...byFn]
    .sort((a, b) => sum(b[1]) - sum(a[1]))
    .map(([fn, m]) => [`${fn}: ${sum(m)}`, [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`).join('; ')]);
}

const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
