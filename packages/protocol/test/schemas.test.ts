/**
 * The transaction input schemas (src/schemas): the validators compiled ahead at build refuse with a
 * stable sub-code and a detail naming the field, and the catalogue in docs/transactions.md is the one
 * rendered from the schemas.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CATALOGUE, INPUT_SCHEMAS, TRANSACTIONS, checkInput, renderCatalogue, schemaSubCodes } from '../src';

const OFFER = { amountWh: 1500, pricePerKwh: 25, deliveryStart: 1_767_225_600, deliveryLength: 900, ttlSeconds: 600 };

function refusal(name: keyof typeof INPUT_SCHEMAS, value: unknown, what = 'x'): { subCode: string; detail: string } {
  const r = checkInput(name, value, what);
  if (r.ok) throw new Error(`${name} accepted ${JSON.stringify(value)}`);
  return { subCode: r.subCode, detail: r.detail };
}

describe('input schemas, compiled ahead', () => {
  it('has a compiled validator for every schema, and the generated code reads no clock, randomness or environment', () => {
    const file = path.join(__dirname, '..', 'dist', 'schemas', 'generated', 'validators.js');
    const code = fs.readFileSync(file, 'utf8');
    for (const name of Object.keys(INPUT_SCHEMAS)) expect(code).toContain(`exports.${name} = `);
    expect(code).not.toMatch(/Date\.now|new Date|Math\.random|process\.env|new Function|eval\(/);
  });

  it('accepts a valid offer and returns it unchanged', () => {
    expect(checkInput('OfferInput', OFFER, 'offer')).toEqual({ ok: true, value: OFFER });
  });

  it('bounds amountWh at 10,000,000 Wh, naming the field (the edge used to accept any amount)', () => {
    expect(refusal('OfferInput', { ...OFFER, amountWh: 10_000_001 }, 'offer')).toEqual({ subCode: 'OUT_OF_RANGE', detail: 'offer.amountWh must be between 1 and 10000000 (got 10000001)' });
    expect(refusal('OfferInput', { ...OFFER, amountWh: 1.5 }, 'offer')).toEqual({ subCode: 'NOT_INTEGER', detail: 'offer.amountWh must be an integer between 1 and 10000000' });
  });

  it('refuses unknown and missing fields with their sub-codes', () => {
    expect(refusal('OfferInput', { ...OFFER, extra: 1 }, 'offer')).toEqual({ subCode: 'UNKNOWN_FIELD', detail: 'offer: unknown field "extra" (allowed: amountWh, pricePerKwh, deliveryStart, deliveryLength, ttlSeconds)' });
    const { ttlSeconds: _t, ...noTtl } = OFFER;
    expect(refusal('OfferInput', noTtl, 'offer')).toEqual({ subCode: 'NOT_INTEGER', detail: 'offer.ttlSeconds is missing; it must be an integer between 1 and 1000000000000' });
    expect(refusal('OfferInput', { ...OFFER, deliveryLength: 120 }, 'offer').subCode).toBe('BAD_INTERVAL');
  });

  it('refuses `~` in ids (it separates composite-key parts), as the chaincode always did', () => {
    const r = refusal('PacketsInput', [{ packetId: 'a~b', amountWh: 1 }], 'packetsJson');
    expect(r).toEqual({ subCode: 'BAD_ID', detail: 'packetsJson[0].packetId must be an id (1-128 of A-Z a-z 0-9 . _ : -)' });
  });

  it('names nested fields with their index and uses the field schema\'s sub-code', () => {
    const reading = { intervalStart: 1_767_225_600, intervalLength: 900, importWh: 1, exportWh: 2, importRegisterWh: 10, exportRegisterWh: 20 };
    expect(checkInput('ReadingBatchInput', { meterId: 'm1', readings: [reading] }, 'batch').ok).toBe(true);
    expect(refusal('ReadingBatchInput', { meterId: 'm1', readings: [reading, { ...reading, importWh: 0.5 }] }, 'batch').detail).toBe('batch.readings[1].importWh must be an integer between 0 and 10000000');
    expect(refusal('ReadingBatchInput', { meterId: 'm1', readings: [] }, 'batch').subCode).toBe('BAD_BATCH');
    expect(refusal('VoteInput', { approve: 'yes' }, 'voteJson')).toEqual({ subCode: 'BAD_VOTE', detail: 'voteJson.approve must be true or false' });
    expect(refusal('VoteInput', { approve: true, conditions: { condition9: true } }, 'voteJson').subCode).toBe('UNKNOWN_CONDITION');
    expect(refusal('VoteInput', { approve: true, conditions: [] }, 'voteJson').subCode).toBe('BAD_CONDITION');
  });

  it('echoes a caller value bounded (never a 300,000-character argument)', () => {
    const r = refusal('AuctionRevealInput', { pricePerKwh: 1, salt: 'x'.repeat(16), extra: 0 }, 'auctionReveal');
    expect(r.subCode).toBe('UNKNOWN_FIELD');
    const huge = refusal('OfferInput', { ...OFFER, ['k'.repeat(300_000)]: 1 }, 'offer');
    expect(huge.detail.length).toBeLessThan(400);
  });

  it('refuses only with sub-codes INVALID_ARGUMENT catalogues (errors.ts), so the chaincode\'s typed fail() holds', () => {
    const subCodes = schemaSubCodes(INPUT_SCHEMAS);
    expect(subCodes.length).toBeGreaterThan(5);
    const catalogued = new Set<string>(ERROR_CATALOGUE.INVALID_ARGUMENT.subCodes);
    expect(subCodes.filter((s) => !catalogued.has(s))).toEqual([]);
  });
});

describe('the transaction catalogue', () => {
  it('names every transaction once, and every JSON argument names its input schema', () => {
    const names = TRANSACTIONS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const t of TRANSACTIONS) {
      for (const a of t.args) if (a.kind === 'json') expect(a.schemaName && INPUT_SCHEMAS[a.schemaName]).toBe(a.schema);
    }
    const used = new Set(TRANSACTIONS.flatMap((t) => [...t.args.map((a) => a.schemaName), ...(t.transient ?? []).map((x) => x.schemaName)]));
    // ReadingItem is the item schema of ReadingBatchInput
    for (const name of Object.keys(INPUT_SCHEMAS)) if (name !== 'ReadingItem') expect(used).toContain(name);
  });

  it('docs/transactions.md is current (regenerate: npm run build && npm run catalogue --workspace packages/protocol)', () => {
    const file = path.join(__dirname, '..', '..', '..', 'docs', 'transactions.md');
    expect(fs.readFileSync(file, 'utf8')).toBe(renderCatalogue() + '\n');
  });
});
