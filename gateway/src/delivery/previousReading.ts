import type { ActingIdentity, LedgerClient } from '../fabric/ledger';
import type { LedgerError } from '../fabric/errors';
import type { DurableQueue, Receipt } from '../store/queue';
import { parseResult } from '../fabric/result';

/**
 * The chaincode checks a new reading's cumulative registers against the meter's last posted reading,
 * which only the utility's private collection holds, so the poster passes it as transient
 * `previousReading` (chaincode ledger/market/readings.ts). The gateway knows it from its own committed
 * receipts; if it does not (first reading through this gateway, or posted elsewhere) the chaincode names
 * the interval and the gateway reads it back with `meters:getReading` as the meter, then retries.
 */
export const READING_FUNCTIONS = new Set(['meters:postReading', 'meters:postReadings']);

type ReadingJson = Record<string, unknown> & { intervalStart?: number };

function readingsOf(r: Receipt): ReadingJson[] {
  if (r.fn === 'meters:postReading') {
    const text = r.transient?.reading ?? r.args[0];
    return text ? [JSON.parse(text) as ReadingJson] : [];
  }
  const text = r.transient?.readings ?? r.args[0];
  return text ? ((JSON.parse(text) as { readings?: ReadingJson[] }).readings ?? []) : [];
}

/** The last reading that a committed receipt of this meter RECORDED (not a duplicate), as JSON text. */
export function lastRecordedReading(queue: DurableQueue, meterId: string): string | undefined {
  for (const r of queue.committedOf(meterId, [...READING_FUNCTIONS], 50)) {
    const readings = readingsOf(r);
    const result = r.result as { status?: string; intervalStart?: number; results?: Array<{ intervalStart: number; status: string }> } | null;
    let recorded: number[] = [];
    if (result?.results) recorded = result.results.filter((x) => x.status === 'recorded').map((x) => x.intervalStart);
    else if (result?.status === 'recorded' && typeof result.intervalStart === 'number') recorded = [result.intervalStart];
    if (!recorded.length) continue;
    const last = Math.max(...recorded);
    const reading = readings.find((x) => x.intervalStart === last);
    if (reading) return JSON.stringify({ ...reading, meterId });
  }
  return undefined;
}

const NEEDS_PREVIOUS = /last posted reading \(interval (\d+)\)/;

/** If the chaincode refused for want of the right previousReading, fetches it from the ledger. */
export async function fetchPreviousReading(ledger: LedgerClient, id: ActingIdentity, meterId: string, err: LedgerError): Promise<string | undefined> {
  const m = err.chaincode && ['PRECONDITION_FAILED', 'CONFLICT'].includes(err.chaincode.code ?? '') ? NEEDS_PREVIOUS.exec(err.chaincode.text) : null;
  if (!m) return undefined;
  const res = parseResult(await ledger.evaluate(id, 'meters:getReading', [meterId, m[1]!])) as { reading?: ReadingJson } | null;
  return res?.reading ? JSON.stringify(res.reading) : undefined;
}
