/**
 * `org.hyperledger.fabric:GetMetadata` through fabric-shim's own contract runtime
 * (ChaincodeFromContract, as `fabric-chaincode-node server` loads us). It used to fail with
 * "classToPlain is not a function": fabric-contract-api 2.5.8 asks for class-transformer ^0.4.0 and
 * destructures `classToPlain`, but class-transformer 0.4.1 was published with the 0.5 renames
 * (`instanceToPlain`) — every non-string result (GetMetadata's object) hit an undefined function.
 * chaincode/package.json pins class-transformer 0.4.0.
 */
import { JSONSerializer } from 'fabric-contract-api';
import { INPUT_SCHEMAS, OUTPUT_SCHEMAS, TRANSACTIONS } from '@gridledger/protocol';
import { contracts } from '../../src';

// fabric-shim ships no types for its contract SPI
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract');

/** A throwaway self-signed client certificate (the runtime parses the creator before any function). */
const CERT = `-----BEGIN CERTIFICATE-----
MIIBzzCCAXWgAwIBAgIUTOwbGrFq5cUSjB19ztsx/yrxMicwCgYIKoZIzj0EAwIw
PDEWMBQGA1UEAwwNbWV0YWRhdGEtdGVzdDEPMA0GA1UECwwGY2xpZW50MREwDwYD
VQQKDAhVdGlsaXR5MTAgFw0yNjExMjEyMDQzNTdaGA8yMTI2MTAyODIwNDM1N1ow
PDEWMBQGA1UEAwwNbWV0YWRhdGEtdGVzdDEPMA0GA1UECwwGY2xpZW50MREwDwYD
VQQKDAhVdGlsaXR5MTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABM5h+KZrVo91
S0K9I0uSNNpNuv7+2Zx36lNr/UucvfYRwZfHIPX1S0s2DXF6pZ9jRa3XW8feJTah
M+5/kC+9boWjUzBRMB0GA1UdDgQWBBRIswr7zTmFTyYi+ea/pVbKu+ceBTAfBgNV
HSMEGDAWgBRIswr7zTmFTyYi+ea/pVbKu+ceBTAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA0gAMEUCIQDAdNZSyrzNSaueaqqNKRXPNLyjWNn9VWPqiyPgvX+G
DgIgOIKBUgTM5qMgSzNxnEMT+WnyN1OU+66Qs/luqv3qj2w=
-----END CERTIFICATE-----`;

function stubFor(fn: string, args: string[] = []) {
  const buffers = [fn, ...args].map((a) => Buffer.from(a));
  return {
    getBufferArgs: () => buffers,
    getTxID: () => 'tx-metadata',
    getChannelID: () => 'energy',
    getCreator: () => ({ mspid: 'Utility1MSP', idBytes: Buffer.from(CERT) }),
  };
}

