import type { LedgerEvent } from '../fabric/ledger';

/**
 * Groups a chaincode event stream into batches: the events of ONE block that are available together.
 * The peer's gateway service sends a block's chaincode events in one `ChaincodeEventsResponse`, and
 * fabric-gateway's iterator yields them one by one from it (node/src/chaincodeevents.ts in
 * hyperledger/fabric-gateway), so they resolve within the same event-loop turn: a batch is cut when the
 * next event is from another block, the stream ends, or no further event arrived before `setImmediate`
 * (nothing more was buffered). The event consumers (agents, beacon, analytics) then record a whole batch and
 * its checkpoint in ONE SQLite transaction (one fsync) instead of one per transaction of the block
 * (docs/benchmarks.md "Gateway CPU per settled trade").
 *
 * Order is kept and no event is dropped or repeated; a block may come in more than one batch (events that
 * arrived apart), which is harmless: each batch's checkpoint is its last event's (block, txId).
 */
export async function* blockBatches(stream: AsyncIterable<LedgerEvent>): AsyncGenerator<LedgerEvent[], void, undefined> {
  const it = stream[Symbol.asyncIterator]();
  const TURN_ENDED = Symbol('turn ended');
  let pending: Promise<IteratorResult<LedgerEvent>> | undefined;
  let carried: LedgerEvent | undefined;
  try {
    for (;;) {
      let first = carried;
      carried = undefined;
      if (!first) {
        const r = await (pending ?? it.next());
        pending = undefined;
        if (r.done) return;
        first = r.value;
      }
      const batch = [first];
      let ended = false;
      let failure: { error: unknown } | undefined;
      for (;;) {
        pending ??= it.next();
        let timer: NodeJS.Immediate | undefined;
        const turn = new Promise<typeof TURN_ENDED>((resolve) => {
          timer = setImmediate(() => resolve(TURN_ENDED));
        });
        let r: IteratorResult<LedgerEvent> | typeof TURN_ENDED;
        try {
          r = await Promise.race([pending, turn]);
        } catch (error) {
          // the stream failed after this batch's events: hand them over first, then the failure
          pending = undefined;
          failure = { error };
          break;
        } finally {
          clearImmediate(timer);
        }
        if (r === TURN_ENDED) break; // keep `pending`: the next batch starts with it
        pending = undefined;
        if (r.done) {
          ended = true;
          break;
        }
        if (r.value.blockNumber !== first.blockNumber) {
          carried = r.value;
          break;
        }
        batch.push(r.value);
      }
      yield batch;
      if (failure) throw failure.error;
      if (ended) return;
    }
  } finally {
    // the consumer stopped early (break/throw): end the underlying iteration too (a `next` still pending is
    // ended by the consumer closing its stream)
    if (!pending) await it.return?.();
  }
}
