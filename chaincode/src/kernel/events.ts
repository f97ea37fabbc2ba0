/**
 * Chaincode events. Fabric keeps only the LAST `setEvent` of a transaction, so a transaction that
 * changes several things (e.g. a vote that also decides an admission) must send them together:
 * every `emit` appends to a per-transaction batch and re-sets ONE event named `gridledger` whose
 * payload is the protocol's `EventBatch`, `{"events":[{"name":..., "payload":...}, ...]}`
 * (canonical JSON, in emission order; packages/protocol/src/events.ts). Listeners filter on the
 * inner `name`, one of the protocol's `EVENTS`.
 */
import { CHAINCODE_EVENT_NAME, type ChaincodeEvent, type EventName } from '@gridledger/protocol';
import { encode } from './codec';
import { GridLedgerContext } from './context';


// Keyed by the transaction's stub: one batch per transaction, garbage-collected with it.
const batches = new WeakMap<object, Array<ChaincodeEvent<unknown>>>();

export function emit(ctx: GridLedgerContext, name: EventName, payload: unknown): void {
  emitAll(ctx, name, [payload]);
}

/**
 * Several events of one name at once, encoded once (a relayed batch emits one per meter: emitting
 * them one by one re-encodes the growing batch each time, quadratic in the number of meters).
 */
export function emitAll(ctx: GridLedgerContext, name: EventName, payloads: unknown[]): void {
  if (payloads.length === 0) return;
  let batch = batches.get(ctx.stub);
  if (!batch) {
    batch = [];
    batches.set(ctx.stub, batch);
  }
  for (const payload of payloads) batch.push({ name, payload });
  ctx.stub.setEvent(CHAINCODE_EVENT_NAME, encode({ events: batch }));
}
