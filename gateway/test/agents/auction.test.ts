import { nextAuctionStep, type AuctionSecretView } from '../../src/agents/duties/auction';
import type { AuctionView } from '../../src/agents/duties/types';

const S = 1_767_300_000;
const auction = (over: Partial<AuctionView> = {}): AuctionView => ({ requestId: 'r-1', t1: S, t2: S + 60, claimDeadline: S + 120, status: 'OPEN', ...over });
const seller: AuctionSecretView = { role: 'seller', offerId: 'o-1', pricePerKwh: 180, salt: 'salt-salt-salt-salt' };
const buyer: AuctionSecretView = { role: 'buyer' };
const at = (s: number) => s * 1000;

describe('auction autopilot', () => {
  it('a seller reveals its price and salt between t1 and t2, once', () => {
    expect(nextAuctionStep(auction(), seller, { nowMs: at(S - 10), revealed: false })).toEqual({ kind: 'wait', atMs: at(S), why: 'reveals open at t1' });
    expect(nextAuctionStep(auction(), seller, { nowMs: at(S), revealed: false })).toEqual({ kind: 'reveal', offerId: 'o-1', pricePerKwh: 180, salt: 'salt-salt-salt-salt' });
    expect(nextAuctionStep(auction(), seller, { nowMs: at(S + 59), revealed: false }).kind).toBe('reveal');
    // revealed: it waits for the close at t2
    expect(nextAuctionStep(auction(), seller, { nowMs: at(S + 5), revealed: true })).toMatchObject({ kind: 'wait', atMs: at(S + 60) });
    // t2 passed unrevealed (e.g. the gateway was down the whole window): nothing it can do any more
    expect(nextAuctionStep(auction(), seller, { nowMs: at(S + 60), revealed: false }).kind).toBe('done');
  });

  it('a buyer waits through the bidding; both claim once AWARDED, the seller only with the winning bid', () => {
    expect(nextAuctionStep(auction(), buyer, { nowMs: at(S + 5), revealed: false }).kind).toBe('wait');
    const awarded = auction({ status: 'AWARDED', winnerOfferId: 'o-1' });
    expect(nextAuctionStep(awarded, buyer, { nowMs: at(S + 70), revealed: false })).toEqual({ kind: 'claim-buyer' });
    expect(nextAuctionStep(awarded, seller, { nowMs: at(S + 70), revealed: true })).toEqual({ kind: 'claim-seller' });
    // another bid won: wait (a re-award may pass to this one)
    expect(nextAuctionStep(auction({ status: 'AWARDED', winnerOfferId: 'o-2' }), seller, { nowMs: at(S + 70), revealed: true }).kind).toBe('wait');
  });

  it('claims once: after its claim it waits for the other party; never after the claim deadline', () => {
    const claimed = auction({ status: 'AWARDED', winnerOfferId: 'o-1', buyerClaim: { participantId: 'p-B' }, sellerClaim: { participantId: 'p-S' } });
    expect(nextAuctionStep(claimed, buyer, { nowMs: at(S + 70), revealed: false, me: 'p-B' }).kind).toBe('wait');
    expect(nextAuctionStep(claimed, seller, { nowMs: at(S + 70), revealed: true, me: 'p-S' }).kind).toBe('wait');
    const late = auction({ status: 'AWARDED', winnerOfferId: 'o-1' });
    expect(nextAuctionStep(late, buyer, { nowMs: at(S + 120), revealed: false }).kind).toBe('wait');
    expect(nextAuctionStep(late, seller, { nowMs: at(S + 120), revealed: true }).kind).toBe('wait');
  });

  it('ends with the auction', () => {
    for (const status of ['NO_WINNER', 'TRADED', 'FAILED'] as const) {
      expect(nextAuctionStep(auction({ status }), seller, { nowMs: at(S + 200), revealed: true })).toEqual({ kind: 'done', why: `auction ${status}` });
      expect(nextAuctionStep(auction({ status }), buyer, { nowMs: at(S + 200), revealed: false }).kind).toBe('done');
    }
  });
});
