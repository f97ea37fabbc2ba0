/** Offers on the ledger: the record plus an index of OPEN offers by delivery interval. */
import { Offer } from '../domain/offer';
import { MKT } from './keys';
import { fail } from '../../kernel/errors';
import { GridLedgerContext } from '../../kernel/context';
import { padUint } from '../../kernel/keys';

export const offerKey = (ctx: GridLedgerContext, offerId: string): string => ctx.state.key(MKT.offer, [offerId]);
const openKey = (ctx: GridLedgerContext, o: Offer): string => ctx.state.key(MKT.openOffer, [padUint(o.deliveryStart, 12), o.offerId]);

export async function getOffer(ctx: GridLedgerContext, offerId: string): Promise<Offer> {
  const o = await ctx.state.get<Offer>(offerKey(ctx, offerId));
  if (!o) fail('NOT_FOUND', 'OFFER_NOT_FOUND', `offer ${offerId} does not exist`);
  return o;
}

export async function putOffer(ctx: GridLedgerContext, o: Offer, isNew = false): Promise<void> {
  if (isNew && (await ctx.state.get(offerKey(ctx, o.offerId)))) fail('CONFLICT', 'OFFER_EXISTS', `offer ${o.offerId} already exists`);
  await ctx.state.put(offerKey(ctx, o.offerId), o);
  if (o.status === 'OPEN') await ctx.state.put(openKey(ctx, o), { offerId: o.offerId, deliveryStart: o.deliveryStart });
  else await ctx.state.del(openKey(ctx, o));
}
