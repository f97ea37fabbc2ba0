/**
 * Integration: a whole devnet (3 utility orgs, MAJORITY endorsement) started through its CLI in a
 * temp home, a real ccaas chaincode server (fabric-chaincode-node, shim 2.5.8) and the REAL
 * @hyperledger/fabric-gateway client over TLS — the contract the product and the conformance suite
 * rely on. The devnet runs in a child process, as in production: fabric-gateway ships its own copy of
 * @hyperledger/fabric-protos, and two jspb copies in one process overwrite each other's global
 * message registry.
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  connect, EndorseError, Gateway, GatewayError, signers, type GrpcClient, StatusCode,
} from '@hyperledger/fabric-gateway';
import { common, msp, orderer } from '@hyperledger/fabric-protos';
import { signLowS } from '../../src/identity/crypto';
import { loadNetworkJson, type NetworkJson } from '@gridledger/protocol';
import { ChaincodeServer, freePort } from '../chaincode/harness';
import { nth } from '../lists';

// The grpc-js copy fabric-gateway loads (its error decoding checks `instanceof Metadata` of that copy).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const grpc: typeof import('@grpc/grpc-js') = require(require.resolve('@grpc/grpc-js', { paths: [dirname(require.resolve('@hyperledger/fabric-gateway'))] }));

const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** A port base whose whole 0..399 offset window is free enough for our few offsets. */
async function portBase(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p > 1100 && p < 64000) return p - 1; // offsets used below are small (1..40)
  }
}

function yamlFor(base: number): string {
  return `portBase: ${base}
channel: energy
orderer:
  name: orderer
  mspId: OrdererMSP
  domain: orderer.test.local
  batch: { maxMessageCount: 10, timeoutMs: 20 }
  caPortOffset: 1
organizations:
  - { name: utility1, mspId: Utility1MSP, domain: utility1.test.local, peerPortOffset: 2, caPortOffset: 3, opsPortOffset: 4 }
  # one org per host, tried on loopback addresses (utility1 keeps the default 127.0.0.1)
  - { name: utility2, mspId: Utility2MSP, domain: utility2.test.local, host: 127.0.0.2, peerPortOffset: 5, caPortOffset: 6, opsPortOffset: 7 }
  - { name: utility3, mspId: Utility3MSP, domain: utility3.test.local, host: 127.0.0.3, peerPortOffset: 8, caPortOffset: 9, opsPortOffset: 10 }
identities:
  - { org: utility1, name: operator1, type: client, attrs: { role: operator } }
  - { org: utility2, name: operator2, type: client, attrs: { role: operator } }
chaincodes:
  - name: testcc
    addressPortOffset: 11
    endorsementPolicy: "MAJORITY Endorsement"
    collections:
      - { name: u1, policy: "OR('Utility1MSP.member')", memberOnlyRead: true, memberOnlyWrite: false, endorsementPolicy: null }
  # one server per org, each run with its org's CORE_PEER_LOCALMSPID
  - name: percc
    addressPortOffsets: { utility1: 13, utility2: 14, utility3: 15 }
    endorsementPolicy: "MAJORITY Endorsement"
gateway:
  portOffset: 12
`;
}

function getText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

const CLI = join(__dirname, '..', '..', 'src', 'cli.ts');
const TSCONFIG = join(__dirname, '..', '..', 'tsconfig.json');

let home: string;
let configFile: string;
let nj: NetworkJson;
let proc: ChildProcess;
let procOutput = '';
let cc: ChaincodeServer;
let perOrg: ChaincodeServer[] = [];
const gateways: Gateway[] = [];
const clients: Array<{ close(): void }> = [];

