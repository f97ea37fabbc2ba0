import { audienceOf, concerns, PUBLIC_EVENTS, type Audience, type RecordLookup } from '../src/events/scope';

const me: Audience = { all: false, meterIds: new Set(['m-1']), participantIds: new Set(['p-me']) };

const records: Record<string, Record<string, unknown>> = {
  'trade:tr-mine': { tradeId: 'tr-mine', seller: 'p-other', buyer: 'p-me', sellerMeterId: 'm-9', buyerMeterId: 'm-1' },
  'trade:tr-theirs': { tradeId: 'tr-theirs', seller: 'p-a', buyer: 'p-b', sellerMeterId: 'm-a', buyerMeterId: 'm-b' },
  'offer:o-mine': { offerId: 'o-mine', seller: 'p-me', sellerMeterId: 'm-1' },
  'offer:o-theirs': { offerId: 'o-theirs', seller: 'p-a', sellerMeterId: 'm-a' },
  'task:t-committee': { taskId: 't-committee', kind: 'admission', subjectId: 'p-new#1', parties: ['p-new'], committee: ['p-x', 'p-me'] },
  'task:t-party': { taskId: 't-party', kind: 'trade-validation', subjectId: 'tr-mine', parties: ['p-other', 'p-me'], committee: [] },
  'task:t-theirs': { taskId: 't-theirs', kind: 'admission', subjectId: 'p-new#1', parties: ['p-new'], committee: ['p-x', 'p-y'] },
};

function lookupOf(): { lookup: RecordLookup; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    lookup: async (kind, id) => {
      asked.push(`${kind}:${id}`);
      return records[`${kind}:${id}`];
    },
  };
}

describe('event scoping (who may see which chaincode event)', () => {
  it('operator and regulator keys see every event without any lookup', async () => {
    const { lookup, asked } = lookupOf();
    const op = await audienceOf({ keyId: 'op', roles: ['operator'], meters: [] } as never, async () => 'unused');
    const reg = await audienceOf({ keyId: 'reg', roles: ['regulator'], meters: [] } as never, async () => 'unused');
    for (const a of [op, reg]) {
      expect(await concerns(a, 'WalletCredited', { participantId: 'p-anyone', amount: 5 }, lookup)).toBe(true);
      expect(await concerns(a, 'TradeClosed', { tradeId: 'tr-theirs' }, lookup)).toBe(true);
    }
    expect(asked).toEqual([]);
  });

  it('a meter key resolves the participant of each of its meters', async () => {
    const a = await audienceOf({ keyId: 'k', roles: ['meter'], meters: ['m-1', 'm-2'] } as never, async (m) => (m === 'm-1' ? 'p-me' : undefined));
    expect(a).toEqual({ all: false, meterIds: new Set(['m-1', 'm-2']), participantIds: new Set(['p-me']) });
  });

  it('a meter key sees public market information, whoever it concerns', async () => {
    const { lookup } = lookupOf();
    for (const name of PUBLIC_EVENTS) expect(await concerns(me, name, { offerId: 'o-theirs', requestId: 'a-1', changed: ['x'] }, lookup)).toBe(true);
    expect([...PUBLIC_EVENTS].sort()).toEqual(['AuctionRequested', 'MarketParametersChanged', 'OfferCreated', 'ParametersChanged']);
  });

  it.each([
    ['ReadingRecorded', { mspId: 'U1', meterId: 'm-1', intervals: [900] }],
    ['MeterEnrolled', { mspId: 'U1', meterId: 'm-1', zone: 'z' }],
    ['WalletCredited', { participantId: 'p-me', amount: 5, reference: 'r' }],
    ['QScoreChanged', { participantId: 'p-me', qScore: 3 }],
    ['EnergyMinted', { packetId: 'pk', owner: 'p-me', amountWh: 5 }],
    ['CommitteeDrawn', { taskId: 't-x', subjectId: 'p-new#2', committee: ['p-a', 'p-me'] }],
    ['VoteRecorded', { taskId: 't-x', voter: 'p-me', approve: true }],
    ['LeaderEntryRecorded', { taskId: 't-x', leader: 'p-me' }],
    ['ParticipantJoined', { participantId: 'p-me', taskId: 't-x' }],
    ['BallotDecided', { taskId: 't-x', kind: 'admission', subjectId: 'p-me#1', outcome: 'APPROVED' }],
  ])('a meter key sees %s naming its meter or participant directly', async (name, payload) => {
    const { lookup, asked } = lookupOf();
    expect(await concerns(me, name, payload, lookup)).toBe(true);
    expect(asked).toEqual([]);
  });

  it.each([
    ['TradeClosed', { tradeId: 'tr-mine', state: 'SETTLED' }, true],
    ['TradeClosed', { tradeId: 'tr-theirs', state: 'SETTLED' }, false],
    ['OfferAccepted', { offerId: 'o-theirs', tradeId: 'tr-mine' }, true], // I am the buyer of the trade
    ['OfferAccepted', { offerId: 'o-theirs', tradeId: 'tr-theirs' }, false],
    ['OfferClosed', { offerId: 'o-mine', status: 'EXPIRED' }, true],
    ['OfferClosed', { offerId: 'o-theirs', status: 'EXPIRED' }, false],
    ['AuctionClosed', { requestId: 'a-1', winnerOfferId: 'o-mine' }, true],
    ['AuctionBid', { requestId: 'a-1', offerId: 'o-theirs', energyWh: 5 }, false],
    ['VoteRecorded', { taskId: 't-committee', voter: 'p-x', approve: true }, true], // I sit on that committee
    ['LeaderEntryRecorded', { taskId: 't-party', leader: 'p-x' }, true], // I am a party of the task
    ['VoteRecorded', { taskId: 't-theirs', voter: 'p-x', approve: true }, false],
    ['TaskOpened', { taskId: 't-theirs', subjectId: 'p-new#1', utilities: ['U1'] }, false],
    ['TradeClosed', { tradeId: 'tr-unknown' }, false], // unreadable record: fail closed
  ])('a meter key sees %s %j only if the record it refers to concerns it (%s)', async (name, payload, expected) => {
    const { lookup } = lookupOf();
    expect(await concerns(me, name, payload, lookup)).toBe(expected);
  });

  it('a meter key does not see other participants\' events', async () => {
    const { lookup } = lookupOf();
    expect(await concerns(me, 'WalletCredited', { participantId: 'p-a', amount: 5 }, lookup)).toBe(false);
    expect(await concerns(me, 'ReadingRecorded', { meterId: 'm-a' }, lookup)).toBe(false);
    expect(await concerns(me, 'CommitteeDrawn', { taskId: 't-theirs', committee: ['p-x', 'p-y'], subjectId: 'p-new#1' }, lookup)).toBe(false);
    expect(await concerns(me, 'BeaconKeyRegistered', { mspId: 'U1' }, lookup)).toBe(false);
    expect(await concerns(me, 'ParticipantAdmitted', 'not an object', lookup)).toBe(false);
  });
});
