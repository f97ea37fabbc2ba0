/**
 * Sealed-bid auctions on the ledger: the request (pseudonymous id, no buyer identity), one key per
 * hashed bid (so sellers bidding at once never collide), an index of OPEN requests by delivery
 * interval. Reading all bids of ONE request at close is bounded by that auction's size.
 */
import { AuctionBid, AuctionRequest } from '../../domain/market/auction';
import { padUint } from '../keys';
import { MKT } from './keys';
import { MarketTx } from './txState';
import { fail } from '../../kernel/errors';

const reqKey = (tx: MarketTx, id: string): string => tx.key(MKT.auction, [id]);
const openKey = (tx: MarketTx, r: AuctionRequest): string => tx.key(MKT.openAuction, [padUint(r.deliveryStart, 12), r.requestId]);
const bidKey = (tx: MarketTx, requestId: string, offerId: string): string => tx.key(MKT.auctionBid, [requestId, offerId]);

export async function getRequest(tx: MarketTx, id: string): Promise<AuctionRequest> {
  const r = await tx.get<AuctionRequest>(reqKey(tx, id));
  if (!r) fail('NOT_FOUND', 'AUCTION_NOT_FOUND', `auction request ${id} does not exist`);
  return r;
}

export async function putRequest(tx: MarketTx, r: AuctionRequest, isNew = false): Promise<void> {
  if (isNew && (await tx.get(reqKey(tx, r.requestId)))) fail('CONFLICT', 'AUCTION_EXISTS', `auction request ${r.requestId} already exists`);
  await tx.put(reqKey(tx, r.requestId), r);
  if (r.status === 'OPEN') await tx.put(openKey(tx, r), { requestId: r.requestId });
  else await tx.del(openKey(tx, r));
}

export async function getBid(tx: MarketTx, requestId: string, offerId: string): Promise<AuctionBid> {
  const b = await tx.get<AuctionBid>(bidKey(tx, requestId, offerId));
  if (!b) fail('NOT_FOUND', 'BID_NOT_FOUND', `offer ${offerId} does not exist in auction ${requestId}`);
  return b;
}

export async function putBid(tx: MarketTx, b: AuctionBid, isNew = false): Promise<void> {
  if (isNew && (await tx.get(bidKey(tx, b.requestId, b.offerId)))) fail('CONFLICT', 'BID_EXISTS', `this seller commitment already bid in auction ${b.requestId}`);
  await tx.put(bidKey(tx, b.requestId, b.offerId), b);
}

export async function listBids(tx: MarketTx, requestId: string): Promise<AuctionBid[]> {
  return (await tx.list<AuctionBid>(MKT.auctionBid, [requestId])).map((r) => r.value);
}
