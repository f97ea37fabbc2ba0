/**
 * Sealed-bid auctions on the ledger: the request (pseudonymous id, no buyer identity), one key per
 * hashed bid (so sellers bidding at once never collide), an index of OPEN requests by delivery
 * interval. Reading all bids of ONE request at close is bounded by that auction's size.
 */
import { AuctionBid, AuctionRequest } from '../domain/auction';
import { MKT } from './keys';
import { fail } from '../../kernel/errors';
import { GridLedgerContext } from '../../kernel/context';
import { padUint } from '../../kernel/keys';

const reqKey = (ctx: GridLedgerContext, id: string): string => ctx.state.key(MKT.auction, [id]);
const openKey = (ctx: GridLedgerContext, r: AuctionRequest): string => ctx.state.key(MKT.openAuction, [padUint(r.deliveryStart, 12), r.requestId]);
const bidKey = (ctx: GridLedgerContext, requestId: string, offerId: string): string => ctx.state.key(MKT.auctionBid, [requestId, offerId]);

export async function getRequest(ctx: GridLedgerContext, id: string): Promise<AuctionRequest> {
  const r = await ctx.state.get<AuctionRequest>(reqKey(ctx, id));
  if (!r) fail('NOT_FOUND', 'AUCTION_NOT_FOUND', `auction request ${id} does not exist`);
  return r;
}

export async function putRequest(ctx: GridLedgerContext, r: AuctionRequest, isNew = false): Promise<void> {
  if (isNew && (await ctx.state.get(reqKey(ctx, r.requestId)))) fail('CONFLICT', 'AUCTION_EXISTS', `auction request ${r.requestId} already exists`);
  await ctx.state.put(reqKey(ctx, r.requestId), r);
  if (r.status === 'OPEN') await ctx.state.put(openKey(ctx, r), { requestId: r.requestId });
  else await ctx.state.del(openKey(ctx, r));
}

export async function getBid(ctx: GridLedgerContext, requestId: string, offerId: string): Promise<AuctionBid> {
  const b = await ctx.state.get<AuctionBid>(bidKey(ctx, requestId, offerId));
  if (!b) fail('NOT_FOUND', 'BID_NOT_FOUND', `offer ${offerId} does not exist in auction ${requestId}`);
  return b;
}

export async function putBid(ctx: GridLedgerContext, b: AuctionBid, isNew = false): Promise<void> {
  if (isNew && (await ctx.state.get(bidKey(ctx, b.requestId, b.offerId)))) fail('CONFLICT', 'BID_EXISTS', `this seller commitment already bid in auction ${b.requestId}`);
  await ctx.state.put(bidKey(ctx, b.requestId, b.offerId), b);
}

export async function listBids(ctx: GridLedgerContext, requestId: string): Promise<AuctionBid[]> {
  return (await ctx.state.list<AuctionBid>(MKT.auctionBid, [requestId])).map((r) => r.value);
}
