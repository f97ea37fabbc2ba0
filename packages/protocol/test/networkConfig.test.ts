import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetworkConfigError, parseNetworkConfig } from '../src';

const SHIPPED = readFileSync(join(__dirname, '../../../test-network-config/network.yaml'), 'utf8');

function withOrgHost(host: string): string {
  return SHIPPED.replace('  - name: utility2\n', `  - name: utility2\n    host: ${JSON.stringify(host)}\n`);
}

function problemsOf(text: string): string {
  try {
    parseNetworkConfig(text);
  } catch (err) {
    expect(err).toBeInstanceOf(NetworkConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a NetworkConfigError');
}

describe('network.yaml host (one org per host)', () => {
  test('defaults to 127.0.0.1 for every org and the orderer org', () => {
    const cfg = parseNetworkConfig(SHIPPED);
    expect(cfg.organizations.map((o) => o.host)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    expect(cfg.orderer.host).toBe('127.0.0.1');
  });

  test('an org may name an IPv4 address or a DNS name; the others keep the default', () => {
    expect(parseNetworkConfig(withOrgHost('127.0.0.12')).organizations.map((o) => o.host)).toEqual(['127.0.0.1', '127.0.0.12', '127.0.0.1']);
    expect(parseNetworkConfig(withOrgHost('peer-host.utility2.example')).organizations[1]!.host).toBe('peer-host.utility2.example');
    const orderer = parseNetworkConfig(SHIPPED.replace('  domain: orderer.gridledger.local\n', '  domain: orderer.gridledger.local\n  host: 127.0.0.10\n'));
    expect(orderer.orderer.host).toBe('127.0.0.10');
  });

  test.each([
    ['an endpoint', '127.0.0.2:7051'],
    ['a URL', 'https://host'],
    ['an IPv6 literal (endpoints would need brackets)', '::1'],
    ['an empty string', ''],
    ['a name with a space', 'utility 2'],
  ])('refuses %s with the field that is wrong', (_what, host) => {
    expect(problemsOf(withOrgHost(host))).toMatch(/\/organizations\/1\/host must match pattern/);
  });
});

describe('network.yaml collections', () => {
  test("an explicit collection may not take Fabric's reserved form (leading '_')", () => {
    const text = SHIPPED.replace('- name: utility1Only\n', '- name: _implicit_org_Utility1MSP\n');
    expect(text).not.toBe(SHIPPED);
    expect(problemsOf(text)).toMatch(/collections\/0\/name must match pattern/);
  });
});

describe('network.yaml development settings (docs/operations.md "Short intervals on development networks")', () => {
  const without = SHIPPED.replace(/\ndevelopment:\n {2}intervalSeconds: 60\n/, '\n');
  test('the shipped file asks for 60 s intervals; without the block there is no development setting', () => {
    expect(parseNetworkConfig(SHIPPED).development).toEqual({ intervalSeconds: 60 });
    expect(without).not.toContain('development:');
    expect(parseNetworkConfig(without).development).toBeUndefined();
  });
  test.each([
    ['an interval no meter reports', '\ndevelopment:\n  intervalSeconds: 30\n', /\/development\/intervalSeconds must be equal to one of the allowed values/],
    ['an unknown field', '\ndevelopment:\n  intervalSeconds: 60\n  slotSeconds: 5\n', /\/development must NOT have additional properties/],
  ])('refuses %s', (_what, block, problem) => {
    expect(problemsOf(without + block)).toMatch(problem);
  });
});

describe('network.yaml chaincode servers (one per org, or one for all)', () => {
  const GRIDLEDGER_OFFSETS = 'addressPortOffsets: { utility1: 190, utility2: 290, utility3: 390 }';

  test('the shipped file gives each org its own server of every chaincode', () => {
    const cfg = parseNetworkConfig(SHIPPED, 'network.yaml', 27000);
    const gridledger = cfg.chaincodes.find((c) => c.name === 'gridledger')!;
    expect(gridledger.perOrg).toBe(true);
    expect(gridledger.addresses).toEqual({ utility1: '127.0.0.1:27190', utility2: '127.0.0.1:27290', utility3: '127.0.0.1:27390' });
    expect(cfg.chaincodes.every((c) => c.perOrg && new Set(Object.values(c.addresses)).size === 3)).toBe(true);
  });

  test('addressPortOffset: every org dials the same server', () => {
    const cfg = parseNetworkConfig(SHIPPED.replace(GRIDLEDGER_OFFSETS, 'addressPortOffset: 90'), 'network.yaml', 27000);
    const gridledger = cfg.chaincodes.find((c) => c.name === 'gridledger')!;
    expect(gridledger.perOrg).toBe(false);
    expect(gridledger.addresses).toEqual({ utility1: '127.0.0.1:27090', utility2: '127.0.0.1:27090', utility3: '127.0.0.1:27090' });
  });

  test('refuses a per-org map that misses an org or names an unknown one, and a server port used twice', () => {
    expect(problemsOf(SHIPPED.replace(GRIDLEDGER_OFFSETS, 'addressPortOffsets: { utility1: 190, utility2: 290, utility4: 390 }')))
      .toMatch(/chaincode gridledger: addressPortOffsets names unknown org utility4[\s\S]*chaincode gridledger: addressPortOffsets has no server for org utility3/);
    expect(problemsOf(SHIPPED.replace(GRIDLEDGER_OFFSETS, 'addressPortOffsets: { utility1: 190, utility2: 190, utility3: 390 }')))
      .toMatch(/port 17190 is used by both chaincode gridledger of utility1 and chaincode gridledger of utility2/);
  });

  test('refuses both forms at once, and neither', () => {
    expect(problemsOf(SHIPPED.replace(GRIDLEDGER_OFFSETS, `${GRIDLEDGER_OFFSETS}\n    addressPortOffset: 90`))).toMatch(/chaincodes\/0 must match exactly one schema in oneOf/);
    expect(problemsOf(SHIPPED.replace(`    ${GRIDLEDGER_OFFSETS}\n`, ''))).toMatch(/chaincodes\/0 must match exactly one schema in oneOf/);
  });
});
