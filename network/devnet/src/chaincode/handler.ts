/**
 * Peer-side handling of the requests a chaincode makes while executing one transaction
 * (F core/chaincode/handler.go, query_response_generator.go; P§3.4-3.6). Each request gets a
 * RESPONSE, or an ERROR whose payload is "<TYPE> failed: transaction ID: <txid>: <cause>".
 */
import { randomUUID } from 'node:crypto';
import { peer } from '@hyperledger/fabric-protos';
import type { CollectionConfig } from '@gridledger/protocol';
import { findCollection } from '../config/collections';
import { accessOf, type CreatorIdentity, type MembershipCheck } from './collections';
import { HandlerError } from './errors';
import type { ResultIterator, TxSimulator } from './simulator';

type Msg = peer.ChaincodeMessage;
const T = peer.ChaincodeMessage.Type;
const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(T).map(([k, v]: [string, number]): [number, string] => [v, k]));

export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? String(type);
}

/** Fabric: results per QueryResponse batch (chaincode_support.go MaxResultLimit). */
export const MAX_RESULT_LIMIT = 100;

interface QueryContext {
  iter: ResultIterator;
  pending: Buffer[];
  totalReturned: number;
}

/** Everything the handler needs about one executing transaction. */
export class TransactionContext {
  readonly queries = new Map<string, QueryContext>();
  /**
   * Collections whose private VALUES the chaincode read (GetPrivateData, private range queries) — what
   * Fabric's simulator records as privateReads (txmgr/query_executor.go); GetPrivateDataHash does not
   * count. The endorser turns it into ChaincodeInterest.no_private_reads, which decides whether the
   * gateway may plan endorsers outside the collection's members.
   */
  readonly privateReads = new Set<string>();

  constructor(
    readonly chaincode: string,
    readonly channel: string,
    readonly txId: string,
    readonly sim: TxSimulator,
    readonly creator: CreatorIdentity,
    readonly collections: CollectionConfig[],
    readonly isMember: MembershipCheck,
    readonly totalQueryLimit: number,
  ) {}

  async closeAll(): Promise<void> {
    const all = [...this.queries.values()];
    this.queries.clear();
    await Promise.all(all.map((q) => q.iter.close().catch(() => undefined)));
  }

  async cleanup(id: string): Promise<void> {
    const q = this.queries.get(id);
    this.queries.delete(id);
    await q?.iter.close();
  }
}

function respond(req: Msg, payload: Uint8Array): Msg {
  const m = new peer.ChaincodeMessage();
  m.setType(T.RESPONSE);
  m.setPayload(payload);
  m.setTxid(req.getTxid());
  m.setChannelId(req.getChannelId());
  return m;
}

export function errorReply(req: Msg, cause: string): Msg {
  const m = new peer.ChaincodeMessage();
  m.setType(T.ERROR);
  m.setPayload(Buffer.from(`${typeName(req.getType())} failed: transaction ID: ${req.getTxid()}: ${cause}`, 'utf8'));
  m.setTxid(req.getTxid());
  m.setChannelId(req.getChannelId());
  return m;
}

const EMPTY = new Uint8Array(0);

/** Answers one chaincode request; never throws (errors become ERROR replies). */
export async function handleRequest(ctx: TransactionContext, msg: Msg): Promise<Msg> {
  try {
    return respond(msg, await dispatch(ctx, msg));
  } catch (err) {
    return errorReply(msg, (err as Error).message);
  }
}

