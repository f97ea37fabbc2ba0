/**
 * Entry of the ledger thread (ledgerThread.ts ThreadedLedger): runs `endorse` and `submitPrepared` of
 * a FabricLedger (its own gRPC connection) for the gateway's main thread. Holds no state of its own
 * beyond the connection and one fabric-gateway `Gateway` per identity.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { normalizeLedgerError } from './errors';
import { FabricLedger, type FabricLedgerOptions } from './ledger';
import { errorToData, type LedgerThreadReply, type LedgerThreadRequest } from './ledgerThread';

const port = parentPort;
if (!port) throw new Error('ledgerThreadMain runs only as a worker thread (fabric/ledgerThread.ts)');
const ledger = new FabricLedger((workerData as { options: FabricLedgerOptions }).options);

port.on('message', (m: LedgerThreadRequest) => {
  if (m.op === 'forget') {
    ledger.forget(m.key);
    return;
  }
  const stage = m.op === 'endorse' ? 'endorse' : 'submit';
  const run = m.op === 'endorse' ? ledger.endorse(m.identity, m.fn, m.args, m.transient) : ledger.submitPrepared(m.identity, m.bytes);
  run.then(
    (value) => port.postMessage({ id: m.id, ok: true, value } satisfies LedgerThreadReply),
    (e: unknown) => port.postMessage({ id: m.id, ok: false, error: errorToData(normalizeLedgerError(e, stage)) } satisfies LedgerThreadReply),
  );
});
