import { CHAINCODE_EVENT_NAME, EVENTS, eventId, isEventName, parseEventId, unpackEvents } from '../src';

const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

describe('event names', () => {
  it('are unique PascalCase names', () => {
    const names = Object.values(EVENTS);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[A-Z][A-Za-z]+$/);
    expect(isEventName('TradeCreated')).toBe(true);
    expect(isEventName('tradeCreated')).toBe(false);
  });
});

describe('unpackEvents', () => {
  it('returns the batch of a gridledger event in emission order', () => {
    const batch = { events: [{ name: EVENTS.tradeCreated, payload: { tradeId: 'trd-1' } }, { name: EVENTS.offerAccepted, payload: { offerId: 'o-1' } }] };
    expect(unpackEvents({ eventName: CHAINCODE_EVENT_NAME, payload: bytes(batch) })).toEqual(batch.events);
  });

  it('ignores other chaincode events, unreadable payloads and nameless entries', () => {
    expect(unpackEvents({ eventName: 'other', payload: bytes({ events: [{ name: 'TradeCreated', payload: {} }] }) })).toEqual([]);
    expect(unpackEvents({ eventName: CHAINCODE_EVENT_NAME, payload: new TextEncoder().encode('{') })).toEqual([]);
    expect(unpackEvents({ eventName: CHAINCODE_EVENT_NAME, payload: bytes(null) })).toEqual([]);
    expect(unpackEvents({ eventName: CHAINCODE_EVENT_NAME, payload: bytes({ events: [null, { payload: {} }, { name: 'TaskOpened', payload: {} }] }) })).toEqual([{ name: 'TaskOpened', payload: {} }]);
  });
});

describe('event ids', () => {
  it('round-trip <block>:<txId>:<index> and refuse anything else', () => {
    const id = eventId({ blockNumber: 12, txId: 'ab12', index: 3 });
    expect(id).toBe('12:ab12:3');
    expect(parseEventId(id)).toEqual({ blockNumber: 12, txId: 'ab12', index: 3 });
    for (const bad of ['', '12:ab12', 'x:ab:1', '1:a b:1', '1:ab:1234567']) expect(parseEventId(bad)).toBeUndefined();
  });
});