async function dispatch(ctx: TransactionContext, msg: Msg): Promise<Uint8Array> {
  const payload = msg.getPayload_asU8();
  const cc = ctx.chaincode;
  switch (msg.getType()) {
    case T.GET_STATE: {
      const req = peer.GetState.deserializeBinary(payload);
      const coll = req.getCollection();
      if (coll) {
        readAccess(ctx, coll);
        ctx.privateReads.add(coll);
        return ctx.sim.getPrivateData(cc, coll, req.getKey());
      }
      return ctx.sim.getState(cc, req.getKey());
    }
    case T.PUT_STATE: {
      const req = peer.PutState.deserializeBinary(payload);
      const coll = req.getCollection();
      const value = Buffer.from(req.getValue_asU8());
      if (coll) {
        writeAccess(ctx, coll);
        ctx.sim.setPrivateData(cc, coll, req.getKey(), value);
      } else {
        ctx.sim.setState(cc, req.getKey(), value);
      }
      return EMPTY;
    }
    case T.DEL_STATE: {
      const req = peer.DelState.deserializeBinary(payload);
      const coll = req.getCollection();
      if (coll) {
        writeAccess(ctx, coll);
        ctx.sim.setPrivateData(cc, coll, req.getKey(), Buffer.alloc(0));
      } else {
        ctx.sim.setState(cc, req.getKey(), Buffer.alloc(0));
      }
      return EMPTY;
    }
    case T.PURGE_PRIVATE_DATA: {
      // The peer decodes PurgePrivateState as DelState (same field numbers).
      const req = peer.DelState.deserializeBinary(payload);
      const coll = req.getCollection();
      if (!coll) throw new HandlerError('only applicable for private data: collection must be set');
      writeAccess(ctx, coll);
      ctx.sim.purgePrivateData(cc, coll, req.getKey());
      return EMPTY;
    }
    case T.GET_PRIVATE_DATA_HASH: {
      const req = peer.GetState.deserializeBinary(payload);
      collection(ctx, req.getCollection()); // exists; no read ACL for hashes (F handler.go)
      return ctx.sim.getPrivateDataHash(cc, req.getCollection(), req.getKey());
    }
    case T.GET_STATE_METADATA: {
      const req = peer.GetStateMetadata.deserializeBinary(payload);
      const coll = req.getCollection();
      let md: Record<string, Buffer>;
      if (coll) {
        readAccess(ctx, coll);
        md = await ctx.sim.getPrivateDataMetadata(cc, coll, req.getKey());
      } else {
        md = await ctx.sim.getStateMetadata(cc, req.getKey());
      }
      const res = new peer.StateMetadataResult();
      // Fabric ranges over a Go map (random order); sorted here so results are reproducible.
      for (const k of Object.keys(md).sort()) {
        const e = new peer.StateMetadata();
        e.setMetakey(k);
        e.setValue(md[k]!);
        res.addEntries(e);
      }
      return res.serializeBinary();
    }
    case T.PUT_STATE_METADATA: {
      const req = peer.PutStateMetadata.deserializeBinary(payload);
      const entry = req.getMetadata();
      const md: Record<string, Buffer> = {};
      if (entry) md[entry.getMetakey()] = Buffer.from(entry.getValue_asU8());
      const coll = req.getCollection();
      if (coll) {
        writeAccess(ctx, coll);
        ctx.sim.setPrivateDataMetadata(cc, coll, req.getKey(), md);
      } else {
        ctx.sim.setStateMetadata(cc, req.getKey(), md);
      }
      return EMPTY;
    }
    case T.GET_STATE_BY_RANGE: {
      const req = peer.GetStateByRange.deserializeBinary(payload);
      const metadata = queryMetadata(req.getMetadata_asU8());
      const limit = totalReturnLimit(ctx, metadata);
      const coll = req.getCollection();
      let iter: ResultIterator;
      let paginated = false;
      if (coll) {
        readAccess(ctx, coll);
        ctx.privateReads.add(coll);
        iter = ctx.sim.privateRangeIterator(cc, coll, req.getStartkey(), req.getEndkey());
      } else if (metadata && isPaginated(metadata)) {
        paginated = true;
        // A non-empty bookmark replaces the start key (F stateleveldb GetBookmarkAndClose semantics).
        const start = metadata.getBookmark() !== '' ? metadata.getBookmark() : req.getStartkey();
        iter = ctx.sim.paginatedRangeIterator(cc, start, req.getEndkey(), metadata.getPagesize());
      } else {
        iter = ctx.sim.rangeIterator(cc, req.getStartkey(), req.getEndkey());
      }
      const id = randomUUID();
      ctx.queries.set(id, { iter, pending: [], totalReturned: 0 });
      return (await buildQueryResponse(ctx, id, paginated, limit)).serializeBinary();
    }
    case T.GET_QUERY_RESULT: {
      const req = peer.GetQueryResult.deserializeBinary(payload);
      if (req.getCollection()) readAccess(ctx, req.getCollection());
      const metadata = queryMetadata(req.getMetadata_asU8());
      // The devnet's state database is LevelDB-like: no rich queries, with Fabric's LevelDB text.
      throw new HandlerError(metadata && isPaginated(metadata) ? 'ExecuteQueryWithMetadata not supported for leveldb' : 'ExecuteQuery not supported for leveldb');
    }
    case T.QUERY_STATE_NEXT: {
      const req = peer.QueryStateNext.deserializeBinary(payload);
      if (!ctx.queries.has(req.getId())) throw new HandlerError('query iterator not found');
      return (await buildQueryResponse(ctx, req.getId(), false, ctx.totalQueryLimit)).serializeBinary();
    }
    case T.QUERY_STATE_CLOSE: {
      const req = peer.QueryStateClose.deserializeBinary(payload);
      await ctx.cleanup(req.getId());
      const res = new peer.QueryResponse();
      res.setHasMore(false);
      res.setId(req.getId());
      return res.serializeBinary();
    }
    case T.GET_HISTORY_FOR_KEY: {
      const req = peer.GetHistoryForKey.deserializeBinary(payload);
      const id = randomUUID();
      ctx.queries.set(id, { iter: await ctx.sim.historyIterator(cc, req.getKey()), pending: [], totalReturned: 0 });
      return (await buildQueryResponse(ctx, id, false, ctx.totalQueryLimit)).serializeBinary();
    }
    case T.INVOKE_CHAINCODE:
      throw new HandlerError('chaincode-to-chaincode invocation is not supported by the devnet');
    default:
      // WRITE_BATCH_STATE / GET_STATE_MULTIPLE are never sent: READY advertises neither (P§3.2).
      throw new HandlerError(`message type ${typeName(msg.getType())} is not supported by the devnet`);
  }
}

