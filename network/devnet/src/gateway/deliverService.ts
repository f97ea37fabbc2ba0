/**
 * protos.Deliver on each peer (F common/deliver/deliver.go, core/peer/deliverevents.go): what the
 * gateway client's getBlockEvents / getFilteredBlockEvents / getBlockAndPrivateDataEvents use.
 * Each request is a signed Envelope carrying orderer.SeekInfo; the peer checks the channel, the
 * Readers ACL (event/Block, event/FilteredBlock), streams blocks from start to stop (waiting for
 * new ones with BLOCK_UNTIL_READY) and ends each request with a SUCCESS status message.
 * DeliverWithPrivateData returns the blocks without private data (documented deviation).
 */
import type * as grpc from '@grpc/grpc-js';
import { common, orderer, peer } from '@hyperledger/fabric-protos';
import type { LedgerStore, TxStatus } from '../ledger';
import { transactionsFilter } from '../orderer/block';
import type { CommitNotifier } from '../peer/commitNotifier';
import type { ChannelMsp, PeerIdentity } from '../peer/deps';
import { parseEndorserTransaction, parseEnvelopeHeader } from '../peer/transaction';

type Kind = 'block' | 'filtered' | 'private';
type Stream = grpc.ServerDuplexStream<common.Envelope, peer.DeliverResponse>;

export interface DeliverServiceOptions {
  channel: string;
  msp: ChannelMsp;
  ledger: LedgerStore;
  notifier: CommitNotifier<TxStatus>;
}

const READER_ROLES = new Set(['admin', 'peer', 'client']);
const ST = common.Status;

/** A request that ends with a status message instead of blocks. */
class DeliverStatus extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'DeliverStatus';
  }
}

export class DeliverService {
  private closed = false;
  private readonly closers = new Set<() => void>();

  constructor(private readonly opts: DeliverServiceOptions) {}

  handlers(): grpc.UntypedServiceImplementation {
    return {
      deliver: (call: Stream) => this.session('block', call),
      deliverFiltered: (call: Stream) => this.session('filtered', call),
      deliverWithPrivateData: (call: Stream) => this.session('private', call),
    };
  }

  close(): void {
    this.closed = true;
    for (const c of [...this.closers]) c();
  }

  /** One bidi stream: requests are served one after another, as Fabric's handler does. */
  private session(kind: Kind, call: Stream): void {
    let chain = Promise.resolve();
    let ended = false;
    const finish = (): void => {
      ended = true;
      this.closers.delete(shutdown);
    };
    const shutdown = (): void => {
      finish();
      call.end();
    };
    this.closers.add(shutdown);
    call.on('cancelled', finish);
    call.on('data', (env: common.Envelope) => {
      chain = chain.then(() => this.serve(kind, call, env, () => ended || this.closed));
    });
    call.on('end', () => {
      // serve() answers every failure with a status message, so the chain never rejects.
      void chain.then(() => {
        if (ended) return;
        finish();
        call.end();
      });
    });
  }

  private async serve(kind: Kind, call: Stream, env: common.Envelope, stopped: () => boolean): Promise<void> {
    const sendStatus = (status: number): void => {
      const r = new peer.DeliverResponse();
      r.setStatus(status as common.StatusMap[keyof common.StatusMap]);
      if (!stopped()) call.write(r);
    };
    try {
      const { start, stop, failIfNotReady } = await this.checkRequest(env, kind);
      for (let n = start; n <= stop; n++) {
        while (n >= this.opts.ledger.height()) {
          if (failIfNotReady) throw new DeliverStatus(ST.NOT_FOUND, `block ${n} not yet available`);
          if (stopped()) return;
          await this.nextBlock(stopped);
          if (stopped()) return;
        }
        const bytes = await this.opts.ledger.getBlock(n);
        if (!bytes || stopped()) return;
        call.write(this.response(kind, common.Block.deserializeBinary(bytes)));
      }
      sendStatus(ST.SUCCESS);
    } catch (err) {
      sendStatus(err instanceof DeliverStatus ? err.status : ST.INTERNAL_SERVER_ERROR);
    }
  }