function gatewayFor(orgIndex: number, user: string): Gateway {
  const o = nth(nj.organizations, orgIndex);
  const client = new grpc.Client(o.peer.endpoint, grpc.credentials.createSsl(readFileSync(o.peer.tlsRootCertPath)), {
    'grpc.ssl_target_name_override': o.peer.hostAlias,
  });
  clients.push(client);
  const files = o.users[user];
  if (!files) throw new Error(`network.json: ${o.mspId} has no user ${user}`);
  const gw = connect({
    client: client as unknown as GrpcClient,
    identity: { mspId: o.mspId, credentials: readFileSync(files.certPath) },
    signer: signers.newPrivateKeySigner(createPrivateKey(readFileSync(files.keyPath))),
    evaluateOptions: () => ({ deadline: Date.now() + 20_000 }),
    endorseOptions: () => ({ deadline: Date.now() + 20_000 }),
    submitOptions: () => ({ deadline: Date.now() + 20_000 }),
    commitStatusOptions: () => ({ deadline: Date.now() + 30_000 }),
  });
  gateways.push(gw);
  return gw;
}

/** Starts `devnet start` and waits for network.json (the readiness signal start scripts use too). */
async function startDevnet(): Promise<void> {
  procOutput = '';
  const file = join(home, 'network.json');
  rmSync(file, { force: true }); // a stale copy from the previous run must not count as "ready"
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CLI, 'start', '--config', configFile, '--home', home], {
    env: { ...process.env, TS_NODE_PROJECT: TSCONFIG, DEVNET_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc = child;
  child.stdout.on('data', (d: Buffer) => (procOutput += d.toString()));
  child.stderr.on('data', (d: Buffer) => (procOutput += d.toString()));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  while (!existsSync(file)) {
    if (exited !== undefined) throw new Error(`devnet exited with ${exited}:\n${procOutput}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  nj = loadNetworkJson(file); // what the devnet writes passes the protocol's schema, as every reader checks it
}

/** SIGTERM and wait for the exit code. */
async function stopDevnet(): Promise<number | null> {
  const p = proc;
  if (p.exitCode !== null || p.signalCode !== null) return p.exitCode;
  const code = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  p.kill('SIGTERM');
  return code;
}

function closeClients(): void {
  gateways.splice(0).forEach((g) => g.close());
  clients.splice(0).forEach((c) => c.close());
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'devnet-it-'));
  const base = await portBase();
  configFile = join(home, 'network.yaml');
  writeFileSync(configFile, yamlFor(base));
  cc = new ChaincodeServer(base + 11, 'testcc:1');
  perOrg = ['Utility1MSP', 'Utility2MSP', 'Utility3MSP'].map((msp, i) => new ChaincodeServer(base + 13 + i, 'percc:1', undefined, msp));
  await Promise.all([cc, ...perOrg].map((s) => s.start()));
  await startDevnet();
}, 120_000);

afterAll(async () => {
  closeClients();
  if (proc) await stopDevnet();
  await cc?.stop();
  for (const s of perOrg) await s.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('devnet with the real fabric-gateway client', () => {
  it('submit returns the result and commits VALID; evaluate reads it on every org', async () => {
    const contract = gatewayFor(0, 'operator1').getNetwork('energy').getContract('testcc', 'test');
    const commit = await contract.submitAsync('putThenGet', { arguments: ['k1', 'v1'] });
    expect(utf8(commit.getResult())).toBe(''); // no read-your-writes (P§3.7)
    const status = await commit.getStatus();
    expect(status.code).toBe(StatusCode.VALID);
    expect(status.successful).toBe(true);
    expect(status.blockNumber).toBeGreaterThanOrEqual(1n); // block 0 is the channel config
    expect(utf8(await contract.evaluateTransaction('get', 'k1'))).toBe('v1');
    const other = gatewayFor(1, 'operator2').getNetwork('energy').getContract('testcc', 'test');
    expect(utf8(await other.evaluateTransaction('get', 'k1'))).toBe('v1');
  });

  it('a chaincode error is an EndorseError carrying the chaincode message', async () => {
    const contract = gatewayFor(0, 'operator1').getNetwork('energy').getContract('testcc', 'test');
    const err = await contract.submitTransaction('fail', 'no such meter').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndorseError);
    const e = err as EndorseError;
    expect(e.code).toBe(grpc.status.ABORTED);
    expect(e.message).toContain('failed to endorse transaction, see attached details for more info');
    expect(nth(e.details, 0).message).toBe('chaincode response 500, no such meter');
    expect(nth(e.details, 0).mspId).toBe('Utility1MSP');
  });

  it("each org's peer dials its own server (addressPortOffsets): stub.getMspID() names the org whose peer endorses", async () => {
    const contract = gatewayFor(0, 'operator1').getNetwork('energy').getContract('percc', 'test');
    for (const s of perOrg) {
      // evaluate and endorse on one named org's peer, from utility1's gateway
      expect(utf8(await contract.evaluate('peerMspId', { endorsingOrganizations: [s.mspId] }))).toBe(s.mspId);
      const endorsed = await contract.newProposal('peerMspId', { endorsingOrganizations: [s.mspId] }).endorse();
      expect(utf8(endorsed.getResult())).toBe(s.mspId);
    }
    // the shared server of testcc answers with its one MSP id on every org's peer
    const shared = gatewayFor(1, 'operator2').getNetwork('energy').getContract('testcc', 'test');
    expect(utf8(await shared.evaluate('peerMspId', { endorsingOrganizations: ['Utility3MSP'] }))).toBe('Utility1MSP');
    // MAJORITY needs two orgs whose results differ: Fabric's gateway refuses the mismatch
    const err = await contract.submitTransaction('peerMspId').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndorseError);
    expect((err as EndorseError).details.map((d) => d.message)).toContainEqual(expect.stringMatching(/ProposalResponsePayloads do not match/));
  });

  it('two concurrent read-modify-writes: one VALID, one CommitError MVCC_READ_CONFLICT', async () => {
    const contract = gatewayFor(0, 'operator1').getNetwork('energy').getContract('testcc', 'test');
    await contract.submitTransaction('put', 'counter', '0');
    const a = await contract.newProposal('putThenGet', { arguments: ['counter', 'a'] }).endorse();
    const b = await contract.newProposal('putThenGet', { arguments: ['counter', 'b'] }).endorse();
    const [ca, cb] = await Promise.all([a.submit(), b.submit()]);
    const codes = [(await ca.getStatus()).code, (await cb.getStatus()).code].sort();
    expect(codes).toEqual([StatusCode.VALID, StatusCode.MVCC_READ_CONFLICT]);
    const loser = (await ca.getStatus()).code === StatusCode.VALID ? b : a;
    const err = await loser.submit().then((c) => c.getStatus()).catch((e: unknown) => e);
    // resubmitting the same envelope is accepted and CommitStatus reports the original result (P§8.12)
    expect((err as { code: number }).code).toBe(StatusCode.MVCC_READ_CONFLICT);
    const viaSubmit = await contract.submitTransaction('putThenGet', 'counter', 'c').then(() => 'ok');
    expect(viaSubmit).toBe('ok');
  });

  it("implicit collection _implicit_org_<MSP>: only that org's peer stores the value, every peer the hash; its org endorses", async () => {
    const c1 = gatewayFor(0, 'operator1').getNetwork('energy').getContract('testcc', 'test');
    const c2 = gatewayFor(1, 'operator2').getNetwork('energy').getContract('testcc', 'test');
    const coll = '_implicit_org_Utility1MSP';
    // planned from the collection's policy: Utility1's peer alone satisfies it
    const tx = await c1.newProposal('putPrivate', { arguments: [coll, 'ik', 'secret'] }).endorse();
    expect((await (await tx.submit()).getStatus()).code).toBe(StatusCode.VALID);
    expect(utf8(await c1.evaluateTransaction('getPrivate', coll, 'ik'))).toBe('secret');
    const hash = createHash('sha256').update('secret').digest('hex');
    expect(utf8(await c2.evaluateTransaction('getPrivateHash', coll, 'ik'))).toBe(hash);
    const err = await c2.evaluateTransaction('getPrivate', coll, 'ik').catch((e: unknown) => e as GatewayError);
    expect((err as GatewayError).details.map((d) => d.message).join('\n')).toMatch(
      /private data matching public hash version is not available\. Public hash version = \{BlockNum: \d+, TxNum: \d+\}, Private data version = <nil>/,
    );
    // Utility2's peer may simulate the write (not memberOnlyWrite) but does not satisfy OR('Utility1MSP.peer')
    const foreign = await c2.newProposal('putPrivate', { arguments: [coll, 'ik2', 'x'], endorsingOrganizations: ['Utility2MSP'] }).endorse();
    expect((await (await foreign.submit()).getStatus()).code).toBe(StatusCode.ENDORSEMENT_POLICY_FAILURE);
    // as in Fabric's CollectionInfo, any MSP id names an implicit collection: empty for an org outside the channel
    expect(utf8(await c1.evaluateTransaction('getPrivate', '_implicit_org_NoSuchMSP', 'ik'))).toBe('');
    // while an undefined explicit collection is refused with Fabric's text
    const none = await c1.evaluateTransaction('getPrivate', 'nosuch', 'ik').catch((e: unknown) => e as GatewayError);
    expect((none as GatewayError).details.map((d) => d.message).join('\n')).toMatch(/collection \[nosuch\] not defined/);
  });

  it('the orderer endpoint of network.json serves Deliver (blocks by SeekInfo) and refuses a bad Broadcast envelope', async () => {
    const node = nth(nj.orderer.nodes, 0);
    const client = new grpc.Client(node.endpoint, grpc.credentials.createSsl(readFileSync(nj.orderer.tlsRootCertPath)), {
      'grpc.ssl_target_name_override': node.hostAlias,
    });
    clients.push(client);
    const files = nth(nj.organizations, 0).users.operator1;
    if (!files) throw new Error('network.json: the first organisation has no user operator1');
    const key = createPrivateKey(readFileSync(files.keyPath));
    const creator = new msp.SerializedIdentity();
    creator.setMspid(nth(nj.organizations, 0).mspId);
    creator.setIdBytes(readFileSync(files.certPath));
    const seek = (n: number): orderer.SeekPosition => {
      const p = new orderer.SeekPosition();
      const s = new orderer.SeekSpecified();
      s.setNumber(n);
      p.setSpecified(s);
      return p;
    };
    const info = new orderer.SeekInfo();
    info.setStart(seek(0));
    info.setStop(seek(1));
    const ch = new common.ChannelHeader();
    ch.setType(common.HeaderType.DELIVER_SEEK_INFO);
    ch.setChannelId('energy');
    const sh = new common.SignatureHeader();
    sh.setCreator(creator.serializeBinary());
    sh.setNonce(Buffer.alloc(24, 1));
    const hdr = new common.Header();
    hdr.setChannelHeader(ch.serializeBinary());
    hdr.setSignatureHeader(sh.serializeBinary());
    const payload = new common.Payload();
    payload.setHeader(hdr);
    payload.setData(info.serializeBinary());
    const env = new common.Envelope();
    env.setPayload(payload.serializeBinary());
    env.setSignature(signLowS(key, payload.serializeBinary()));
    const ser = (m: { serializeBinary(): Uint8Array }): Buffer => Buffer.from(m.serializeBinary());
    const deliver = client.makeBidiStreamRequest('/orderer.AtomicBroadcast/Deliver', ser, (b: Buffer) => orderer.DeliverResponse.deserializeBinary(b));
    const got: orderer.DeliverResponse[] = await new Promise((resolve, reject) => {
      const out: orderer.DeliverResponse[] = [];
      deliver.on('data', (r: orderer.DeliverResponse) => {
        out.push(r);
        if (r.hasStatus()) {
          deliver.end();
          resolve(out);
        }
      });
      deliver.on('error', reject);
      deliver.write(env);
    });
    expect(got.filter((r) => r.hasBlock()).map((r) => r.getBlock()!.getHeader()!.getNumber())).toEqual([0, 1]);
    expect(nth(got, got.length - 1).getStatus()).toBe(common.Status.SUCCESS);

    const broadcast = client.makeBidiStreamRequest('/orderer.AtomicBroadcast/Broadcast', ser, (b: Buffer) => orderer.BroadcastResponse.deserializeBinary(b));
    const refused: orderer.BroadcastResponse = await new Promise((resolve, reject) => {
      broadcast.on('data', resolve);
      broadcast.on('error', reject);
      broadcast.write(new common.Envelope()); // no payload
    });
    expect(refused.getStatus()).toBe(common.Status.BAD_REQUEST);
    broadcast.end();
  });

  it('delivers chaincode events of committed transactions', async () => {
    const network = gatewayFor(0, 'operator1').getNetwork('energy');
    const contract = network.getContract('testcc', 'test');
    const commit = await contract.submitAsync('emit', { arguments: ['MeterRead', 'payload-1'] });
    const status = await commit.getStatus();
    const events = await network.getChaincodeEvents('testcc', { startBlock: status.blockNumber });
    try {
      const first = await events[Symbol.asyncIterator]().next();
      expect(first.done).toBe(false);
      expect(first.value.eventName).toBe('MeterRead');
      expect(utf8(first.value.payload)).toBe('payload-1');
      expect(first.value.transactionId).toBe(commit.getTransactionId());
      expect(first.value.blockNumber).toBe(status.blockNumber);
    } finally {
      events.close();
    }
  });

  it('block and filtered block events (protos.Deliver) stream committed blocks with validation codes', async () => {
    const network = gatewayFor(0, 'operator1').getNetwork('energy');
    const commit = await network.getContract('testcc', 'test').submitAsync('emit', { arguments: ['Ev2', 'p'] });
    const status = await commit.getStatus();
    const blocks = await network.getBlockEvents({ startBlock: 0n });
    try {
      const first = await blocks[Symbol.asyncIterator]().next();
      expect(first.value.getHeader()!.getNumber()).toBe(0); // the channel config block
    } finally {
      blocks.close();
    }
    const filtered = await network.getFilteredBlockEvents({ startBlock: status.blockNumber });
    try {
      const fb = (await filtered[Symbol.asyncIterator]().next()).value;
      expect(BigInt(fb.getNumber())).toBe(status.blockNumber);
      const txs = fb.getFilteredTransactionsList() as Array<import('@hyperledger/fabric-protos').peer.FilteredTransaction>;
      const tx = txs.find((t) => t.getTxid() === commit.getTransactionId())!;
      expect(tx.getTxValidationCode()).toBe(StatusCode.VALID);
      const ev = nth(tx.getTransactionActions()!.getChaincodeActionsList(), 0).getChaincodeEvent()!;
      expect(ev.getEventName()).toBe('Ev2');
      expect(ev.getPayload_asU8().length).toBe(0);
    } finally {
      filtered.close();
    }
  });

  it('unknown channel / chaincode errors carry Fabric codes and messages', async () => {
    const gw = gatewayFor(0, 'operator1');
    const evalErr = (await gw.getNetwork('energy').getContract('nope').evaluateTransaction('x').catch((e: unknown) => e)) as { code: number; message: string };
    expect(evalErr.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(evalErr.message).toContain('no peers available to evaluate chaincode nope in channel energy');
    const events = await gw.getNetwork('nochannel').getChaincodeEvents('testcc');
    const streamErr = (await events[Symbol.asyncIterator]().next().catch((e: unknown) => e)) as { code: number; message: string };
    events.close();
    expect(streamErr.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(streamErr.message).toContain('Failed to get policy manager for channel [nochannel]');
  });

  it('operations: /healthz and /metrics', async () => {
    const h = await getText(`${nth(nj.organizations, 0).operations}/healthz`);
    expect(h.status).toBe(200);
    expect(JSON.parse(h.body)).toMatchObject({ status: 'OK' });
    const m = await getText(`${nth(nj.organizations, 1).operations}/metrics`);
    expect(m.body).toContain('ledger_blocks_committed_total');
    expect(m.body).toMatch(/ledger_transactions_total\{[^}]*validation_code="MVCC_READ_CONFLICT"/);
  });

  it('network.json, pid file and control argv match docs/devnet.md', () => {
    expect(nj.tier).toBe('devnet');
    expect(nj.channel).toBe('energy');
    expect(nj.organizations.map((o) => o.mspId)).toEqual(['Utility1MSP', 'Utility2MSP', 'Utility3MSP']);
    expect(nth(nj.organizations, 0).peer.hostAlias).toBe('peer0.utility1.test.local');
    // every endpoint of an org is on its network.yaml host (the other tests reach them there)
    expect(nj.organizations.map((o) => o.peer.endpoint.split(':')[0])).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    expect(nth(nj.organizations, 2).ca.url).toMatch(/^https:\/\/127\.0\.0\.3:\d+$/);
    expect(nth(nj.organizations, 2).operations).toMatch(/^http:\/\/127\.0\.0\.3:\d+$/);
    expect(Object.keys(nth(nj.organizations, 0).users)).toEqual(expect.arrayContaining(['admin', 'operator1']));
    const shared = expect.stringMatching(/^127\.0\.0\.1:\d+$/);
    expect(nj.chaincodes).toEqual([
      { name: 'testcc', addresses: { utility1: shared, utility2: shared, utility3: shared } },
      { name: 'percc', addresses: Object.fromEntries(perOrg.map((s, i) => [`utility${i + 1}`, s.address])) },
    ]);
    expect(new Set(Object.values(nth(nj.chaincodes, 0).addresses)).size).toBe(1);
    expect(nj.control.ledgerPidFiles).toEqual([join(home, 'devnet.pid')]);
    // the devnet process serves every utility's CA (test/e2e/rest/15-lost-enrolment holds it with SIGSTOP)
    expect(nj.control.caPidFiles).toEqual({ utility1: join(home, 'devnet.pid'), utility2: join(home, 'devnet.pid'), utility3: join(home, 'devnet.pid') });
    expect(Number(readFileSync(nth(nj.control.ledgerPidFiles, 0), 'utf8'))).toBe(proc.pid);
    expect(nj.control.applyCrl).toEqual(expect.arrayContaining(['apply-crl', '--home', home]));
    expect(nj.control.restartLedger).toEqual(expect.arrayContaining(['restart', '--home', home]));
  });

  it('control.applyCrl runs the apply-crl subcommand against the running devnet', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const argv = [...nj.control.applyCrl!, ...args];
        const child = spawn(nth(argv, 0), argv.slice(1), { env: { ...process.env, TS_NODE_PROJECT: TSCONFIG }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
    const crlFile = join(home, 'bogus-crl.pem');
    writeFileSync(crlFile, '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n');
    const unknown = await run(['NoSuchMSP', crlFile]);
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('CRL update rejected (HTTP 404)');
    const bad = await run(['Utility1MSP', crlFile]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('CRL update rejected (HTTP 400)');
    const usage = await run([]);
    expect(usage.code).toBe(2);
    // three CLI runs through ts-node: 6 s each when idle, over 10 s each beside other suites on 2 cores
  }, 120_000);

  it('SIGTERM stops gracefully; a restart on the same home keeps state and continues the chain', async () => {
    const contract = gatewayFor(0, 'operator1').getNetwork('energy').getContract('testcc', 'test');
    const before = await (await contract.submitAsync('put', { arguments: ['durable', 'yes'] })).getStatus();
    closeClients();
    expect(await stopDevnet()).toBe(0);
    expect(procOutput).toContain('devnet stopped');
    await startDevnet();
    const again = gatewayFor(1, 'operator2').getNetwork('energy').getContract('testcc', 'test');
    expect(utf8(await again.evaluateTransaction('get', 'durable'))).toBe('yes');
    const after = await (await again.submitAsync('put', { arguments: ['durable', 'still'] })).getStatus();
    expect(after.code).toBe(StatusCode.VALID);
    expect(after.blockNumber).toBe(before.blockNumber + 1n);
  }, 120_000); // a whole devnet restart through ts-node, as beforeAll's (30 s was exceeded on a loaded 2-core box)
});
