/**
 * docs/transactions.md, rendered from the catalogue (`npm run catalogue --workspace packages/protocol`
 * writes it; packages/protocol/test/schemas.test.ts fails when the file is not current).
 */
import { TRANSACTIONS, type TxArg } from './transactions';
import { INPUT_SCHEMAS, OUTPUT_SCHEMAS } from './registry';
import { hintOf, schemaSubCodes } from './validate';
import type { JsonSchema } from './fields';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
/** A schema's `description` (a string when present; the schemas are ours, packages/protocol/src/schemas). */
const descriptionOf = (s: JsonSchema, fallback = ''): string => (typeof s.description === 'string' ? s.description : fallback);

function argText(a: TxArg): string {
  const how = a.kind === 'json' ? (a.schemaName ? `JSON [${a.schemaName}](#${a.schemaName.toLowerCase()})` : `JSON (${hintOf(a.schema)})`) : a.kind === 'integer' ? hintOf(a.schema) : hintOf(a.schema);
  const extra = [a.optional ? 'optional (empty = absent)' : '', a.transient ? `or empty with transient \`${a.transient}\`` : ''].filter(Boolean).join(', ');
  return `\`${a.name}\`: ${how}${extra ? ` — ${extra}` : ''}`;
}

function fieldRows(s: JsonSchema): string[] {
  const props = (s.properties as Record<string, JsonSchema> | undefined) ?? {};
  const required = (s.required as string[] | undefined) ?? [];
  return Object.entries(props).map(([k, p]) => {
    const inner = p.type === 'array' && p.items ? ` of ${descriptionOf(p.items as JsonSchema, 'items')}` : '';
    return `| \`${k}\` | ${required.includes(k) ? 'yes' : 'no'} | ${cell(hintOf(p) + inner)} | ${cell(descriptionOf(p))} | ${schemaSubCodes({ [k]: p }).map((c) => `\`${c}\``).join(', ')} |`;
  });
}

export function renderCatalogue(): string {
  const out: string[] = [
    '# Transaction catalogue',
    '',
    '<!-- Generated from packages/protocol/src/schemas by `npm run catalogue --workspace packages/protocol`; do not edit by hand. -->',
    '',
    'Every chaincode transaction, who may call it and its arguments (each a string on the wire). The',
    'JSON inputs are defined once in `packages/protocol/src/schemas/` and used by the chaincode\'s',
    'validation, the gateway\'s OpenAPI request bodies and `org.hyperledger.fabric:GetMetadata`',
    '([architecture](architecture.md#transaction-schemas)). Refusals are `INVALID_ARGUMENT` with the',
    'sub-code listed ([CONTRACTS.md](../chaincode/CONTRACTS.md) "Errors"); the REST routes are in [api.md](api.md).',
    'Every answer is UTF-8 JSON with sorted keys, of the output schema named in the last column (the',
    'same schemas are GetMetadata\'s `returns` and the gateway\'s response bodies).',
    '',
    '| transaction | mode | caller | arguments | what it does | answer |',
    '|---|---|---|---|---|---|',
  ];
  for (const t of TRANSACTIONS) {
    const transient = (t.transient ?? []).map((x) => `transient \`${x.name}\`: JSON [${x.schemaName}](#${x.schemaName.toLowerCase()}) (required)`);
    const args = t.args.length || transient.length ? [...t.args.map(argText), ...transient].join('<br>') : '—';
    out.push(`| \`${t.name}\` | ${t.mode} | ${cell(t.caller)} | ${cell(args)} | ${cell(t.summary)} | [${t.output}](#${t.output.toLowerCase()}) |`);
  }
  out.push('', '## Input schemas', '');
  for (const [name, s] of Object.entries(INPUT_SCHEMAS)) {
    const kind = s.type === 'array' ? `An array of ${String(s.minItems)} to ${String(s.maxItems)} items, each:` : s.additionalProperties === false ? 'No other field is accepted (`UNKNOWN_FIELD`).' : '';
    out.push(`### ${name}`, '', `${descriptionOf(s)}. ${kind}`.trim(), '');
    out.push('| field | required | value | meaning | sub-codes |', '|---|---|---|---|---|', ...fieldRows(s.type === 'array' ? (s.items as JsonSchema) : s), '');
  }
  out.push('## Output schemas', '', 'Records are closed: no field is answered that is not listed here.', '');
  for (const [name, s] of Object.entries(OUTPUT_SCHEMAS)) {
    const body = s.type === 'array' ? (s.items as JsonSchema) : s;
    const kind = s.type === 'array' ? 'An array, each item:' : '';
    out.push(`### ${name}`, '', `${typeof s.description === 'string' ? s.description : ''}. ${kind}`.trim(), '');
    out.push('| field | always | value | meaning |', '|---|---|---|---|', ...outputRows(body), '');
  }
  return out.join('\n');
}

/** How an answer's field is described: its type, enum, or the record/list it holds. */
function outputHint(p: JsonSchema): string {
  if (Array.isArray(p.enum)) return `one of ${p.enum.map((x) => JSON.stringify(x)).join(', ')}`;
  if ('const' in p) return JSON.stringify(p.const);
  if (Array.isArray(p.anyOf)) return (p.anyOf as JsonSchema[]).map(outputHint).join(' or ');
  if (p.type === 'array') return `array of ${outputHint((p.items as JsonSchema | undefined) ?? {})}`;
  if (p.type === 'object') return p.properties ? `{${Object.keys(p.properties as JsonSchema).join(', ')}}` : 'object';
  return typeof p.type === 'string' ? p.type : 'any JSON';
}

function outputRows(s: JsonSchema): string[] {
  const props = (s.properties as Record<string, JsonSchema> | undefined) ?? {};
  const required = (s.required as string[] | undefined) ?? [];
  return Object.entries(props).map(([k, p]) => `| \`${k}\` | ${required.includes(k) ? 'yes' : 'no'} | ${cell(outputHint(p))} | ${cell(typeof p.description === 'string' ? p.description : '')} |`);
}
