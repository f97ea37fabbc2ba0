/**
 * Separate hosts on one machine (network/fabric/lib/netns.sh; docs/operations.md §3 "Separate hosts on
 * one machine"): every org's processes run in its own network namespace, at its network.yaml `host:`,
 * and another host reaches only the ports §3 says to open. The probes connect from inside a namespace
 * (`ip netns exec`) or from the root namespace (the clients' and operators' network, where this test runs).
 * A port that is listening but not opened must fail with EHOSTUNREACH (the firewall's
 * "administratively prohibited"), and the same port must accept from the org's own namespace: so a
 * blocked port is blocked by the firewall, not merely closed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadNetwork, networkHome, org } from '../support/network';

const home = networkHome();
const net = loadNetwork(home);
/** <home>/netns/hosts: "<address> <namespace> <org>" per host, written by netns_up. */
const hosts = readFileSync(join(home, 'netns', 'hosts'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => {
    const [addr = '', ns = '', name = ''] = l.split(/\s+/);
    return { addr, ns, name };
  });
const nsOf = (name: string): string => {
  const h = hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no namespace for ${name} in ${home}/netns/hosts`);
  return h.ns;
};

type Outcome = string; // 'open' or the connect error code (EHOSTUNREACH, ECONNREFUSED, TIMEOUT)
const PROBE = `const s=require('net').connect(+process.argv[2],process.argv[1]);s.setTimeout(3000,()=>{console.log('TIMEOUT');process.exit(0)});s.on('connect',()=>{console.log('open');process.exit(0)});s.on('error',(e)=>{console.log(e.code);process.exit(0)})`;

/** Connects to host:port from the namespace `ns` (null: the root namespace, where the test runs). */
function probe(ns: string | null, host: string, port: number): Outcome {
  const args = ['-e', PROBE, host, String(port)];
  const out = ns === null ? execFileSync('node', args) : execFileSync('ip', ['netns', 'exec', ns, 'node', ...args]);
  return out.toString().trim();
}

const hostPort = (endpoint: string): [string, number] => {
  const i = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, i), Number(endpoint.slice(i + 1))];
};

const u1 = org(net, 'utility1');
const [u1Host, u1PeerPort] = hostPort(u1.peer.endpoint);
const u1Ops = new URL(u1.operations as string);
const u1Ca = new URL(u1.ca.url);
const orderer1 = net.orderer.nodes[0]!;

describe('each org in its own network namespace', () => {
  test('every ledger process, chaincode server and gateway runs inside its own org namespace', () => {
    const inode = (p: string) => statSync(p).ino;
    const pidOf = (file: string) => readFileSync(file, 'utf8').trim();
    const inNamespace = (pidFile: string, name: string) =>
      expect({ pidFile, ns: inode(`/proc/${pidOf(pidFile)}/ns/net`) }).toEqual({ pidFile, ns: inode(`/run/netns/${nsOf(name)}`) });
    for (const o of net.organizations) {
      inNamespace(join(home, 'pids', `${o.peer.hostAlias}.pid`), o.name);
      inNamespace(join(home, 'pids', `gateway-${o.name}.pid`), o.name);
      inNamespace(join(home, 'pids', `ca-${o.name}.pid`), o.name);
      for (const c of net.chaincodes) inNamespace(join(home, 'pids', `cc-${c.name}-${o.name}.pid`), o.name);
    }
    inNamespace(join(home, 'pids', 'ca-orderer.pid'), 'orderer');
    for (const n of net.orderer.nodes) inNamespace(n.pidFile as string, 'orderer');
    // and the test itself does not: it is a client on the bridge
    expect(inode('/proc/self/ns/net')).not.toBe(inode(`/run/netns/${nsOf('utility1')}`));
  });

  test('another org reaches the inter-org ports: the peers and every orderer', () => {
    expect(probe(nsOf('utility2'), u1Host, u1PeerPort)).toBe('open');
    for (const n of net.orderer.nodes) expect(probe(nsOf('utility2'), ...hostPort(n.endpoint))).toBe('open');
    expect(probe(nsOf('orderer'), u1Host, u1PeerPort)).toBe('open');
  });

  test('a port that is listening but not documented (the peer chaincode listener) is firewalled from every other host', () => {
    const ccListener = u1PeerPort + 1; // peer.chaincodeListenAddress: bound, unused with ccaas (docs/operations.md ports)
    expect(probe(nsOf('utility1'), u1Host, ccListener)).toBe('open');
    expect(probe(nsOf('utility2'), u1Host, ccListener)).toBe('EHOSTUNREACH');
    expect(probe(nsOf('orderer'), u1Host, ccListener)).toBe('EHOSTUNREACH');
    expect(probe(null, u1Host, ccListener)).toBe('EHOSTUNREACH');
  });

  test('operator and client ports (operations, CA, REST gateway, osnadmin) are open to the clients network only', () => {
    const gw = JSON.parse(readFileSync(join(home, 'gateways.json'), 'utf8')).gateways.find((g: { org: string }) => g.org === 'utility1');
    const gwUrl = new URL(gw.url);
    const [adminHost, adminPort] = hostPort(orderer1.admin as string);
    const cases: [string, string, number][] = [
      ['peer operations', u1Ops.hostname, Number(u1Ops.port)],
      ['CA', u1Ca.hostname, Number(u1Ca.port)],
      ['REST gateway', gwUrl.hostname, Number(gwUrl.port)],
      ['orderer admin', adminHost, adminPort],
    ];
    for (const [what, host, port] of cases) {
      expect({ what, root: probe(null, host, port), fromUtility2: probe(nsOf('utility2'), host, port) }).toEqual({
        what,
        root: 'open',
        fromUtility2: 'EHOSTUNREACH',
      });
    }
    // the gateway holds the org's identity: it is not shared with another org's host either
    expect(gwUrl.hostname).toBe(u1Host);
  });

  test("a chaincode server is reachable only inside its org's namespace (127.0.0.1 there, as the ccaas package names)", () => {
    // each org runs its own servers (network.yaml addressPortOffsets), at the namespace's 127.0.0.1
    const addresses = net.chaincodes.find((c) => c.name === 'gridledger')!.addresses;
    const [ccHost, ccPort] = hostPort(addresses['utility1']!);
    const [cc2Host, cc2Port] = hostPort(addresses['utility2']!);
    expect([ccHost, cc2Host]).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(probe(nsOf('utility1'), ccHost, ccPort)).toBe('open');
    expect(probe(nsOf('utility2'), cc2Host, cc2Port)).toBe('open'); // utility2's own server
    expect(probe(nsOf('utility2'), ccHost, ccPort)).toBe('ECONNREFUSED'); // utility1's is not on utility2's host
    expect(probe(nsOf('orderer'), ccHost, ccPort)).toBe('ECONNREFUSED'); // no chaincode on the orderer host
    expect(probe(nsOf('utility2'), u1Host, ccPort)).toBe('EHOSTUNREACH'); // nor utility1's from elsewhere
  });
});
