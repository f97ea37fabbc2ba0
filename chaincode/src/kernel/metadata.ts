/**
 * What `org.hyperledger.fabric:GetMetadata` says about each transaction, from the one catalogue of
 * transactions (packages/protocol/src/schemas/transactions.ts, docs/transactions.md).
 *
 * fabric-contract-api builds the metadata from the `@Transaction` decorators
 * (fabric-contract-api/lib/annotations/transaction.js: `fabric:transactions` on each contract's
 * prototype) and takes `components.schemas` from its object registry (`fabric:objects` on `global`,
 * what `@Object()` fills; fabric-shim/lib/contract-spi/chaincodefromcontract.js
 * `_augmentMetadataFromCode`). We fill both from the catalogue:
 * - each parameter gets its name, a description of its value and `required`; its `schema` stays
 *   `{type: 'string'}`, because fabric-shim validates and converts arguments by that schema before
 *   the function runs (lib/contract-spi/datamarshall.js `handleParameters`) — anything richer would
 *   refuse bad input in the shim's words instead of our `[CODE:SUB_CODE]` ones, and a `$ref` would
 *   make the shim parse the JSON itself;
 * - every JSON input schema is a component (`components.schemas.<Name>`, with `$id`), and the
 *   parameters holding that JSON name it: `schema.description` = `JSON text of #/components/schemas/<Name>`;
 * - every output schema is a component too, and each transaction's `returns` names its own the same
 *   way. `returns` stays `{type: 'string'}` for the same reason as the parameters: fabric-shim
 *   serialises the result by that schema (lib/contract-spi/datamarshall.js `toWireBuffer`; with
 *   `type: 'string'` it sends our canonical JSON text as it is, anything else would JSON-encode it
 *   again).
 *
 * `describeTransactions` throws when a `@Transaction` is missing from the catalogue or its arguments
 * differ, so the catalogue cannot fall behind the code (test/kernel/metadata.test.ts).
 */
import { INPUT_SCHEMAS, OUTPUT_SCHEMAS, hintOf, transaction, type TxArg } from '@gridledger/protocol';
import type { Contract } from 'fabric-contract-api';

/** fabric-contract-api's annotations load reflect-metadata, which adds these to `Reflect`. */
const metadata = Reflect as unknown as {
  getMetadata(key: string, target: object): unknown;
  defineMetadata(key: string, value: unknown, target: object): void;
};

interface FabricParameter {
  name: string;
  description?: string;
  required?: boolean;
  schema: Record<string, unknown>;
}
interface FabricTransaction {
  name: string;
  tag?: string[];
  parameters?: FabricParameter[];
  returns?: Record<string, unknown>;
}

/** The JSON-text reference a parameter's schema description carries. */
export const componentRef = (name: string): string => `#/components/schemas/${name}`;

function parameterOf(a: TxArg): FabricParameter {
  const value = a.kind === 'json' && a.schemaName ? `JSON text of ${componentRef(a.schemaName)}` : a.kind === 'integer' ? `${hintOf(a.schema)}, in decimal digits` : hintOf(a.schema);
  const notes = [typeof a.schema.description === 'string' ? a.schema.description : '', a.optional ? 'empty = absent' : '', a.transient ? `may be empty when transient "${a.transient}" holds it (kept off the block)` : ''].filter(Boolean);
  return {
    name: a.name,
    description: notes.length ? `${value}; ${notes.join('; ')}` : value,
    required: !a.optional && !a.transient,
    schema: { type: 'string', description: value },
  };
}

/** Annotates the contracts' `@Transaction` metadata and the object registry from the catalogue. */
export function describeTransactions(contracts: ReadonlyArray<new () => Contract>): void {
  for (const C of contracts) {
    const contractName = new C().getName();
    const txs = (metadata.getMetadata('fabric:transactions', C.prototype as Contract) ?? []) as FabricTransaction[];
    for (const t of txs) {
      const name = `${contractName}:${t.name}`;
      const def = transaction(name);
      if (!def) throw new Error(`transaction ${name} is not in the catalogue (packages/protocol/src/schemas/transactions.ts)`);
      const declared = (t.parameters ?? []).map((p) => p.name);
      const catalogued = def.args.map((a) => a.name);
      if (declared.join(',') !== catalogued.join(',')) {
        throw new Error(`transaction ${name} takes (${declared.join(', ')}) but the catalogue lists (${catalogued.join(', ')})`);
      }
      const mode = t.tag?.includes('SUBMIT') ? 'submit' : 'evaluate';
      if (mode !== def.mode) throw new Error(`transaction ${name} is ${mode} but the catalogue says ${def.mode}`);
      t.parameters = def.args.map(parameterOf);
      t.returns = { type: 'string', description: `JSON text of ${componentRef(def.output)}` };
    }
  }
  const objects = (metadata.getMetadata('fabric:objects', global) ?? {}) as Record<string, unknown>;
  for (const [name, schema] of Object.entries({ ...INPUT_SCHEMAS, ...OUTPUT_SCHEMAS })) objects[name] = { $id: name, ...schema };
  metadata.defineMetadata('fabric:objects', objects, global);
}

/**
 * Keeps the component schemas out of fabric-shim's per-call argument handling.
 *
 * fabric-shim hands every component schema to each contract's DataMarshall
 * (lib/contract-spi/chaincodefromcontract.js `_dataMarshall`), and `handleParameters`
 * (lib/contract-spi/datamarshall.js) wraps them into the schema of EVERY argument of EVERY call: it
 * JSON-stringifies that schema twice for debug lines it builds even when debug is off, and ajv keys
 * its compile cache by a stable stringification of it (fast-json-stable-stringify). With our ~55
 * component schemas that was about a quarter of the chaincode servers' CPU under bench:market
 * (docs/benchmarks.md "Market … profiled"). Our parameters are `{type: 'string'}` without `$ref`
 * (parameterOf above), so the marshall needs no component to check them: it gets none, and checks
 * and converts exactly as before. GetMetadata still lists every component (it answers
 * `this.metadata`, not the marshall's copy). Returns whether the shim had the hook we replace; a
 * fabric-shim without it keeps its own behaviour (test/kernel/metadata.test.ts notices).
 */
export function lightenArgumentMarshalling(): boolean {
  /* eslint-disable @typescript-eslint/no-require-imports -- fabric-shim ships no types for its contract SPI */
  const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract') as { prototype: Record<string, unknown> };
  const DataMarshall = require('fabric-shim/lib/contract-spi/datamarshall') as new (requested: unknown, serializers: unknown, components: Record<string, unknown>) => object;
  /* eslint-enable @typescript-eslint/no-require-imports */
  if (typeof ChaincodeFromContract.prototype._dataMarshall !== 'function') return false;
  ChaincodeFromContract.prototype._dataMarshall = function dataMarshall(this: { serializers: { serializers: unknown } }, requested: unknown) {
    return new DataMarshall(requested, this.serializers.serializers, {});
  };
  return true;
}
