/**
 * Edge and ledger agree (issue 13 item 4): every REST route that calls a chaincode transaction
 * (`x-chaincode` in openapi.yaml) passes the arguments the transaction takes, and each argument's
 * REST schema accepts exactly what the transaction's schema in @gridledger/protocol accepts — the
 * schema the chaincode's ahead-compiled validator checks (docs/transactions.md).
 *
 * JSON bodies must be structurally the protocol's schema (plus the acting `meterId`); path, query and
 * single body fields are compared on generated samples (bounds ±1, wrong types, `~` and over-long
 * ids, every enum value). Editing either side alone fails here.
 *
 * Outputs agree the same way: the success response of every route that answers a chaincode result is
 * the output schema the catalogue names for that transaction (an `x-protocol-output` marker, wrapped
 * in TransactionResult for a submission), and what the served document holds there is that schema.
 */
import Ajv2020 from 'ajv/dist/2020';
import { INPUT_SCHEMAS, OUTPUT_SCHEMAS, TRANSACTIONS, type JsonSchema, type TxArg } from '@gridledger/protocol';
import { BEHAVIOURS } from '../src/agents/behaviour';
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

/** Routes that call the chaincode in their own handler (rest/handlers.ts), not through `x-chaincode`. */
const HANDWRITTEN: Record<string, { fn: string; status: string }> = {
  joinParticipant: { fn: 'participants:requestJoin', status: '201' },
  getMe: { fn: 'participants:whoAmI', status: '200' },
  getParticipant: { fn: 'participants:get', status: '200' },
  getWallet: { fn: 'wallets:get', status: '200' },
  creditWallet: { fn: 'wallets:credit', status: '201' },
};

function opById(operationId: string): Json {
  for (const item of Object.values(doc.paths as Json)) {
    for (const op of Object.values(item as Json) as Json[]) if (op.operationId === operationId) return op;
  }
  throw new Error(`no operation ${operationId}`);
}