describe('GetMetadata through fabric-shim ChaincodeFromContract', () => {
  const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };
  const cc = new ChaincodeFromContract(contracts, serializers, {}, '@gridledger/chaincode', '0.2.0');

  it('class-transformer exposes what fabric-contract-api destructures', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ct = require('class-transformer');
    expect(typeof ct.classToPlain).toBe('function');
    expect(typeof ct.plainToClass).toBe('function');
  });

  it('returns status 200 and the metadata of every contract', async () => {
    const res = await cc.invokeFunctionality(stubFor('org.hyperledger.fabric:GetMetadata'));
    expect(res.message ?? '').toBe('');
    expect(res.status).toBe(200);
    const md = JSON.parse(Buffer.from(res.payload).toString('utf8'));
    const names = Object.keys(md.contracts);
    for (const c of ['health', 'governance', 'participants', 'committees', 'admissions', 'meters', 'wallets', 'energy', 'offers', 'trades', 'auctions', 'market']) {
      expect(names).toContain(c);
    }
    const meters = md.contracts.meters.transactions.map((t: { name: string }) => t.name);
    expect(meters).toEqual(expect.arrayContaining(['postReading', 'postReadings', 'getReading', 'getProof', 'getReadingHash', 'getHead']));
  });

  it('describes every transaction\'s arguments from the one catalogue, and ships the input schemas as components', async () => {
    const res = await cc.invokeFunctionality(stubFor('org.hyperledger.fabric:GetMetadata'));
    const md = JSON.parse(Buffer.from(res.payload).toString('utf8'));
    const listed: string[] = [];
    for (const [contract, c] of Object.entries(md.contracts as Record<string, { transactions: Array<{ name: string; parameters?: Array<{ name: string; description: string; required: boolean; schema: { type: string; description: string } }> }> }>)) {
      if (contract === 'org.hyperledger.fabric') continue;
      for (const t of c.transactions) {
        listed.push(`${contract}:${t.name}`);
        const def = TRANSACTIONS.find((d) => d.name === `${contract}:${t.name}`)!;
        expect((t.parameters ?? []).map((p) => p.name)).toEqual(def.args.map((a) => a.name));
        for (const p of t.parameters ?? []) expect(p.schema.type).toBe('string');
      }
    }
    // the catalogue lists exactly the transactions the contracts declare
    expect(listed.sort()).toEqual(TRANSACTIONS.map((t) => t.name).sort());
    const create = md.contracts.offers.transactions.find((t: { name: string }) => t.name === 'create');
    expect(create.parameters[0]).toMatchObject({ name: 'offerJson', required: true, schema: { type: 'string', description: 'JSON text of #/components/schemas/OfferInput' } });
    const accept = md.contracts.offers.transactions.find((t: { name: string }) => t.name === 'accept');
    expect(accept.parameters[1].description).toMatch(/^an integer between 1 and 10000000, in decimal digits/);
    for (const [name, schema] of Object.entries(INPUT_SCHEMAS)) expect(md.components.schemas[name]).toEqual({ $id: name, ...schema });
  });

  it('names every transaction\'s output schema in `returns`, and ships the output schemas as components', async () => {
    const res = await cc.invokeFunctionality(stubFor('org.hyperledger.fabric:GetMetadata'));
    const md = JSON.parse(Buffer.from(res.payload).toString('utf8'));
    let described = 0;
    for (const [contract, c] of Object.entries(md.contracts as Record<string, { transactions: Array<{ name: string; returns?: { type: string; description?: string } }> }>)) {
      if (contract === 'org.hyperledger.fabric') continue;
      for (const t of c.transactions) {
        const def = TRANSACTIONS.find((d) => d.name === `${contract}:${t.name}`)!;
        // the shim serialises the answer by this schema: it must stay a string (our canonical JSON text)
        expect(t.returns).toEqual({ type: 'string', description: `JSON text of #/components/schemas/${def.output}` });
        described++;
      }
    }
    expect(described).toBe(TRANSACTIONS.length);
    for (const [name, schema] of Object.entries(OUTPUT_SCHEMAS)) expect(md.components.schemas[name]).toEqual({ $id: name, ...schema });
  });

  it('sends a result through the shim unchanged (returns type string: not JSON-encoded twice)', async () => {
    const res = await cc.invokeFunctionality(stubFor('health:ping'));
    expect(res.status).toBe(200);
    expect(JSON.parse(Buffer.from(res.payload).toString('utf8'))).toMatchObject({ chaincode: 'gridledger', status: 'ok' });
  });

  it('gives the shim\'s argument marshall no component schemas (they cost a quarter of the CPU per call), yet GetMetadata lists them all', async () => {
    // lightenArgumentMarshalling ran when src/index.ts was imported; a fabric-shim without the hook would fail here
    const marshalls = Object.values(cc.contractImplementations as Record<string, { dataMarshall?: { components: object } }>).filter((c) => c.dataMarshall);
    expect(marshalls.length).toBeGreaterThan(10);
    for (const c of marshalls) expect(c.dataMarshall!.components).toEqual({});
    const res = await cc.invokeFunctionality(stubFor('org.hyperledger.fabric:GetMetadata'));
    const md = JSON.parse(Buffer.from(res.payload).toString('utf8'));
    expect(Object.keys(md.components.schemas).sort()).toEqual(Object.keys({ ...INPUT_SCHEMAS, ...OUTPUT_SCHEMAS }).sort());
    // arguments are still counted and passed through as strings
    const wrong = await cc.invokeFunctionality(stubFor('health:ping', ['extra']));
    expect(wrong.message).toMatch(/Expected 0 parameters, but 1 have been supplied/);
  });

  it('leaves argument checking to the chaincode: the shim passes a bad argument through to the contract', async () => {
    // fabric-shim validates each argument against its parameter schema before the function runs
    // (datamarshall.js handleParameters); the schemas stay {type: string}, so a 300-character id with
    // `~` reaches offers:get, whose first refusal here is the caller check ([CODE:SUB_CODE], ours).
    const res = await cc.invokeFunctionality(stubFor('offers:get', ['~'.repeat(300)]));
    expect(res.status).toBe(500);
    expect(res.message).toMatch(/^\[UNAUTHENTICATED:NO_ROLE\] /);
    expect(res.message).not.toMatch(/Unable to validate parameter/);
  });
});

