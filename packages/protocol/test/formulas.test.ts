/**
 * The formulas chaincode and gateway agents both compute. Fixed vectors: a change here changes ids
 * and hashes already on ledgers, so it must fail loudly.
 */
import { beaconMessage, contractHashOf, taskIdFor, tradeCost, tradeIdFor, TRADE_TASK_KIND } from '../src';

describe('shared formulas', () => {
  it('derives task ids from kind and subject only', () => {
    expect(taskIdFor(TRADE_TASK_KIND, 'trd-1')).toBe('t-bc5f4af1a7ce7bd57d6ad666604de9a9');
    expect(taskIdFor('admission', 'trd-1')).not.toBe(taskIdFor(TRADE_TASK_KIND, 'trd-1'));
  });

  it('derives trade ids from their origin', () => {
    expect(tradeIdFor('offer', 'off-1')).toBe('trd-ad8e0b76f7956145a38df855329f8563');
  });

  it('hashes the contract terms', () => {
    const terms = { tradeId: 'trd-1', seller: 'p-S', buyer: 'p-B', amountWh: 200, pricePerKwh: 250, cost: 50, deliveryStart: 1_767_300_000, deliveryLength: 300 };
    expect(contractHashOf(terms)).toBe('adf8643fe6be3547266a77adb99041f95e4e4d1a8a3a168e5fe63c10cf28e4b4');
    expect(contractHashOf({ ...terms, amountWh: 201 })).not.toBe(contractHashOf(terms));
  });

  it('costs floor(amountWh × price / 1000) exactly, beyond 2^53 too', () => {
    expect(tradeCost(200, 250)).toBe(50n);
    expect(tradeCost(999, 1)).toBe(0n);
    expect(tradeCost(Number.MAX_SAFE_INTEGER, 1000)).toBe(BigInt(Number.MAX_SAFE_INTEGER));
  });

  it('names the beacon message with channel, task and round', () => {
    expect(beaconMessage('energy', 't-1', 2)).toBe('gridledger/beacon/v1|energy|t-1|2');
  });
});
