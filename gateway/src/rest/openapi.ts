import fs from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import YAML from 'yaml';
import { INPUT_SCHEMAS, OUTPUT_SCHEMAS, transaction, type InputSchemaName, type OutputSchemaName } from '@gridledger/protocol';
import type { Role } from '../auth/apiKeys';

export type RoleSpec = Role | 'meter-self';

export interface FieldError {
  in: 'path' | 'query' | 'header' | 'body';
  pointer: string;
  message: string;
}

export interface Operation {
  operationId: string;
  method: string;
  pathTemplate: string;
  regex: RegExp;
  paramNames: string[];
  auth: 'none' | 'apiKey';
  roles: RoleSpec[];
  idempotent: boolean;
  bodyRequired: boolean;
  validatePath: ValidateFunction | undefined;
  validateQuery: ValidateFunction | undefined;
  validateHeaders: ValidateFunction | undefined;
  validateBody: ValidateFunction | undefined;
  responses: Map<string, ValidateFunction | null>;
  /** `x-chaincode`: the chaincode function a generic ledger route maps to (rest/ledgerRoutes.ts) */
  chaincode: ChaincodeMapping | undefined;
}

/**
 * `x-chaincode` on an operation. `args` are expressions: `path:<name>`, `query:<name>` (absent → ""),
 * `body:<field>` (objects/arrays as JSON, absent → ""), `body` (the whole body as JSON without `meterId`
 * and the `transient` fields), `literal:<text>`. `as` is the acting identity: `meter` (the meter named by
 * `meterId` in the body or query — the API key must own it), `operator`, `regulator`, or `caller` (a meter
 * key acts as its meter, an operator/regulator key as the gateway's operator/regulator).
 */
export interface ChaincodeMapping {
  fn: string;
  mode: 'submit' | 'evaluate';
  as: 'meter' | 'operator' | 'regulator' | 'caller';
  args: string[];
  /** transient map entries: name → `body:<field>` (sent as JSON, kept off the block) */
  transient?: Record<string, string>;
  /**
   * transient reading proofs the gateway fetches itself with `meters:getProof(meterId, intervalStart,
   * direction)` as the acting meter: name → direction + where the interval comes from (an argument
   * expression, or a field of another chaincode read, e.g. the trade's `deliveryStart`)
   */
  proofs?: Record<string, { direction: 'export' | 'import'; intervalStart: string | { fn: string; args: string[]; field: string } }>;
}

type Json = Record<string, unknown>;

/** Locates openapi.yaml next to the compiled file (dist/rest) or in src/rest. */
export function openApiPath(): string {
  const candidates = [path.join(__dirname, 'openapi.yaml'), path.join(__dirname, '..', '..', 'src', 'rest', 'openapi.yaml')];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`openapi.yaml not found (looked in ${candidates.join(', ')})`);
  return found;
}

/**
 * A request-body schema the chaincode also checks is not written in openapi.yaml: the YAML holds a
 * marker, `{ x-protocol-input: <Name>, x-meter: required | optional }`, and the document is completed
 * here from the one definition in @gridledger/protocol (packages/protocol/src/schemas, the same
 * schema the chaincode's ahead-compiled validator checks), so edge and ledger cannot drift
 * (docs/architecture.md "Transaction schemas"). `x-meter` adds the body's `meterId` (the meter acting,
 * which the gateway strips before the chaincode call); the marker stays in the served document.
 */
function protocolBody(marker: Json): Json {
  const name = marker['x-protocol-input'] as InputSchemaName;
  const schema = INPUT_SCHEMAS[name] as Json | undefined;
  if (!schema) throw new Error(`openapi.yaml: x-protocol-input ${String(name)} is not a schema of @gridledger/protocol`);
  const body = JSON.parse(JSON.stringify(schema)) as Json;
  const meter = marker['x-meter'];
  if (meter === 'required' || meter === 'optional') {
    const { meterId: _chaincodeMeterId, ...rest } = (body.properties as Json | undefined) ?? {};
    body.properties = { meterId: { $ref: '#/components/schemas/MeterIdValue' }, ...rest };
    const required = ((body.required as string[] | undefined) ?? []).filter((f) => f !== 'meterId');
    body.required = meter === 'required' ? ['meterId', ...required] : required;
  }
  return { ...body, 'x-protocol-input': name, ...(meter ? { 'x-meter': meter } : {}) };
}

