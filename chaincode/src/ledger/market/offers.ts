/** Offers on the ledger: the record plus an index of OPEN offers by delivery interval. */
import { Offer } from '../../domain/market/offer';
import { padUint } from '../keys';
import { MKT } from './keys';
import { MarketTx } from './txState';
import { fail } from '../../kernel/errors';

export const offerKey = (tx: MarketTx, offerId: string): string => tx.key(MKT.offer, [offerId]);
const openKey = (tx: MarketTx, o: Offer): string => tx.key(MKT.openOffer, [padUint(o.deliveryStart, 12), o.offerId]);

export async function getOffer(tx: MarketTx, offerId: string): Promise<Offer> {
  const o = await tx.get<Offer>(offerKey(tx, offerId));
  if (!o) fail('NOT_FOUND', 'OFFER_NOT_FOUND', `offer ${offerId} does not exist`);
  return o;
}

export async function putOffer(tx: MarketTx, o: Offer, isNew = false): Promise<void> {
  if (isNew && (await tx.get(offerKey(tx, o.offerId)))) fail('CONFLICT', 'OFFER_EXISTS', `offer ${o.offerId} already exists`);
  await tx.put(offerKey(tx, o.offerId), o);
  if (o.status === 'OPEN') await tx.put(openKey(tx, o), { offerId: o.offerId, deliveryStart: o.deliveryStart });
  else await tx.del(openKey(tx, o));
}
