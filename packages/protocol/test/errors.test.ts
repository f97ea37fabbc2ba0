import { ERROR_CATALOGUE, ERROR_CODES, SUB_CODE_PATTERN, formatErrorMessage, isErrorCode, isSubCodeOf, parseErrorMessage } from '../src';

describe('error catalogue', () => {
  it('maps every code to one HTTP status and title (the gateway uses these, nothing else)', () => {
    expect(Object.keys(ERROR_CATALOGUE)).toEqual([...ERROR_CODES]);
    expect(Object.fromEntries(ERROR_CODES.map((c) => [c, ERROR_CATALOGUE[c].httpStatus]))).toEqual({
      INVALID_ARGUMENT: 400,
      UNAUTHENTICATED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      PRECONDITION_FAILED: 412,
      INSUFFICIENT_FUNDS: 422,
      INSUFFICIENT_ENERGY: 422,
    });
    for (const c of ERROR_CODES) expect(ERROR_CATALOGUE[c].title).not.toBe('');
  });

  it('lists well-formed sub-codes, each once per code, sorted', () => {
    for (const c of ERROR_CODES) {
      const subs = [...ERROR_CATALOGUE[c].subCodes];
      for (const s of subs) expect(s).toMatch(SUB_CODE_PATTERN);
      expect(new Set(subs).size).toBe(subs.length);
      expect(subs).toEqual([...subs].sort());
    }
    expect(isSubCodeOf('CONFLICT', 'ALREADY_CONTRIBUTED')).toBe(true);
    expect(isSubCodeOf('NOT_FOUND', 'ALREADY_CONTRIBUTED')).toBe(false);
  });
});

describe('error messages on the wire', () => {
  it('formats `[CODE:SUB_CODE] detail` and a payload line of canonical JSON, and parses it back', () => {
    const m = formatErrorMessage('CONFLICT', 'ALREADY_CONTRIBUTED', 'Org1MSP already contributed', { taskId: 't-1', round: 0, mspId: 'Org1MSP' });
    expect(m).toBe('[CONFLICT:ALREADY_CONTRIBUTED] Org1MSP already contributed\n{"mspId":"Org1MSP","round":0,"taskId":"t-1"}');
    expect(parseErrorMessage(m)).toEqual({ code: 'CONFLICT', subCode: 'ALREADY_CONTRIBUTED', detail: 'Org1MSP already contributed', payload: { mspId: 'Org1MSP', round: 0, taskId: 't-1' } });
  });

  it('reads the pre-sub-code form, keeps a non-JSON last line in the detail, and refuses a message without a code', () => {
    expect(parseErrorMessage('[FORBIDDEN] meter m-1 may not')).toEqual({ code: 'FORBIDDEN', detail: 'meter m-1 may not' });
    expect(parseErrorMessage('[CONFLICT:X_Y] two\n{not json}')).toEqual({ code: 'CONFLICT', subCode: 'X_Y', detail: 'two\n{not json}' });
    expect(parseErrorMessage('[CONFLICT:X_Y] list\n[1,2]')).toEqual({ code: 'CONFLICT', subCode: 'X_Y', detail: 'list\n[1,2]' });
    expect(parseErrorMessage('no code here')).toBeUndefined();
  });

  it('passes an unknown code through for the caller to check', () => {
    const p = parseErrorMessage('[NOPE:X] x');
    expect(p?.code).toBe('NOPE');
    expect(isErrorCode(p!.code)).toBe(false);
    expect(isErrorCode('NOT_FOUND')).toBe(true);
  });
});