/**
 * A response that carries a chaincode answer is not written in openapi.yaml either: the YAML holds
 * `{ x-protocol-output: <Name> }` (the answer itself, for evaluations) or
 * `{ x-protocol-output: <Name>, x-envelope: transaction }` (a committed submission: TransactionResult
 * whose `result` is the answer), completed here from the transaction's output schema in
 * @gridledger/protocol — the schema the chaincode's tests check every answer against. With
 * GATEWAY_VALIDATE_RESPONSES on, the gateway checks its answers against it too.
 */
function protocolResponse(marker: Json, opaque: boolean): Json {
  const name = marker['x-protocol-output'] as OutputSchemaName;
  const schema = OUTPUT_SCHEMAS[name] as Json | undefined;
  if (!schema) throw new Error(`openapi.yaml: x-protocol-output ${String(name)} is not an output schema of @gridledger/protocol`);
  const answer = { ...(opaque ? { type: schema.type } : (JSON.parse(JSON.stringify(schema)) as Json)), 'x-protocol-output': name };
  const envelope = marker['x-envelope'];
  if (envelope === undefined) return answer;
  if (envelope !== 'transaction') throw new Error(`openapi.yaml: x-envelope ${JSON.stringify(envelope)} is not known (transaction)`);
  return { allOf: [{ $ref: '#/components/schemas/TransactionResult' }, { type: 'object', properties: { result: answer } }], 'x-protocol-output': name, 'x-envelope': envelope };
}

/**
 * A field of a gateway-only body whose value the chaincode receives later (an agent's auction secrets,
 * the zone of a meter enrolment, a wallet credit) is not written in openapi.yaml either:
 * `{ x-protocol-arg: 'auctions:claimBuyer secret' }` is the catalogue's schema of that transaction
 * argument, `{ x-protocol-field: 'AuctionRevealInput pricePerKwh' }` the schema of that input field.
 */
function protocolField(marker: Json): Json {
  const ref = String(marker['x-protocol-arg'] ?? marker['x-protocol-field']);
  const [owner = '', field = ''] = ref.split(' ');
  let schema: Json | undefined;
  if (marker['x-protocol-arg'] !== undefined) schema = transaction(owner)?.args.find((a) => a.name === field)?.schema as Json | undefined;
  else schema = ((INPUT_SCHEMAS[owner as InputSchemaName] as Json | undefined)?.properties as Json | undefined)?.[field] as Json | undefined;
  if (!schema) throw new Error(`openapi.yaml: ${ref} is not a ${marker['x-protocol-arg'] !== undefined ? 'transaction argument' : 'input field'} of @gridledger/protocol`);
  const { 'x-protocol-arg': _a, 'x-protocol-field': _f, ...own } = marker;
  return { ...(JSON.parse(JSON.stringify(schema)) as Json), ...own, [marker['x-protocol-arg'] !== undefined ? 'x-protocol-arg' : 'x-protocol-field']: ref };
}

function completeProtocolBodies(v: unknown, opaque = false): unknown {
  if (Array.isArray(v)) return v.map((x) => completeProtocolBodies(x, opaque));
  if (!v || typeof v !== 'object') return v;
  const o = v as Json;
  if (typeof o['x-protocol-input'] === 'string') return protocolBody(o);
  if (typeof o['x-protocol-output'] === 'string') return protocolResponse(o, opaque);
  if (typeof o['x-protocol-arg'] === 'string' || typeof o['x-protocol-field'] === 'string') return protocolField(o);
  const out: Json = {};
  for (const [k, x] of Object.entries(o)) out[k] = completeProtocolBodies(x, opaque);
  return out;
}

