/**
 * Conformance: Fabric's own `peer` CLI (`peer chaincode query` / `peer chaincode invoke`), given a
 * core.yaml that names a peer from network.json and the MSP of that org's operator, as Fabric's samples
 * run it. It calls the peer's `protos.Endorser/ProcessProposal`, the orderer's
 * `orderer.AtomicBroadcast/Broadcast` and, with --waitForEvent, `protos.Deliver/DeliverFiltered`.
 *
 * Needs Fabric's binaries, found the way the project finds them (support/fabricBinaries.js):
 * jest.config.js leaves this file out, and says so, where there are none (CI); here it fails rather
 * than pass without them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { clientUserName, userFiles, type OrgDescriptor } from '../support';
import { findFabricBin, PEER_CLI_NOT_RUN } from '../support/fabricBinaries';
import { CHAINCODE, openFixture, type Fixture } from './fixture';

let f: Fixture;
let peerBin: string;
let cfgDir: string;

interface CliResult { code: number; stdout: string; stderr: string }

beforeAll(() => {
  const bin = findFabricBin();
  if (!bin) throw new Error(PEER_CLI_NOT_RUN);
  peerBin = join(bin, 'peer');
  f = openFixture();
  // A core.yaml with only what the CLI reads as a client: its peer, TLS, its MSP and the crypto provider.
  cfgDir = mkdtempSync(join(tmpdir(), 'peercli-'));
  const o = f.orgs[0]!;
  writeFileSync(join(cfgDir, 'core.yaml'), [
    'peer:',
    '  id: cli',
    `  address: ${o.peer.endpoint}`,
    `  localMspId: ${o.mspId}`,
    `  mspConfigPath: ${mspDir(o)}`,
    '  tls:',
    '    enabled: true',
    `    rootcert: { file: ${o.peer.tlsRootCertPath} }`,
    '  client: { connTimeout: 10s }',
    '  BCCSP: { Default: SW, SW: { Hash: SHA2, Security: 256 } }',
    '',
  ].join('\n'));
});

afterAll(() => {
  f?.close();
  if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
});

/** The operator's MSP directory (network.json names its signcerts/cert.pem). */
function mspDir(o: OrgDescriptor): string {
  return dirname(dirname(userFiles(o, clientUserName(o)).certPath));
}

/** Runs `peer` with FABRIC_CFG_PATH = our core.yaml; `as` switches org (peer, MSP) through CORE_PEER_* as the samples do. */
function peer(args: string[], as?: OrgDescriptor): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, FABRIC_CFG_PATH: cfgDir, FABRIC_LOGGING_SPEC: 'INFO' };
  if (as) {
    Object.assign(env, {
      CORE_PEER_ADDRESS: as.peer.endpoint, CORE_PEER_LOCALMSPID: as.mspId,
      CORE_PEER_MSPCONFIGPATH: mspDir(as), CORE_PEER_TLS_ROOTCERT_FILE: as.peer.tlsRootCertPath,
    });
  }
  return new Promise((resolve) => {
    execFile(peerBin, args, { env, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const ctor = (fn: string, ...args: string[]): string => JSON.stringify({ Args: [fn, ...args] });

function query(fn: string, args: string[], as?: OrgDescriptor): Promise<CliResult> {
  return peer(['chaincode', 'query', '-C', f.net.channel, '-n', CHAINCODE, '-c', ctor(fn, ...args)], as);
}

/** invoke endorsed by the given orgs' peers, ordered through network.json's first orderer, waiting for the commit. */
function invoke(fn: string, args: string[], endorsers: OrgDescriptor[]): Promise<CliResult> {
  const node = f.net.orderer.nodes[0]!;
  return peer([
    'chaincode', 'invoke', '-C', f.net.channel, '-n', CHAINCODE, '-c', ctor(fn, ...args),
    '-o', node.endpoint, '--ordererTLSHostnameOverride', node.hostAlias, '--tls', '--cafile', f.net.orderer.tlsRootCertPath,
    ...endorsers.flatMap((o) => ['--peerAddresses', o.peer.endpoint, '--tlsRootCertFiles', o.peer.tlsRootCertPath]),
    '--waitForEvent', '--waitForEventTimeout', '60s',
  ]);
}

describe('the peer CLI', () => {
  it('peer chaincode query reads through the named peer: each org\'s own chaincode server answers with its MSP id', async () => {
    for (const o of f.orgs) {
      const r = await query('peerMspId', [], o);
      expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(r.stdout.trim()).toBe(o.mspId);
    }
  });

  it('peer chaincode invoke endorses on every org, orders, waits for the commit; every org then reads the value', async () => {
    const key = `${f.run}:peercli`;
    const r = await invoke('put', [key, 'written by the peer CLI'], f.orgs);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stderr).toMatch(/Chaincode invoke successful\. result: status:200\s+payload:"written by the peer CLI"/);
    for (const o of f.orgs) {
      // each Fabric peer commits on its own: the CLI waited for the first peer's commit event only
      let seen = '';
      for (let i = 0; i < 50 && seen !== 'written by the peer CLI'; i++) {
        seen = (await query('get', [key], o)).stdout.trim();
        if (seen !== 'written by the peer CLI') await new Promise((res) => setTimeout(res, 200));
      }
      expect(seen).toBe('written by the peer CLI');
    }
  });

  it('a chaincode error and results that differ between orgs are refused by the CLI with Fabric\'s messages', async () => {
    const failed = await invoke('fail', ['refused on purpose'], f.orgs);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/endorsement failure during invoke\. response: status:500\s+message:"refused on purpose"/);
    const mismatch = await invoke('peerMspId', [], f.orgs);
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toMatch(/ProposalResponsePayloads do not match/);
  });
});
