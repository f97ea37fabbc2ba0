/**
 * Composite-key object types of the market (prefix `gl.market.`, as chaincode/README.md asks).
 * Each hot path touches only keys of its own meter/participant/object:
 * - a reading writes ONLY to its utility's private collection: gl.market.reading / readingProof(meter, interval)
 *   and gl.market.meterHead(meter): thousands of meters posting at once share no key;
 * - a wallet credit writes a NEW key gl.market.walletCredit(participant, txId…), never the balance, so
 *   many trades paying one seller in the same block do not collide; the owner's next debit folds them;
 * - indexes (offers/auctions by delivery interval, trades by party) are one empty-ish key per entry.
 */
export const MKT = {
  params: 'gl.market.params', // ('current') -> MarketParams
  meterHead: 'gl.market.meterHead', // PRIVATE (mspId, meterId) -> { lastIntervalStart, lastHash, last }
  reading: 'gl.market.reading', // PRIVATE (mspId, meterId, paddedIntervalStart) -> raw reading
  meterKey: 'gl.market.meterKey', // PRIVATE (mspId, meterId) -> { spki, status } the meter's own public key (relayed readings)
  readingProof: 'gl.market.readingProof', // PRIVATE (mspId, meterId, paddedIntervalStart, export|import) -> flow proof
  wallet: 'gl.market.wallet', // (participantId) -> folded balance
  walletCredit: 'gl.market.walletCredit', // (participantId, localId) -> pending credit
  walletAudit: 'gl.market.walletAudit', // (participantId, paddedTime, localId) -> audit entry
  packet: 'gl.market.packet', // (packetId) -> energy packet
  packetByOwner: 'gl.market.packetByOwner', // (participantId, packetId) -> ''
  energyBalance: 'gl.market.energyBalance', // (participantId, shard 00-15) -> running sums of that shard's packets
  minted: 'gl.market.minted', // (meterId, paddedIntervalStart) -> { mintedWh, exportWh }
  importClaim: 'gl.market.importClaim', // (meterId, paddedIntervalStart) -> { claimedWh, importWh }
  offer: 'gl.market.offer', // (offerId) -> offer
  openOffer: 'gl.market.openOffer', // (paddedDeliveryStart, offerId) -> '' (removed when the offer closes)
  trade: 'gl.market.trade', // (tradeId) -> trade
  tradeByParty: 'gl.market.tradeByParty', // (participantId, tradeId) -> { role }
  tradeVote: 'gl.market.tradeVote', // (tradeId, stage, validatorId) -> vote
  auction: 'gl.market.auction', // (requestId) -> request
  openAuction: 'gl.market.openAuction', // (paddedDeliveryStart, requestId) -> ''
  auctionBid: 'gl.market.auctionBid', // (requestId, offerId) -> bid
} as const;

/** The penalty pool: forfeited collateral goes here (regulator-visible), so money is conserved. */
export const PENALTY_POOL = 'pool:penalties';
