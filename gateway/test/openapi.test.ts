/**
 * The OpenAPI document itself: well-formed schemas (a YAML slip such as an unquoted `description: a, b`
 * in a flow mapping silently adds a key with a null value) and bounded request inputs, so no body or
 * parameter can carry an arbitrarily large value to the ledger (issue 16).
 */
import { loadOpenApiDocument } from '../src/rest/openapi';

type Json = Record<string, unknown>;
// the document as served: openapi.yaml with its protocol request bodies completed (src/rest/openapi.ts)
const doc = loadOpenApiDocument();

/** JSON Schema 2020-12 keywords (validation, applicators, annotations) plus OpenAPI 3.1's own. */
const KEYWORDS = new Set([
  '$ref', 'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'propertyNames', 'minProperties', 'maxProperties',
  'items', 'minItems', 'maxItems', 'uniqueItems', 'minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum',
  'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else',
  'title', 'description', 'default', 'examples', 'example', 'deprecated', 'readOnly', 'writeOnly', 'discriminator',
]);

/** Visits a schema and every subschema, with a JSON-pointer-like path; `deref` follows `$ref`s. */
function walkSchema(schema: unknown, at: string, visit: (s: Json, at: string) => void, deref = false): void {
  if (deref) schema = resolve(schema);
  if (schema === true || schema === false) return;
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
    visit({ '(not a schema)': schema }, at);
    return;
  }
  const s = schema as Json;
  visit(s, at);
  for (const [k, v] of Object.entries((s.properties as Json | undefined) ?? {})) walkSchema(v, `${at}/properties/${k}`, visit, deref);
  for (const k of ['items', 'propertyNames', 'not', 'if', 'then', 'else']) if (s[k] !== undefined) walkSchema(s[k], `${at}/${k}`, visit, deref);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') walkSchema(s.additionalProperties, `${at}/additionalProperties`, visit, deref);
  for (const k of ['allOf', 'anyOf', 'oneOf']) ((s[k] as unknown[] | undefined) ?? []).forEach((x, i) => walkSchema(x, `${at}/${k}/${i}`, visit, deref));
}

function resolve(v: unknown): unknown {
  const ref = (v as Json | undefined)?.$ref;
  if (typeof ref !== 'string') return v;
  let cur: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) cur = (cur as Json)[part];
  return resolve(cur);
}

/** Every schema in the document: components and the inline ones of parameters, bodies and responses. */
function allSchemas(): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = Object.entries((doc.components as Json).schemas as Json).map(([k, v]) => [`#/components/schemas/${k}`, v]);
  for (const [k, p] of Object.entries(((doc.components as Json).parameters as Json) ?? {})) out.push([`#/components/parameters/${k}`, (p as Json).schema]);
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      const o = op as Json;
      for (const p of (o.parameters as Json[] | undefined) ?? []) if (!p.$ref) out.push([`${method} ${path} parameter ${String(p.name)}`, p.schema]);
      for (const [media, c] of Object.entries(((o.requestBody as Json | undefined)?.content as Json | undefined) ?? {})) out.push([`${method} ${path} body ${media}`, (c as Json).schema]);
      for (const [status, r] of Object.entries((o.responses as Json | undefined) ?? {})) {
        for (const [media, c] of Object.entries(((r as Json).content as Json | undefined) ?? {})) out.push([`${method} ${path} ${status} ${media}`, (c as Json).schema]);
      }
    }
  }
  return out;
}

/** The request inputs: each operation's parameters and JSON body, references resolved. */
function requestInputs(): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      const o = op as Json;
      for (const p of ((o.parameters as unknown[] | undefined) ?? []).map(resolve) as Json[]) out.push([`${method} ${path} ${String(p.in)} ${String(p.name)}`, p.schema]);
      const body = (resolve(o.requestBody) as Json | undefined)?.content as Json | undefined;
      if (body?.['application/json']) out.push([`${method} ${path} body`, (body['application/json'] as Json).schema]);
    }
  }
  return out;
}

function nullsIn(v: unknown, at: string, out: string[]): string[] {
  if (v === null) out.push(at);
  else if (Array.isArray(v)) v.forEach((x, i) => nullsIn(x, `${at}/${i}`, out));
  else if (typeof v === 'object') for (const [k, x] of Object.entries(v as Json)) nullsIn(x, `${at}/${k}`, out);
  return out;
}

describe('openapi.yaml', () => {
  it('has no null value anywhere (a YAML slip leaves one)', () => {
    expect(nullsIn(doc, '#', [])).toEqual([]);
  });

  it('uses only JSON Schema keywords in its schemas', () => {
    const unknown: string[] = [];
    for (const [where, schema] of allSchemas()) {
      walkSchema(schema, where, (s, at) => {
        for (const k of Object.keys(s)) if (!KEYWORDS.has(k) && !k.startsWith('x-')) unknown.push(`${at}: "${k}"`);
      });
    }
    expect(unknown).toEqual([]);
  });

  it('bounds every string, number, array and object a request may carry', () => {
    const unbounded: string[] = [];
    for (const [where, schema] of requestInputs()) walkSchema(schema, where, checkOne, true);
    function checkOne(s: Json, at: string): void {
      // names are bounded by the object's own bounds; enum/const admit listed values only
      if (at.endsWith('/propertyNames') || s.enum !== undefined || s.const !== undefined) return;
      const types = ([] as unknown[]).concat(s.type ?? []);
      if (types.includes('string') && s.maxLength === undefined) unbounded.push(`${at}: string without maxLength`);
      if ((types.includes('integer') || types.includes('number')) && (s.maximum === undefined || s.minimum === undefined)) unbounded.push(`${at}: number without minimum and maximum`);
      if (types.includes('array') && s.maxItems === undefined) unbounded.push(`${at}: array without maxItems`);
      if (types.includes('object') && s.maxProperties === undefined && s.additionalProperties !== false) unbounded.push(`${at}: object without maxProperties or additionalProperties: false`);
      if (!types.length && !s.allOf && !s.anyOf && !s.oneOf) unbounded.push(`${at}: no type`);
    }
    expect(unbounded).toEqual([]);
  });
});