  private nextBlock(stopped: () => boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        off();
        this.closers.delete(done);
        resolve();
      };
      const off = this.opts.notifier.onBlock(done);
      this.closers.add(done);
      if (stopped()) done();
    });
  }

  private async checkRequest(env: common.Envelope, kind: Kind): Promise<{ start: number; stop: number; failIfNotReady: boolean }> {
    let h;
    try {
      h = parseEnvelopeHeader(env.serializeBinary());
    } catch {
      throw new DeliverStatus(ST.BAD_REQUEST, 'malformed envelope');
    }
    if (h.channelId !== this.opts.channel) throw new DeliverStatus(ST.NOT_FOUND, `channel ${h.channelId} not found`);
    // ACL event/Block and event/FilteredBlock = /Channel/Application/Readers
    let id: PeerIdentity;
    try {
      id = this.opts.msp.deserialize(h.creator);
    } catch {
      throw new DeliverStatus(ST.FORBIDDEN, 'access denied');
    }
    if (!this.opts.msp.verify(id, h.payloadBytes, h.signature) || !READER_ROLES.has(id.role)) {
      throw new DeliverStatus(ST.FORBIDDEN, `access denied for ${kind} events`);
    }
    let seek: orderer.SeekInfo;
    try {
      seek = orderer.SeekInfo.deserializeBinary(h.payload.getData_asU8());
    } catch {
      throw new DeliverStatus(ST.BAD_REQUEST, 'malformed seek info');
    }
    const height = this.opts.ledger.height();
    const position = (p: orderer.SeekPosition | undefined, dflt: number): number => {
      if (!p) return dflt;
      if (p.hasOldest()) return 0;
      if (p.hasNewest()) return Math.max(0, height - 1);
      if (p.hasSpecified()) return p.getSpecified()!.getNumber();
      if (p.hasNextCommit()) return height;
      return dflt;
    };
    const start = position(seek.getStart(), height);
    const stop = position(seek.getStop(), start);
    if (stop < start) throw new DeliverStatus(ST.BAD_REQUEST, 'stop before start');
    return { start, stop, failIfNotReady: seek.getBehavior() === orderer.SeekInfo.SeekBehavior.FAIL_IF_NOT_READY };
  }

  private response(kind: Kind, block: common.Block): peer.DeliverResponse {
    const r = new peer.DeliverResponse();
    if (kind === 'block') r.setBlock(block);
    else if (kind === 'private') {
      const bp = new peer.BlockAndPrivateData();
      bp.setBlock(block);
      r.setBlockAndPrivateData(bp);
    } else r.setFilteredBlock(filteredBlock(this.opts.channel, block));
    return r;
  }
}

/** FilteredBlock: per tx its id, type, validation code and chaincode event without payload. */
export function filteredBlock(channel: string, block: common.Block): peer.FilteredBlock {
  const codes = transactionsFilter(block);
  const fb = new peer.FilteredBlock();
  fb.setChannelId(channel);
  fb.setNumber(block.getHeader()!.getNumber());
  fb.setFilteredTransactionsList(
    (block.getData()?.getDataList_asU8() ?? []).map((bytes, i) => {
      const ft = new peer.FilteredTransaction();
      ft.setTxValidationCode((codes[i] ?? 254) as peer.TxValidationCodeMap[keyof peer.TxValidationCodeMap]);
      try {
        const h = parseEnvelopeHeader(bytes);
        ft.setTxid(h.txId);
        ft.setType(h.headerType as common.HeaderTypeMap[keyof common.HeaderTypeMap]);
        if (h.headerType === common.HeaderType.ENDORSER_TRANSACTION) {
          const actions = new peer.FilteredTransactionActions();
          const tx = parseEndorserTransaction(h);
          const evBytes = tx.chaincodeAction.getEvents_asU8();
          const fca = new peer.FilteredChaincodeAction();
          if (evBytes.length > 0) {
            const ev = peer.ChaincodeEvent.deserializeBinary(evBytes);
            ev.setPayload(new Uint8Array(0));
            fca.setChaincodeEvent(ev);
          }
          actions.setChaincodeActionsList([fca]);
          ft.setTransactionActions(actions);
        }
      } catch {
        // an unparsable entry is still listed with its validation code
      }
      return ft;
    }),
  );
  return fb;
}