function collection(ctx: TransactionContext, name: string): CollectionConfig {
  const c = findCollection(ctx.collections, name);
  if (!c) throw new HandlerError(`collection [${name}] not defined in the collection config for chaincode [${ctx.chaincode}]`);
  return c;
}

function readAccess(ctx: TransactionContext, name: string): void {
  const c = collection(ctx, name);
  if (!accessOf(ctx.isMember(ctx.creator, c), c).read) {
    throw new HandlerError(`tx creator does not have read access permission on privatedata in chaincodeName:${ctx.chaincode} collectionName: ${name}`);
  }
}

function writeAccess(ctx: TransactionContext, name: string): void {
  const c = collection(ctx, name);
  if (!accessOf(ctx.isMember(ctx.creator, c), c).write) {
    throw new HandlerError(`tx creator does not have write access permission on privatedata in chaincodeName:${ctx.chaincode} collectionName: ${name}`);
  }
}

function queryMetadata(bytes: Uint8Array): peer.QueryMetadata | null {
  if (bytes.length === 0) return null;
  try {
    return peer.QueryMetadata.deserializeBinary(bytes);
  } catch (err) {
    throw new HandlerError(`failed to unmarshal query metadata: ${(err as Error).message}`);
  }
}

function isPaginated(m: peer.QueryMetadata): boolean {
  return m.getPagesize() !== 0 || m.getBookmark() !== '';
}

function totalReturnLimit(ctx: TransactionContext, m: peer.QueryMetadata | null): number {
  const pageSize = m?.getPagesize() ?? 0;
  return pageSize > 0 && pageSize < ctx.totalQueryLimit ? pageSize : ctx.totalQueryLimit;
}

function resultBytes(items: Buffer[]): peer.QueryResultBytes[] {
  return items.map((b) => {
    const r = new peer.QueryResultBytes();
    r.setResultbytes(b);
    return r;
  });
}

/**
 * One QueryResponse (F QueryResponseGenerator.BuildQueryResponse): batches of MAX_RESULT_LIMIT with
 * has_more while the iterator has results; the result read ahead to detect "more" is carried to
 * the next batch; results beyond `limit` are dropped; paginated queries answer one page + bookmark.
 */
async function buildQueryResponse(ctx: TransactionContext, id: string, paginated: boolean, limit: number): Promise<peer.QueryResponse> {
  const q = ctx.queries.get(id)!;
  for (;;) {
    let next: Buffer | null = null;
    if (q.totalReturned < limit) {
      try {
        next = await q.iter.next();
      } catch (err) {
        await ctx.cleanup(id).catch(() => undefined);
        throw err;
      }
    }
    if (next === null) {
      const res = new peer.QueryResponse();
      res.setResultsList(resultBytes(q.pending.splice(0)));
      res.setHasMore(false);
      res.setId(id);
      if (paginated) {
        ctx.queries.delete(id);
        const bookmark = (await q.iter.bookmarkAndClose?.()) ?? '';
        const md = new peer.QueryResponseMetadata();
        md.setFetchedRecordsCount(q.totalReturned);
        md.setBookmark(bookmark);
        res.setMetadata(md.serializeBinary());
      } else {
        await ctx.cleanup(id);
      }
      return res;
    }
    if (!paginated && q.pending.length === MAX_RESULT_LIMIT) {
      const batch = q.pending.splice(0);
      q.pending.push(next);
      q.totalReturned++;
      const res = new peer.QueryResponse();
      res.setResultsList(resultBytes(batch));
      res.setHasMore(true);
      res.setId(id);
      return res;
    }
    q.pending.push(next);
    q.totalReturned++;
  }
}
