/**
 * The error catalogue in CONTRACTS.md lists every (code, sub-code) pair the chaincode throws, so
 * client developers can branch on sub-codes they can look up. Adding a refusal without documenting
 * its sub-code fails here. The sub-codes of the transaction input schemas (packages/protocol) count
 * as thrown: the chaincode refuses with them through kernel/args.ts `inputOf`.
 */
import { readFileSync, readdirSync, statSync } from 'fs';
import { join } from 'path';
import { INPUT_SCHEMAS, schemaSubCodes } from '@gridledger/protocol';
import { ERROR_CODES } from '../../src/kernel/errors';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error catalogue', () => {
  const thrown = new Set<string>();
  for (const f of sources(join(__dirname, '../../src'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:fail|GridLedgerError)\('([A-Z_]+)', '([A-Z0-9_]+)'/g)) thrown.add(`${m[1]}:${m[2]}`);
  }
  // refusals by the transaction input schemas (kernel/args.ts inputOf → packages/protocol checkInput)
  for (const sub of schemaSubCodes(INPUT_SCHEMAS)) thrown.add(`INVALID_ARGUMENT:${sub}`);
  const doc = readFileSync(join(__dirname, '../../CONTRACTS.md'), 'utf8');
  const documented = new Set<string>();
  for (const line of doc.split('\n')) {
    const row = /^\| `([A-Z_]+)` \| \d+ \| [^|]+\| ([^|]*)\|$/.exec(line);
    if (!row) continue;
    for (const s of row[2].matchAll(/`([A-Z0-9_]+)`/g)) documented.add(`${row[1]}:${s[1]}`);
  }

  it('finds the refusals in the source (the scan works)', () => {
    expect(thrown.size).toBeGreaterThan(100);
    expect(thrown).toContain('CONFLICT:ALREADY_CONTRIBUTED');
  });

  it('documents every code:sub-code the chaincode throws, and only those', () => {
    expect([...thrown].filter((p) => !documented.has(p)).sort()).toEqual([]);
    expect([...documented].filter((p) => !thrown.has(p)).sort()).toEqual([]);
    for (const p of thrown) expect(ERROR_CODES).toContain(p.split(':')[0]);
  });
});
