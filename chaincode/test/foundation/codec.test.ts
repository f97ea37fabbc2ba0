import { canonicalJson, decode, encode, parseJsonArg, toBigInt } from '../../src/ledger/codec';
import { GridLedgerError, parseErrorCode } from '../../src/errors';

describe('canonical JSON codec', () => {
  it('sorts keys at every depth, independent of insertion order', () => {
    const a = canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 'x' } });
    const b = canonicalJson({ a: { c: 'x', d: [{ y: 2, z: 1 }] }, b: 1 });
    expect(a).toBe('{"a":{"c":"x","d":[{"y":2,"z":1}]},"b":1}');
    expect(b).toBe(a);
  });

  it('refuses floats and unsafe integers so nothing fractional reaches the ledger', () => {
    expect(() => canonicalJson({ amount: 1.5 })).toThrow(/only safe integers/);
    expect(() => canonicalJson({ amount: 2 ** 53 })).toThrow(/only safe integers/);
    expect(() => canonicalJson({ amount: Number.NaN })).toThrow(/only safe integers/);
  });

  it('writes BigInt as a decimal string and reads it back exactly', () => {
    const big = 123456789012345678901234567890n;
    const text = canonicalJson({ v: big });
    expect(text).toBe('{"v":"123456789012345678901234567890"}');
    expect(toBigInt(decode<{ v: string }>(encode({ v: big })).v)).toBe(big);
    expect(() => toBigInt('1.5', 'amount')).toThrow(/amount must be an integer/);
  });

  it('drops undefined members but rejects undefined in arrays', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson([1, undefined])).toThrow(/undefined/);
  });

  it('turns malformed argument JSON into INVALID_ARGUMENT naming the argument', () => {
    expect(() => parseJsonArg('{nope', 'requestJson')).toThrow(/^\[INVALID_ARGUMENT\] requestJson is not valid JSON/);
    expect(() => parseJsonArg('[1]', 'requestJson')).toThrow(/^\[INVALID_ARGUMENT\] requestJson must be a JSON object/);
    expect(parseJsonArg('{"x":1}', 'a')).toEqual({ x: 1 });
  });

  it('GridLedgerError carries a stable code prefix', () => {
    const e = new GridLedgerError('CONFLICT', 'already voted');
    expect(e.message).toBe('[CONFLICT] already voted');
    expect(parseErrorCode(e.message)).toBe('CONFLICT');
    expect(parseErrorCode('[NOPE] x')).toBeUndefined();
  });
});