/**
 * openapi.yaml as served: parsed, its protocol request bodies and responses completed.
 * `opaqueLedgerAnswers` checks only the JSON type of the chaincode's answers (an object, an array)
 * inside the gateway's own envelopes: for the gateway's unit tests, whose FakeLedger answers canned
 * values, not the chaincode's.
 */
export function loadOpenApiDocument(file = openApiPath(), opaqueLedgerAnswers = false): Json {
  return completeProtocolBodies(YAML.parse(fs.readFileSync(file, 'utf8')), opaqueLedgerAnswers) as Json;
}

function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v && typeof v === 'object') {
    const out: Json = {};
    for (const [k, x] of Object.entries(v as Json)) {
      out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/') ? `doc${x}` : rewriteRefs(x);
    }
    return out;
  }
  return v;
}

function resolveRef(doc: Json, v: unknown): Json {
  const ref = (v as Json | undefined)?.$ref;
  if (typeof ref !== 'string') return v as Json;
  let cur: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) cur = (cur as Json)[part];
  return resolveRef(doc, cur);
}

/** The OpenAPI document, compiled into a route table with ajv validators for params, bodies and responses. */
export class ApiSpec {
  readonly doc: Json;
  readonly operations: Operation[] = [];
  private readonly ajv: Ajv2020;
  private readonly ajvCoerce: Ajv2020;

