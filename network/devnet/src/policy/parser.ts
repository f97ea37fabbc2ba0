/**
 * Parser for Fabric policy strings as they appear in chaincode definitions and collection configs:
 *   - signature policies (F `common/policydsl/policyparser.go`): `OR('A.member', 'B.peer')`,
 *     `AND(...)`, `OutOf(n, ...)`, nested; principals `'<MSPID>.<role>'` with role one of
 *     member | admin | client | peer | orderer;
 *   - implicit-meta policies (F `common/policies/implicitmeta.go`): `ANY|ALL|MAJORITY <SubPolicy>`.
 * Gate names are accepted in Fabric's spellings, case-insensitively (`OR`, `or`, `OutOf`, `outof`).
 */
import type { NodeOuRole } from '../identity/msp';

export type PrincipalRole = 'member' | NodeOuRole;

export interface Principal {
  mspId: string;
  role: PrincipalRole;
}

export type Policy =
  | { type: 'signed-by'; principal: Principal }
  | { type: 'n-out-of'; n: number; rules: Policy[] }
  | { type: 'implicit-meta'; rule: 'ANY' | 'ALL' | 'MAJORITY'; subPolicy: string };

export class PolicyParseError extends Error {
  constructor(
    readonly text: string,
    readonly position: number,
    detail: string,
  ) {
    super(`invalid policy "${text}" at position ${position}: ${detail}`);
    this.name = 'PolicyParseError';
  }
}

const ROLES: readonly PrincipalRole[] = ['member', 'admin', 'client', 'peer', 'orderer'];
/** F policyparser.go: `^([[:alnum:].-]+)([.])(admin|member|client|peer|orderer)$` */
const PRINCIPAL_RE = /^([A-Za-z0-9.-]+)\.(admin|member|client|peer|orderer)$/;
const IMPLICIT_RE = /^\s*(ANY|ALL|MAJORITY)\s+([A-Za-z][A-Za-z0-9_-]*)\s*$/;

type Token =
  | { kind: 'ident'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: '(' | ')' | ','; pos: number }
  | { kind: 'end'; pos: number };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ kind: c, pos: i });
      i++;
    } else if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new PolicyParseError(text, i, 'unterminated string');
      out.push({ kind: 'string', value: text.slice(i + 1, end), pos: i });
      i = end + 1;
    } else if (/[0-9]/.test(c)) {
      let j = i;
      while (j < text.length && /[0-9]/.test(text[j]!)) j++;
      out.push({ kind: 'number', value: Number(text.slice(i, j)), pos: i });
      i = j;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      out.push({ kind: 'ident', value: text.slice(i, j), pos: i });
      i = j;
    } else {
      throw new PolicyParseError(text, i, `unexpected character '${c}'`);
    }
  }
  out.push({ kind: 'end', pos: text.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private expect(kind: Token['kind'], what: string): Token {
    const t = this.next();
    if (t.kind !== kind) throw new PolicyParseError(this.text, t.pos, `expected ${what}, found ${describe(t)}`);
    return t;
  }

  parseTop(): Policy {
    const p = this.parseExpr();
    const t = this.peek();
    if (t.kind !== 'end') throw new PolicyParseError(this.text, t.pos, `unexpected ${describe(t)} after the policy`);
    return p;
  }

  private parseExpr(): Policy {
    const t = this.next();
    if (t.kind === 'string') return { type: 'signed-by', principal: this.principal(t.value, t.pos) };
    if (t.kind !== 'ident') throw new PolicyParseError(this.text, t.pos, `expected AND, OR, OutOf or a principal, found ${describe(t)}`);
    const gate = t.value.toLowerCase();
    if (gate !== 'and' && gate !== 'or' && gate !== 'outof') {
      throw new PolicyParseError(this.text, t.pos, `unknown function '${t.value}' (expected AND, OR or OutOf)`);
    }
    this.expect('(', `'(' after ${t.value}`);
    let n: number | undefined;
    let nPos = t.pos;
    if (gate === 'outof') {
      const nt = this.next();
      nPos = nt.pos;
      if (nt.kind === 'number') n = nt.value;
      else if (nt.kind === 'string' && /^[0-9]+$/.test(nt.value)) n = Number(nt.value);
      else throw new PolicyParseError(this.text, nt.pos, `OutOf needs a number as first argument, found ${describe(nt)}`);
      this.expect(',', `',' after the OutOf count`);
    }
    const rules: Policy[] = [this.parseExpr()];
    while (this.peek().kind === ',') {
      this.next();
      rules.push(this.parseExpr());
    }
    this.expect(')', `',' or ')'`);
    if (gate === 'and') return { type: 'n-out-of', n: rules.length, rules };
    if (gate === 'or') return { type: 'n-out-of', n: 1, rules };
    if (n! > rules.length) {
      throw new PolicyParseError(this.text, nPos, `OutOf(${n}, …) can never be satisfied by ${rules.length} sub-policies`);
    }
    return { type: 'n-out-of', n: n!, rules };
  }

  private principal(value: string, pos: number): Principal {
    const m = PRINCIPAL_RE.exec(value);
    if (!m) {
      throw new PolicyParseError(this.text, pos, `'${value}' is not a principal of the form '<MSPID>.<${ROLES.join('|')}>'`);
    }
    return { mspId: m[1]!, role: m[2] as PrincipalRole };
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'end of input';
    case 'ident':
      return `'${t.value}'`;
    case 'number':
      return `number ${t.value}`;
    case 'string':
      return `string '${t.value}'`;
    default:
      return `'${t.kind}'`;
  }
}

/** Parses a signature policy or an implicit-meta policy; throws PolicyParseError naming the position. */
export function parsePolicy(text: string): Policy {
  const meta = IMPLICIT_RE.exec(text);
  if (meta) return { type: 'implicit-meta', rule: meta[1] as 'ANY' | 'ALL' | 'MAJORITY', subPolicy: meta[2]! };
  const trimmed = text.trim();
  if (trimmed === '') throw new PolicyParseError(text, 0, 'empty policy');
  const first = /^(ANY|ALL|MAJORITY)\b/.exec(trimmed);
  if (first) {
    const pos = text.indexOf(first[1]!) + first[1]!.length;
    throw new PolicyParseError(text, pos, `implicit-meta policy needs exactly one sub-policy name after ${first[1]}`);
  }
  return new Parser(text, tokenize(text)).parseTop();
}