const successSchema = (op: Json, status: string): Json | undefined =>
  ((((op.responses as Json)[status] as Json | undefined)?.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema as Json | undefined;

describe('REST answers and chaincode outputs agree', () => {
  const cases: Array<[string, Json, string, string]> = [
    ...routes.map((r) => [r.operationId, r.op, r.fn, r.op['x-chaincode'] && (r.op['x-chaincode'] as Json).mode === 'submit' ? '201' : '200'] as [string, Json, string, string]),
    ...Object.entries(HANDWRITTEN).map(([id, h]) => [id, opById(id), h.fn, h.status] as [string, Json, string, string]),
  ];

  it.each(cases)('%s answers the output of its transaction', (_id, op, fn, status) => {
    const tx = TRANSACTIONS.find((t) => t.name === fn)!;
    const schema = successSchema(op, status);
    expect(schema?.['x-protocol-output']).toBe(tx.output);
    const answer = status === '201' ? ((schema!.allOf as Json[])[1]!.properties as Json).result : schema;
    if (status === '201') {
      expect(schema!['x-envelope']).toBe('transaction');
      expect((schema!.allOf as Json[])[0]).toEqual({ $ref: '#/components/schemas/TransactionResult' });
    } else expect(schema!['x-envelope']).toBeUndefined();
    // the served document holds the protocol's schema itself
    expect(normal(answer)).toEqual(normal(OUTPUT_SCHEMAS[tx.output]));
  });

  it('every x-protocol-output in the document is a route of the lists above', () => {
    const marked: string[] = [];
    for (const item of Object.values(doc.paths as Json)) {
      for (const op of Object.values(item as Json) as Json[]) {
        for (const r of Object.values((op.responses as Json | undefined) ?? {})) {
          const s = ((((r as Json).content as Json | undefined)?.['application/json'] as Json | undefined)?.schema as Json | undefined);
          if (s?.['x-protocol-output']) marked.push(String(op.operationId));
        }
      }
    }
    expect(marked.sort()).toEqual(cases.map((c) => c[0]).sort());
  });

  it('the catalogue names an output for every transaction, and each is a compiled schema', () => {
    for (const t of TRANSACTIONS) expect(Object.keys(OUTPUT_SCHEMAS)).toContain(t.output);
  });
});

/**
 * Request bodies (issue 13 item 4): every body is one of (a) a protocol input (`x-protocol-input`),
 * (b) the body of an `x-chaincode` route, each field compared with its transaction argument above,
 * (c) a gateway body whose fields that later reach the chaincode are the protocol's schemas
 * (`x-protocol-arg` / `x-protocol-field`), or (d) one of the few bodies only the gateway ever reads —
 * listed here, so a new body has to choose.
 */
const GATEWAY_ONLY: Record<string, string> = {
  AgentSettings: 'the agent behaviour and autopilot switch of a meter at this gateway (gateway/src/agents/behaviour.ts BEHAVIOURS)',
  RevocationRequest: 'the CA revocation reason (Fabric CA\'s reasons)',
  MeterOnly: 'only the acting meter',
  OptionalMeter: 'only the acting meter',
};

describe('REST request bodies have one definition', () => {
  const bodies: Array<[string, string, Json]> = [];
  for (const item of Object.values(doc.paths as Json)) {
    for (const op of Object.values(item as Json) as Json[]) {
      const schema = ((((op.requestBody as Json | undefined)?.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema as Json | undefined);
      if (!schema) continue;
      const ref = typeof schema.$ref === 'string' ? schema.$ref.split('/').pop()! : '(inline)';
      bodies.push([String(op.operationId), ref, op]);
    }
  }

  it.each(bodies)('%s body %s is a protocol input, an x-chaincode body, marked, or gateway-only', (_id, ref, op) => {
    const body = resolve(((((op.requestBody as Json).content as Json)['application/json'] as Json).schema));
    const props = (body.properties as Json | undefined) ?? {};
    const marked = Object.values(props).some((p) => (p as Json)['x-protocol-arg'] !== undefined || (p as Json)['x-protocol-field'] !== undefined || (p as Json)['x-protocol-input'] !== undefined);
    // a list of protocol inputs with the protocol's bounds (a reading batch: the route names the meter)
    const list = Object.values(props).some((p) => {
      const l = resolve(p);
      const items = resolve(l.items);
      const batch = (INPUT_SCHEMAS.ReadingBatchInput.properties as Json).readings as Json;
      return items?.['x-protocol-input'] === 'ReadingItem' && l.minItems === batch.minItems && l.maxItems === batch.maxItems;
    });
    const kinds = [body['x-protocol-input'] !== undefined, op['x-chaincode'] !== undefined, marked, list, ref in GATEWAY_ONLY];
    expect(kinds.some(Boolean)).toBe(true);
  });

  const fields: Array<[string, Json, Json]> = [];
  const visit = (where: string, v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    const o = v as Json;
    if (o['x-protocol-arg'] !== undefined || o['x-protocol-field'] !== undefined) fields.push([where, o, o]);
    for (const [k, x] of Object.entries(o)) visit(`${where}/${k}`, x);
  };
  visit('#/components/schemas', (doc.components as Json).schemas);

  it('found the marked gateway-body fields', () => {
    expect(fields.map(([w]) => w)).toEqual(expect.arrayContaining([
      '#/components/schemas/AuctionSecrets/properties/secret',
      '#/components/schemas/AuctionSecrets/properties/pricePerKwh',
      '#/components/schemas/MeterEnrolmentRequest/properties/zone',
      '#/components/schemas/CreditRequest/properties/amount',
    ]));
  });

  it.each(fields)('%s is the protocol\'s schema', (_where, served) => {
    const ref = String(served['x-protocol-arg'] ?? served['x-protocol-field']);
    const [owner = '', field = ''] = ref.split(' ');
    const expected = served['x-protocol-arg'] !== undefined
      ? TRANSACTIONS.find((t) => t.name === owner)?.args.find((a) => a.name === field)?.schema
      : ((INPUT_SCHEMAS[owner as keyof typeof INPUT_SCHEMAS] as Json | undefined)?.properties as Json | undefined)?.[field];
    expect(expected).toBeDefined();
    expect(normal(served)).toEqual(normal(expected));
  });

  it('AgentSettings offers exactly the agents\' behaviours', () => {
    const s = resolve({ $ref: '#/components/schemas/AgentSettings' });
    expect(((s.properties as Json).behaviour as Json).enum).toEqual([...BEHAVIOURS]);
  });
});
