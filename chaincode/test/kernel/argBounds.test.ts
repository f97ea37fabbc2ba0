/**
 * Scalar arguments agree with the catalogue (issue 13 item 4). The JSON arguments are checked by
 * their one schema; the scalar ones are parsed in the contracts with `intArg(v, name, min, max)`,
 * `textArg(v, name, min, max)`, `idArg(v, name)` and `pageSizeArg(v)` (kernel/args.ts,
 * kernel/paging.ts), whose bounds are written at the call. This test reads every such call in the
 * contracts' `@Transaction` methods (TypeScript's own parser, so no call is missed because no test
 * happens to reach it) and compares its bounds with the catalogue's schema of the argument of that
 * name — the schema the gateway's OpenAPI parameters are proven equal to
 * (gateway/test/protocolAgreement.test.ts). A bound changed on one side only fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import * as protocol from '@gridledger/protocol';
import { TRANSACTIONS, type JsonSchema } from '@gridledger/protocol';
import { PAGE_MAX } from '../../src/kernel/paging';

const SRC = path.join(__dirname, '..', '..', 'src');
const contractFiles = ['governance', 'market'].flatMap((area) =>
  fs.readdirSync(path.join(SRC, area, 'contracts')).filter((f) => f.endsWith('.contract.ts')).map((f) => path.join(SRC, area, 'contracts', f)),
);

interface Parse {
  tx: string;
  helper: 'intArg' | 'textArg' | 'idArg' | 'pageSizeArg';
  arg: string;
  min?: number;
  max?: number;
  where: string;
}

/** A bound written at the call: a numeric literal, or a constant of the protocol package. */
function valueOf(e: ts.Expression, file: string): number {
  if (ts.isNumericLiteral(e)) return Number(e.text.replace(/_/g, ''));
  const constant = ts.isIdentifier(e) ? (protocol as Record<string, unknown>)[e.text] : undefined;
  if (typeof constant === 'number') return constant;
  throw new Error(`${file}: cannot evaluate the bound ${e.getText()} (use a literal or a @gridledger/protocol constant)`);
}

function parsesIn(file: string): Parse[] {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: Parse[] = [];
  const visitClass = (c: ts.ClassDeclaration): void => {
    let contract: string | undefined;
    for (const m of c.members) {
      if (!ts.isConstructorDeclaration(m)) continue;
      m.body?.forEachChild(function find(n): void {
        if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.SuperKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) contract = n.arguments[0].text;
        n.forEachChild(find);
      });
    }
    if (!contract) return;
    for (const m of c.members) {
      if (!ts.isMethodDeclaration(m) || !ts.getDecorators(m)?.some((d) => d.getText().startsWith('@Transaction'))) continue;
      const tx = `${contract}:${m.name.getText()}`;
      const walk = (n: ts.Node): void => {
        if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && ['intArg', 'textArg', 'idArg', 'pageSizeArg'].includes(n.expression.text)) {
          const helper = n.expression.text as Parse['helper'];
          const where = `${path.relative(SRC, file)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
          if (helper === 'pageSizeArg') out.push({ tx, helper, arg: 'pageSize', min: 1, max: PAGE_MAX, where });
          else {
            const name = n.arguments[1];
            if (!name || !ts.isStringLiteral(name)) throw new Error(`${where}: ${helper} names its argument with a string literal`);
            const p: Parse = { tx, helper, arg: name.text, where };
            if (helper !== 'idArg') {
              p.min = valueOf(n.arguments[2]!, where);
              p.max = valueOf(n.arguments[3]!, where);
            }
            out.push(p);
          }
        }
        n.forEachChild(walk);
      };
      walk(m);
    }
  };
  sf.forEachChild((n) => {
    if (ts.isClassDeclaration(n)) visitClass(n);
  });
  return out;
}

const parses = contractFiles.flatMap(parsesIn);

describe('scalar argument bounds: contracts and catalogue agree', () => {
  it('found the scalar parses of the contracts', () => {
    expect(parses.length).toBeGreaterThan(40);
    for (const h of ['intArg', 'textArg', 'idArg', 'pageSizeArg']) expect(parses.some((p) => p.helper === h)).toBe(true);
  });

  it.each(parses.map((p) => [`${p.tx} ${p.helper}(${p.arg}) at ${p.where}`, p] as const))('%s', (_name, p) => {
    const def = TRANSACTIONS.find((t) => t.name === p.tx);
    expect(def?.name).toBe(p.tx);
    const a = def!.args.find((x) => x.name === p.arg);
    // the parsed name is an argument of the transaction
    expect(a?.name).toBe(p.arg);
    const s: JsonSchema = a!.schema;
    switch (p.helper) {
      case 'intArg':
      case 'pageSizeArg':
        expect(a!.kind).toBe('integer');
        expect({ min: s.minimum, max: s.maximum }).toEqual({ min: p.min, max: p.max });
        break;
      case 'textArg':
        expect(a!.kind).toBe('text');
        expect({ min: s.minLength, max: s.maxLength, pattern: s.pattern }).toEqual({ min: p.min, max: p.max, pattern: undefined });
        break;
      case 'idArg':
        // idArg checks ID_PATTERN (kernel/args.ts), built from the protocol's ID_PATTERN_SOURCE
        expect(a!.kind).toBe('text');
        expect({ pattern: s.pattern, minLength: s.minLength, maxLength: s.maxLength }).toEqual({ pattern: protocol.ID_PATTERN_SOURCE, minLength: 1, maxLength: 128 });
        break;
    }
  });

  it('every integer argument of the catalogue is parsed with its bounds by intArg or pageSizeArg', () => {
    const parsed = new Set(parses.filter((p) => p.helper === 'intArg' || p.helper === 'pageSizeArg').map((p) => `${p.tx}(${p.arg})`));
    const integers = TRANSACTIONS.flatMap((t) => t.args.filter((a) => a.kind === 'integer').map((a) => `${t.name}(${a.name})`));
    expect(integers.filter((i) => !parsed.has(i))).toEqual([]);
  });
});
