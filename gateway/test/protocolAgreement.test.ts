/**
 * Edge and ledger agree (issue 13 item 4): every REST route that calls a chaincode transaction
 * (`x-chaincode` in openapi.yaml) passes the arguments the transaction takes, and each argument's
 * REST schema accepts exactly what the transaction's schema in @gridledger/protocol accepts — the
 * schema the chaincode's ahead-compiled validator checks (docs/transactions.md).
 *
 * JSON bodies must be structurally the protocol's schema (plus the acting `meterId`); path, query and
 * single body fields are compared on generated samples (bounds ±1, wrong types, `~` and over-long
 * ids, every enum value). Editing either side alone fails here.
 */
import Ajv2020 from 'ajv/dist/2020';
import { TRANSACTIONS, type JsonSchema, type TxArg } from '@gridledger/protocol';
import { loadOpenApiDocument } from '../src/rest/openapi';

type Json = Record<string, unknown>;
const doc = loadOpenApiDocument();

function resolve(v: unknown): Json {
  const ref = (v as Json | undefined)?.$ref;
  if (typeof ref !== 'string') return v as Json;
  let cur: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) cur = (cur as Json)[part];
  return resolve(cur);
}

/** Drops what does not validate (descriptions, our markers and annotations) and resolves refs. */
function normal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normal);
  if (!v || typeof v !== 'object') return v;
  const o = resolve(v);
  const out: Json = {};
  for (const [k, x] of Object.entries(o)) {
    if (k === 'description' || k.startsWith('x-')) continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(x as Json).map(([p, s]) => [p, normal(s)])) : normal(x);
  }
  return out;
}

const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
ajv.addSchema({ $id: 'doc', components: doc.components });
const refs = (v: unknown): unknown => JSON.parse(JSON.stringify(v).replace(/"\$ref":"#\//g, '"$ref":"doc#/'));

/** Values on and around every bound of a scalar schema. */
function samples(s: JsonSchema): unknown[] {
  const out: unknown[] = ['', 'a', 'A.b_c:d-1', 'a~b', 'a b', 'a/b', '0', '-1', '12', 1, 0, -1, 1.5, true, null, {}, []];
  if (typeof s.minimum === 'number') out.push(s.minimum, s.minimum - 1);
  if (typeof s.maximum === 'number') out.push(s.maximum, s.maximum + 1);
  for (const n of [s.minLength, s.maxLength]) {
    if (typeof n === 'number') for (const len of [n - 1, n, n + 1]) if (len >= 0) out.push('x'.repeat(len), '0'.repeat(len), 'a~'.repeat(len).slice(0, len));
  }
  if (Array.isArray(s.enum)) out.push(...s.enum, 'other');
  return out;
}

interface Route { operationId: string; fn: string; args: string[]; op: Json }
const routes: Route[] = [];
for (const item of Object.values(doc.paths as Json)) {
  for (const op of Object.values(item as Json) as Json[]) {
    const m = op['x-chaincode'] as { fn: string; args: string[] } | undefined;
    if (m) routes.push({ operationId: String(op.operationId), fn: m.fn, args: m.args, op });
  }
}

function restSchemaOf(r: Route, expr: string): Json | undefined {
  const [kind, name = ''] = expr.split(/:(.*)/s) as [string, string?];
  if (kind === 'path' || kind === 'query') {
    const p = ((r.op.parameters as unknown[]) ?? []).map(resolve).find((x) => x.in === kind && x.name === name);
    return p ? resolve(p.schema) : undefined;
  }
  const body = resolve((((resolve(r.op.requestBody)?.content as Json)?.['application/json'] as Json | undefined)?.schema));
  if (kind === 'body' && !name) {
    if (!body) return undefined;
    const { meterId: _m, ...props } = (body.properties as Json) ?? {};
    return { ...body, properties: props, required: ((body.required as string[]) ?? []).filter((f) => f !== 'meterId') };
  }
  if (kind === 'body') return resolve(((body?.properties as Json | undefined) ?? {})[name]);
  return undefined;
}

describe('REST routes and chaincode transactions agree', () => {
  it('found the routes to compare', () => {
    expect(routes.length).toBeGreaterThan(40);
  });

  it.each(routes.map((r) => [r.operationId, r] as const))('%s calls a catalogued transaction with its arguments', (_id, r) => {
    const tx = TRANSACTIONS.find((t) => t.name === r.fn);
    expect(tx?.name).toBe(r.fn);
    expect(r.args.length).toBe(tx!.args.length);
    expect(r.op['x-chaincode'] && (r.op['x-chaincode'] as Json).mode).toBe(tx!.mode);
  });

  const pairs: Array<[string, Route, string, TxArg]> = [];
  for (const r of routes) {
    const tx = TRANSACTIONS.find((t) => t.name === r.fn);
    if (!tx) continue;
    r.args.forEach((expr, i) => {
      const a = tx.args[i];
      if (a && !expr.startsWith('literal:')) pairs.push([`${r.operationId} ${expr} → ${r.fn}(${a.name})`, r, expr, a]);
    });
  }

  it.each(pairs)('%s', (_name, r, expr, a) => {
    const rest = restSchemaOf(r, expr);
    expect(rest).toBeDefined();
    if (a.kind === 'json' && typeof rest!.type === 'string' && rest!.type !== 'string') {
      // a JSON argument: the REST value is the protocol schema itself
      expect(normal(rest)).toEqual(normal(a.schema));
      return;
    }
    const edge = ajv.compile(refs(rest) as Json);
    const ledger = ajv.compile(a.schema);
    const disagree: string[] = [];
    for (const v of samples(a.schema).concat(samples(rest!))) {
      // an optional chaincode argument receives "" when the REST value is absent; absent is always fine
      if (edge(v) !== ledger(v)) disagree.push(`${JSON.stringify(v)?.slice(0, 40)}: edge ${edge(v)}, ledger ${ledger(v)}`);
    }
    expect(disagree).toEqual([]);
  });
});
