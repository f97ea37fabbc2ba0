import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNetworkJson, NetworkConfigError, parseNetworkJson, type NetworkJson } from '../src';

const org = {
  name: 'utility1',
  mspId: 'Utility1MSP',
  peer: { endpoint: '127.0.0.1:27001', hostAlias: 'peer0.utility1.gridledger.local', tlsRootCertPath: '/h/tlsca.pem' },
  ca: { url: 'https://127.0.0.1:27002', caName: 'ca-utility1', tlsRootCertPath: '/h/tlsca.pem', registrar: { enrollmentId: 'admin', enrollmentSecret: 'adminpw' } },
  users: { admin: { certPath: '/h/cert.pem', keyPath: '/h/key.pem' } },
  operations: 'http://127.0.0.1:27003',
};
const devnet: NetworkJson = {
  tier: 'devnet',
  channel: 'energy',
  home: '/h',
  organizations: [org],
  chaincodes: [{ name: 'gridledger', addresses: { utility1: '127.0.0.1:27190' } }],
  orderer: { batch: { maxMessageCount: 10, timeoutMs: 100 }, consensus: 'solo', mspId: 'OrdererMSP', tlsRootCertPath: '/h/o.pem', nodes: [{ name: 'orderer', endpoint: '127.0.0.1:27021', hostAlias: 'orderer.gridledger.local' }] },
  control: { ledgerPidFiles: ['/h/devnet.pid'], restartLedger: ['node', 'cli.js', 'restart'] },
};

function problems(value: unknown): string[] {
  try {
    parseNetworkJson(value);
  } catch (e) {
    expect(e).toBeInstanceOf(NetworkConfigError);
    return (e as NetworkConfigError).problems;
  }
  throw new Error('expected a NetworkConfigError');
}

describe('network.json schema', () => {
  it('accepts what the tiers write, extra facts included', () => {
    expect(parseNetworkJson(devnet)).toBe(devnet);
    const fabric = { ...devnet, tier: 'fabric', chaincodes: [{ name: 'gridledger', addresses: { utility1: '127.0.0.1:27190' }, packageIds: { utility1: 'gridledger:abc' } }], extra: 1 };
    expect(parseNetworkJson(fabric)).toBe(fabric);
  });

  it('lists every problem with where it is', () => {
    const bad = { ...devnet, tier: 'docker', organizations: [{ ...org, peer: { endpoint: '' } }], control: undefined };
    const p = problems(bad);
    expect(p).toEqual(expect.arrayContaining([
      '(root) must have required property \'control\'',
      '/tier must be equal to one of the allowed values',
      '/organizations/0/peer must have required property \'hostAlias\'',
      '/organizations/0/peer/endpoint must NOT have fewer than 1 characters',
    ]));
    expect(problems({ ...devnet, organizations: [] })).toEqual(['/organizations must NOT have fewer than 1 items']);
    // the one-address form of earlier homes: a chaincode names each org's server
    expect(problems({ ...devnet, chaincodes: [{ name: 'gridledger', address: '127.0.0.1:27050' }] })).toEqual(["/chaincodes/0 must have required property 'addresses'"]);
  });

  it('names the file it could not read or parse', () => {
    const dir = mkdtempSync(join(tmpdir(), 'protocol-'));
    expect(() => loadNetworkJson(join(dir, 'network.json'))).toThrow(/invalid network config .*network\.json:\n {2}- cannot read/);
    writeFileSync(join(dir, 'network.json'), JSON.stringify(devnet));
    expect(loadNetworkJson(join(dir, 'network.json'))).toEqual(devnet);
  });
});
