import { canonicalJson, decode, encode, toBigInt } from '../../src/kernel/codec';
import { jsonObjectArg } from '../../src/kernel/args';

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
    expect(() => jsonObjectArg('{nope', 'requestJson')).toThrow(/^\[INVALID_ARGUMENT:NOT_JSON\] requestJson is not valid JSON/);
    expect(() => jsonObjectArg('[1]', 'requestJson')).toThrow(/^\[INVALID_ARGUMENT:NOT_OBJECT\] requestJson must be a JSON object/);
    expect(jsonObjectArg('{"x":1}', 'a')).toEqual({ x: 1 });
  });
});
