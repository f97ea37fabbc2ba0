/**
 * Composite-key object types of the market (prefix `mkt.`, disjoint from the foundation's `gl.`).
 * Each hot path touches only keys of its own meter/participant/object:
 * - a reading writes mkt.reading(meter, interval) and mkt.meterHead(meter): thousands of meters
 *   posting at once share no key;
 * - a wallet credit writes a NEW key mkt.walletCredit(participant, txId…), never the balance, so
 *   many trades paying one seller in the same block do not collide; the owner's next debit folds them;
 * - indexes (offers/auctions by delivery interval, trades by party) are one empty-ish key per entry.
 */
export const MKT = {
  params: 'mkt.params', // ('current') -> MarketParams
  meterHead: 'mkt.meterHead', // (meterId) -> { lastIntervalStart, lastHash, mspId }
  reading: 'mkt.reading', // (meterId, paddedIntervalStart) -> public reading summary (hash only)
  wallet: 'mkt.wallet', // (participantId) -> folded balance
  walletCredit: 'mkt.walletCredit', // (participantId, localId) -> pending credit
  walletAudit: 'mkt.walletAudit', // (participantId, paddedTime, localId) -> audit entry
  packet: 'mkt.packet', // (packetId) -> energy packet
  packetByOwner: 'mkt.packetByOwner', // (participantId, packetId) -> ''
  minted: 'mkt.minted', // (meterId, paddedIntervalStart) -> { mintedWh, exportWh }
  importClaim: 'mkt.importClaim', // (meterId, paddedIntervalStart) -> { claimedWh, importWh }
  offer: 'mkt.offer', // (offerId) -> offer
  openOffer: 'mkt.openOffer', // (paddedDeliveryStart, offerId) -> '' (removed when the offer closes)
  trade: 'mkt.trade', // (tradeId) -> trade
  tradeByParty: 'mkt.tradeByParty', // (participantId, tradeId) -> { role }
  tradeVote: 'mkt.tradeVote', // (tradeId, stage, validatorId) -> vote
  standing: 'mkt.standing', // (participantId) -> { penalties, bannedUntil }
  auction: 'mkt.auction', // (requestId) -> request
  openAuction: 'mkt.openAuction', // (paddedDeliveryStart, requestId) -> ''
  auctionBid: 'mkt.auctionBid', // (requestId, offerId) -> bid
} as const;

/** The penalty pool: forfeited collateral goes here (regulator-visible), so money is conserved. */
export const PENALTY_POOL = 'pool:penalties';
