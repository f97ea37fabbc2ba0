import { isErrorCode, parseErrorMessage } from '@gridledger/protocol';
import { fail, GridLedgerError, quote } from '../../src/kernel/errors';
import { idArg, inputOf, intArg, jsonObjectArg } from '../../src/kernel/args';
import { PAGE_DEFAULT, PAGE_MAX, pageSizeArg } from '../../src/kernel/paging';

describe('the one error helper', () => {
  it('puts code and sub-code in the bracket, so clients branch without matching prose', () => {
    const e = new GridLedgerError('CONFLICT', 'ALREADY_VOTED', 'already voted');
    expect(e.message).toBe('[CONFLICT:ALREADY_VOTED] already voted');
    expect(e.code).toBe('CONFLICT');
    expect(e.subCode).toBe('ALREADY_VOTED');
    expect(e.detail).toBe('already voted');
    // the gateway reads it back with the protocol's parser
    expect(parseErrorMessage(e.message)).toEqual({ code: 'CONFLICT', subCode: 'ALREADY_VOTED', detail: 'already voted' });
    expect(isErrorCode(parseErrorMessage('[NOPE:X] x')!.code)).toBe(false);
  });

  it('carries a structured payload on a second line of canonical JSON (sorted keys)', () => {
    let err: unknown;
    try {
      fail('CONFLICT', 'ALREADY_CONTRIBUTED', 'Org1MSP already contributed to task t-1 round 0', { taskId: 't-1', round: 0, mspId: 'Org1MSP' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GridLedgerError);
    const e = err as GridLedgerError;
    expect(e.message).toBe('[CONFLICT:ALREADY_CONTRIBUTED] Org1MSP already contributed to task t-1 round 0\n{"mspId":"Org1MSP","round":0,"taskId":"t-1"}');
    expect(e.payload).toEqual({ taskId: 't-1', round: 0, mspId: 'Org1MSP' });
    expect(parseErrorMessage(e.message)).toEqual({ code: 'CONFLICT', subCode: 'ALREADY_CONTRIBUTED', detail: 'Org1MSP already contributed to task t-1 round 0', payload: { mspId: 'Org1MSP', round: 0, taskId: 't-1' } });
  });

  it('refuses a malformed sub-code (a programming error, not a refusal)', () => {
    expect(() => new GridLedgerError('CONFLICT', 'lower case' as never, 'x')).toThrow(/sub-code/);
  });

  it('quotes at most 64 characters of a caller-supplied value and says how long it was', () => {
    expect(quote('short')).toBe('"short"');
    const huge = 'x'.repeat(300_000);
    const q = quote(huge);
    expect(q.length).toBeLessThan(100);
    expect(q).toBe(`"${'x'.repeat(63)}… (300002 characters)`);
    expect(quote({ a: 1 })).toBe('{"a":1}');
  });
});

describe('the one argument-parser family', () => {
  it('never echoes a huge argument back in full', () => {
    const huge = '9'.repeat(300_000);
    let message = '';
    try {
      intArg(huge, 'amount', 0, 10);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^\[INVALID_ARGUMENT:NOT_INTEGER\] amount must be an integer/);
    expect(message.length).toBeLessThan(200);
    expect(() => idArg('y'.repeat(300_000), 'offerId')).toThrow(/^\[INVALID_ARGUMENT:BAD_ID\] offerId is not a valid id/);
    let unknown = '';
    try {
      inputOf('AuctionRevealInput', { pricePerKwh: 1, salt: 'x'.repeat(16), ['k'.repeat(300_000)]: 1 }, 'body');
    } catch (e) {
      unknown = (e as Error).message;
    }
    expect(unknown).toMatch(/^\[INVALID_ARGUMENT:UNKNOWN_FIELD\] body: unknown field/);
    expect(unknown.length).toBeLessThan(200);
  });

  it('parses integers in decimal digits within bounds', () => {
    expect(intArg('42', 'n', 0, 100)).toBe(42);
    expect(intArg(' 7 ', 'n', 0, 100)).toBe(7);
    expect(() => intArg('1.5', 'n', 0, 100)).toThrow(/^\[INVALID_ARGUMENT:NOT_INTEGER\]/);
    expect(() => intArg('101', 'n', 0, 100)).toThrow(/^\[INVALID_ARGUMENT:OUT_OF_RANGE\] n must be between 0 and 100/);
    expect(jsonObjectArg('{"a":1}', 'x')).toEqual({ a: 1 });
  });

  it('has one page limit, the REST edge\'s (openapi PageSize 1-100, default 50)', () => {
    expect(PAGE_MAX).toBe(100);
    expect(pageSizeArg('')).toBe(PAGE_DEFAULT);
    expect(pageSizeArg(undefined)).toBe(50);
    expect(pageSizeArg('100')).toBe(100);
    expect(() => pageSizeArg('101')).toThrow(/^\[INVALID_ARGUMENT:OUT_OF_RANGE\] pageSize must be between 1 and 100/);
    expect(() => pageSizeArg('0')).toThrow(/OUT_OF_RANGE/);
  });
});
