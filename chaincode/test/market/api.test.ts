/**
 * The gateway calls `<contract>:<function>` with exactly the declared number of string arguments
 * (fabric-contract-api refuses any other count). This pins the market API of docs/market.md §11.
 */
import 'reflect-metadata';
import { AuctionsContract } from '../../src/market/contracts/auctions.contract';
import { EnergyContract } from '../../src/market/contracts/energy.contract';
import { MarketContract } from '../../src/market/contracts/market.contract';
import { MetersContract } from '../../src/market/contracts/meters.contract';
import { OffersContract } from '../../src/market/contracts/offers.contract';
import { TradesContract } from '../../src/market/contracts/trades.contract';
import { WalletsContract } from '../../src/market/contracts/wallets.contract';
import { contracts } from '../../src';
import '../support/quietLogs';

const API: Record<string, Record<string, [args: number, submit: boolean]>> = {
  meters: { postReading: [1, true], postReadings: [1, true], registerKey: [0, true], revokeKey: [1, true], relayReadings: [1, true], getReading: [2, false], getHead: [2, false], getProof: [3, false], getReadingHash: [3, false] },
  wallets: { open: [0, true], credit: [3, true], get: [1, false], history: [3, false] },
  energy: { mint: [1, true], get: [1, false], listByOwner: [3, false], balance: [1, false] },
  offers: { create: [1, true], accept: [3, true], giveUp: [1, true], expire: [1, true], get: [1, false], listOpen: [3, false] },
  trades: {
    deliverEnergy: [2, true], confirmDelivery: [2, true], recordEntry: [1, true], vote: [2, true], decide: [1, true], timeout: [1, true],
    get: [1, false], listByParticipant: [3, false], history: [3, false],
  },
  auctions: {
    request: [1, true], bid: [2, true], reveal: [3, true], close: [1, true], claimBuyer: [2, true], claimSeller: [2, true], expire: [1, true],
    get: [1, false], listBids: [3, false], listOpen: [3, false],
  },
  market: { getParameters: [0, false], setParameters: [1, true] },
};

describe('market API surface', () => {
  it.each([MetersContract, WalletsContract, EnergyContract, OffersContract, TradesContract, AuctionsContract, MarketContract])('%p matches the documented table', (C) => {
    const c = new C();
    const txs = (Reflect.getMetadata('fabric:transactions', c) ?? []) as Array<{ name: string; parameters?: unknown[]; tag?: string[] }>;
    const expected = API[c.getName()] ?? {};
    expect(txs.map((t) => t.name).sort()).toEqual(Object.keys(expected).sort());
    for (const t of txs) {
      const spec = expected[t.name];
      if (!spec) throw new Error(`${c.getName()}:${t.name} is not in the API table`);
      const [args, submit] = spec;
      expect([t.name, (t.parameters ?? []).length]).toEqual([t.name, args]);
      expect([t.name, (t.tag ?? []).includes('SUBMIT') || (t.tag ?? []).includes('submitTx')]).toEqual([t.name, submit]);
    }
    expect(contracts).toContain(C);
  });
});
