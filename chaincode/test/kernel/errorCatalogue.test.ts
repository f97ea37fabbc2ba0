/**
 * The protocol's ERROR_CATALOGUE (packages/protocol/src/errors.ts) lists every (code, sub-code) pair
 * the chaincode throws — `fail` is typed against it, so an unlisted sub-code does not compile — and
 * only those (the sub-codes of the transaction input schemas count as thrown: the chaincode refuses
 * with them through kernel/args.ts `inputOf`); CONTRACTS.md shows the same table to client developers. Adding a refusal without
 * cataloguing and documenting its sub-code fails here.
 */
import { readFileSync, readdirSync, statSync } from 'fs';
import { join } from 'path';
import { ERROR_CATALOGUE, ERROR_CODES, INPUT_SCHEMAS, schemaSubCodes } from '@gridledger/protocol';
import { nth } from '../support/lists';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error catalogue', () => {
  const thrown = new Set<string>();
  for (const f of sources(join(__dirname, '../../src'))) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:fail|GridLedgerError)\('([A-Z_]+)', '([A-Z0-9_]+)'/g)) thrown.add(`${m[1]}:${m[2]}`);
    // state.mustGet(key, what, 'SUB_CODE') refuses with NOT_FOUND
    for (const m of text.matchAll(/mustGet(?:<[^>]*>)?\([^;]*?'([A-Z][A-Z0-9_]+)'\)/g)) thrown.add(`NOT_FOUND:${m[1]}`);
  }
  const catalogued = new Set<string>(ERROR_CODES.flatMap((c) => ERROR_CATALOGUE[c].subCodes.map((s) => `${c}:${s}`)));
  // refusals by the transaction input schemas (kernel/args.ts inputOf → packages/protocol checkInput)
  for (const sub of schemaSubCodes(INPUT_SCHEMAS)) thrown.add(`INVALID_ARGUMENT:${sub}`);
  const doc = readFileSync(join(__dirname, '../../CONTRACTS.md'), 'utf8');
  const documented = new Set<string>();
  const docStatus = new Map<string, number>();
  for (const line of doc.split('\n')) {
    const row = /^\| `([A-Z_]+)` \| (\d+) \| [^|]+\| ([^|]*)\|$/.exec(line);
    if (!row) continue;
    docStatus.set(nth(row, 1), Number(row[2]));
    for (const s of nth(row, 3).matchAll(/`([A-Z0-9_]+)`/g)) documented.add(`${row[1]}:${s[1]}`);
  }

  it('finds the refusals in the source (the scan works)', () => {
    expect(thrown.size).toBeGreaterThan(100);
    expect(thrown).toContain('CONFLICT:ALREADY_CONTRIBUTED');
  });

  it('catalogues every code:sub-code the chaincode throws, and only those', () => {
    expect([...thrown].filter((p) => !catalogued.has(p)).sort()).toEqual([]);
    expect([...catalogued].filter((p) => !thrown.has(p)).sort()).toEqual([]);
  });

  it('CONTRACTS.md documents the catalogue: the same sub-codes and HTTP statuses', () => {
    expect([...catalogued].filter((p) => !documented.has(p)).sort()).toEqual([]);
    expect([...documented].filter((p) => !catalogued.has(p)).sort()).toEqual([]);
    expect(Object.fromEntries(docStatus)).toEqual(Object.fromEntries(ERROR_CODES.map((c) => [c, ERROR_CATALOGUE[c].httpStatus])));
  });
});
