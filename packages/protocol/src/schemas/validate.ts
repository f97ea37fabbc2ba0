/**
 * Checking a value against a named input schema with the validators compiled AHEAD, at this
 * package's build (scripts/compile-schemas.js → dist/schemas/generated/validators.js, ajv standalone
 * code): the chaincode runs no schema compilation while it endorses, and a validator is a plain
 * function of its input — deterministic. A refusal is reduced to what the chaincode's `fail()` needs:
 * a stable sub-code (the field schema's `x-subCode`, else one per JSON Schema keyword) and a short
 * detail naming the field; caller values are echoed through `quote`, bounded.
 */
import type { InputSchemaName, OutputSchemaName } from './registry';
import type { JsonSchema } from './fields';
import type { SubCodeOf } from '../errors';

/** The subset of an ajv error (compiled with `verbose`) we read. */
interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  parentSchema?: JsonSchema;
  data?: unknown;
  propertyName?: string;
}
type Validator = ((value: unknown) => boolean) & { errors?: AjvError[] | null };

let compiled: Record<string, Validator> | undefined;

function validators(): Record<string, Validator> {
  if (compiled) return compiled;
  // dist/schemas/validate.js finds ./generated next to it; this file run from src (ts-jest) finds the built one.
  const candidates = ['./generated/validators', '../../dist/schemas/generated/validators'];
  for (const c of candidates) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      compiled = require(c) as Record<string, Validator>;
      return compiled;
    } catch (e) {
      if ((e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  throw new Error('@gridledger/protocol: the compiled validators are missing; run `npm run build --workspace packages/protocol`');
}

/**
 * A refusal's sub-code is one of INVALID_ARGUMENT's catalogued sub-codes (errors.ts). The schemas'
 * `x-subCode` strings are checked against the catalogue by test/schemas.test.ts and the chaincode's
 * error-catalogue test, so the cast in `subCodeOf` cannot let an uncatalogued code through unnoticed.
 */
export type InputSubCode = SubCodeOf<'INVALID_ARGUMENT'>;
export type SchemaCheck<T> = { ok: true; value: T } | { ok: false; subCode: InputSubCode; detail: string };

/** Checks `value` against the input schema `name`; `what` names the value in a refusal (e.g. `offer`). */
export function checkInput<T = Record<string, unknown>>(name: InputSchemaName, value: unknown, what: string, quote: (v: unknown) => string = defaultQuote): SchemaCheck<T> {
  const v = validators()[name];
  if (!v) throw new Error(`@gridledger/protocol: no compiled validator ${name}`);
  if (v(value)) return { ok: true, value: value as T };
  const e = v.errors?.[0];
  if (!e) return { ok: false, subCode: 'BAD_FORMAT', detail: `${what} is not valid` };
  return describeError(e, what, quote);
}

/**
 * Checks a transaction's answer against its output schema (outputs.ts). Returns what does not match,
 * [] when it does. The chaincode's unit-test ledger calls it on every result; production chaincode
 * does not (docs/architecture.md "Transaction schemas").
 */
export function checkOutput(name: OutputSchemaName, value: unknown): string[] {
  const v = validators()[name];
  if (!v) throw new Error(`@gridledger/protocol: no compiled validator ${name}`);
  if (v(value)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.keyword} ${JSON.stringify(e.params)}`);
}

function defaultQuote(v: unknown): string {
  const t = JSON.stringify(v) ?? String(v);
  return t.length <= 64 ? t : `${t.slice(0, 64)}… (${t.length} characters)`;
}

/** `/readings/0/importWh` → `what.readings[0].importWh` */
function fieldPath(what: string, pointer: string): string {
  let out = what;
  for (const part of pointer.split('/').slice(1)) {
    const p = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(p) ? `[${p}]` : `.${p}`;
  }
  return out;
}

/** How a refusal describes a valid value of `s`. */
export function hintOf(s: JsonSchema | undefined): string {
  if (!s) return 'valid';
  if (typeof s['x-hint'] === 'string') return s['x-hint'];
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((x) => JSON.stringify(x)).join(', ')}`;
  switch (s.type) {
    case 'integer':
      return `an integer between ${String(s.minimum)} and ${String(s.maximum)}`;
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'a JSON object';
    case 'array':
      return 'an array';
    case 'string':
      if (typeof s.pattern === 'string') return `a string matching ${s.pattern}`;
      return typeof s.maxLength === 'number' ? `a string of at most ${s.maxLength} characters` : 'a string';
    default:
      return 'valid';
  }
}

function subCodeOf(s: JsonSchema | undefined, keyword: string): InputSubCode {
  if (s && typeof s['x-subCode'] === 'string') return s['x-subCode'] as InputSubCode;
  if (keyword === 'minimum' || keyword === 'maximum') return 'OUT_OF_RANGE';
  if (keyword === 'enum' || keyword === 'const') return 'NOT_ALLOWED_VALUE';
  switch (s?.type) {
    case 'integer':
      return 'NOT_INTEGER';
    case 'object':
      return 'NOT_OBJECT';
    default:
      return Array.isArray(s?.enum) ? 'NOT_ALLOWED_VALUE' : 'BAD_FORMAT';
  }
}

function describeError(e: AjvError, what: string, quote: (v: unknown) => string): SchemaCheck<never> {
  const at = fieldPath(what, e.instancePath);
  const parent = e.parentSchema;
  switch (e.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((parent?.properties as JsonSchema | undefined) ?? {});
      return { ok: false, subCode: 'UNKNOWN_FIELD', detail: `${at}: unknown field ${quote(e.params.additionalProperty)} (allowed: ${allowed.join(', ')})` };
    }
    case 'required': {
      const field = String(e.params.missingProperty);
      const prop = ((parent?.properties as Record<string, JsonSchema> | undefined) ?? {})[field];
      return { ok: false, subCode: subCodeOf(prop, 'required'), detail: `${at}.${field} is missing; it must be ${hintOf(prop)}` };
    }
    case 'minimum':
    case 'maximum':
      return { ok: false, subCode: subCodeOf(parent, e.keyword), detail: `${at} must be between ${String(parent?.minimum)} and ${String(parent?.maximum)} (got ${quote(e.data)})` };
    default:
      if (e.propertyName !== undefined) {
        return { ok: false, subCode: subCodeOf(parent, e.keyword), detail: `${at}: field ${quote(e.propertyName)} is not allowed; field names must be ${hintOf(parent)}` };
      }
      return { ok: false, subCode: subCodeOf(parent, e.keyword), detail: `${at} must be ${hintOf(parent)}` };
  }
}

/**
 * Every sub-code a refusal by `checkInput` can carry for these schemas (the same rules as
 * `describeError`): chaincode/CONTRACTS.md documents them (chaincode/test/kernel/errorCatalogue.test.ts).
 */
export function schemaSubCodes(schemas: Record<string, JsonSchema>): string[] {
  const out = new Set<string>();
  const visit = (s: unknown): void => {
    if (!s || typeof s !== 'object' || Array.isArray(s)) return;
    const o = s as JsonSchema;
    const own = typeof o['x-subCode'] === 'string' ? o['x-subCode'] : undefined;
    if (own) out.add(own);
    else if (o.type === 'integer') out.add('NOT_INTEGER').add('OUT_OF_RANGE');
    else if (o.type === 'object') out.add('NOT_OBJECT');
    else if (Array.isArray(o.enum)) out.add('NOT_ALLOWED_VALUE');
    else out.add('BAD_FORMAT');
    if (o.additionalProperties === false) out.add('UNKNOWN_FIELD');
    for (const p of Object.values((o.properties as JsonSchema | undefined) ?? {})) visit(p);
    for (const k of ['items', 'propertyNames', 'additionalProperties']) visit(o[k]);
  };
  for (const s of Object.values(schemas)) visit(s);
  return [...out].sort();
}