  constructor(file = openApiPath(), opts: { opaqueLedgerAnswers?: boolean } = {}) {
    this.doc = loadOpenApiDocument(file, opts.opaqueLedgerAnswers ?? false);
    const common = { allErrors: true, strict: false, validateFormats: false } as const;
    this.ajv = new Ajv2020(common);
    this.ajvCoerce = new Ajv2020({ ...common, coerceTypes: true, useDefaults: true });
    const componentsOnly = { $id: 'doc', components: rewriteRefs(this.doc.components) };
    this.ajv.addSchema(componentsOnly);
    this.ajvCoerce.addSchema(componentsOnly);

    for (const [pathTemplate, item] of Object.entries(this.doc.paths as Json)) {
      for (const [method, opRaw] of Object.entries(item as Json)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const op = opRaw as Json;
        const paramNames: string[] = [];
        const regex = new RegExp(
          '^' +
            pathTemplate.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (_m, name: string) => {
              paramNames.push(name);
              return '([^/]+)';
            }) +
            '$',
        );
        const params = ((op.parameters as unknown[]) ?? []).map((p) => resolveRef(this.doc, p));
        const group = (where: string) => {
          const ps = params.filter((p) => p.in === where);
          // The query is always checked, so a parameter the operation does not define is refused
          // (400 naming it) instead of being silently ignored.
          if (!ps.length && where !== 'query') return undefined;
          const properties: Json = {};
          const required: string[] = [];
          for (const p of ps) {
            const name = where === 'header' ? String(p.name).toLowerCase() : String(p.name);
            properties[name] = rewriteRefs(p.schema);
            if (p.required) required.push(name);
          }
          // Headers are open (clients and proxies add their own); path and query list every name there is.
          const schema = { type: 'object', properties, required, additionalProperties: where === 'header' };
          return (where === 'body' ? this.ajv : this.ajvCoerce).compile(schema);
        };
        const rb = op.requestBody ? resolveRef(this.doc, op.requestBody) : undefined;
        const bodySchema = (rb?.content as Json | undefined)?.['application/json'] as Json | undefined;
        const responses = new Map<string, ValidateFunction | null>();
        for (const [status, r] of Object.entries((op.responses as Json) ?? {})) {
          const resp = resolveRef(this.doc, r);
          const content = resp.content as Json | undefined;
          const media = (content?.['application/json'] ?? content?.['application/problem+json']) as Json | undefined;
          responses.set(status, media?.schema ? this.ajv.compile(rewriteRefs(media.schema) as Json) : null);
        }
        this.operations.push({
          operationId: String(op.operationId),
          method: method.toUpperCase(),
          pathTemplate,
          regex,
          paramNames,
          auth: op['x-auth'] === 'none' ? 'none' : 'apiKey',
          roles: (op['x-roles'] as RoleSpec[] | undefined) ?? [],
          idempotent: op['x-idempotent'] === true,
          bodyRequired: rb?.required === true,
          validatePath: group('path'),
          validateQuery: group('query'),
          validateHeaders: group('header'),
          validateBody: bodySchema?.schema ? this.ajv.compile(rewriteRefs(bodySchema.schema) as Json) : undefined,
          responses,
          chaincode: op['x-chaincode'] as ChaincodeMapping | undefined,
        });
      }
    }
  }

  /** Literal paths win over templates (`/participants/leaderboard` before `/participants/{participantId}`). */
  private sorted: Operation[] | undefined;

  /** The operation for a method + path, or which methods the path allows. */
  match(method: string, urlPath: string): { op: Operation; params: Record<string, string> } | { allowed: string[] } | undefined {
    const allowed: string[] = [];
    this.sorted ??= [...this.operations].sort((a, b) => a.paramNames.length - b.paramNames.length);
    for (const op of this.sorted) {
      const m = op.regex.exec(urlPath);
      if (!m) continue;
      if (op.method !== method.toUpperCase() && !(method.toUpperCase() === 'HEAD' && op.method === 'GET')) {
        allowed.push(op.method);
        continue;
      }
      const params: Record<string, string> = {};
      op.paramNames.forEach((n, i) => {
        try {
          params[n] = decodeURIComponent(m[i + 1]!);
        } catch {
          params[n] = m[i + 1]!;
        }
      });
      return { op, params };
    }
    return allowed.length ? { allowed } : undefined;
  }

  operation(operationId: string): Operation {
    const op = this.operations.find((o) => o.operationId === operationId);
    if (!op) throw new Error(`no operation ${operationId} in openapi.yaml`);
    return op;
  }

  private problemValidator: ValidateFunction | undefined;

  /** Validates a problem+json body against components.schemas.Problem. Returns problems, [] if valid. */
  checkProblem(body: unknown): string[] {
    this.problemValidator ??= this.ajv.compile({ $ref: 'doc#/components/schemas/Problem' });
    return this.problemValidator(body) ? [] : fieldErrors('body', this.problemValidator.errors).map((e) => `${e.pointer || '(root)'} ${e.message}`);
  }

  /** Validates a response body against the documented schema (exact status, else `default`). Returns problems, [] if valid. */
  checkResponse(operationId: string, status: number, body: unknown): string[] {
    const op = this.operation(operationId);
    const key = op.responses.has(String(status)) ? String(status) : op.responses.has('default') ? 'default' : undefined;
    if (!key) return [`status ${status} is not documented for ${operationId}`];
    const v = op.responses.get(key);
    if (!v) return [];
    return v(body) ? [] : fieldErrors('body', v.errors).map((e) => `${e.pointer || '(root)'} ${e.message}`);
  }
}

/** ajv errors → one message per field, in words a client developer can act on. */
export function fieldErrors(where: FieldError['in'], errors: ErrorObject[] | null | undefined): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors ?? []) {
    if (e.keyword === 'if' || e.keyword === 'allOf') continue;
    let pointer = e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      pointer = `${pointer}/${String(e.params.missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      pointer = `${pointer}/${String(e.params.additionalProperty)}`;
      message = where === 'query' ? 'is not a parameter of this operation (remove it)' : 'is not a known field (remove it)';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
    } else if (e.keyword === 'pattern') {
      message = `must match ${String(e.params.pattern)}`;
    }
    if (where !== 'body') pointer = pointer.replace(/^\//, '');
    out.push({ in: where, pointer, message });
  }
  return out;
}
