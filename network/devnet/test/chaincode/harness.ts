/**
 * Test harness for ChaincodeRuntime: starts the fixture chaincode as a real ccaas server
 * (fabric-chaincode-node, shim 2.5.8), builds SignedProposals by hand, decodes rwsets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';
import * as x509 from '@peculiar/x509';
import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { Timestamp } from 'google-protobuf/google/protobuf/timestamp_pb';

export const FIXTURE_DIR = resolve(__dirname, '..', 'fixtures', 'testcc');
const SHIM_CLI = require.resolve('fabric-shim/cli.js', { paths: [FIXTURE_DIR] });

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

export class ChaincodeServer {
  private proc: ChildProcess | undefined;
  output = '';
  constructor(
    readonly port: number,
    readonly id: string,
    /** PEM files for --chaincode-tls-cert-file / --chaincode-tls-key-file (server-side TLS). */
    private readonly tls?: { certFile: string; keyFile: string },
    /** the server's CORE_PEER_LOCALMSPID (what `stub.getMspID()` answers): the org whose peer it serves */
    readonly mspId = 'Utility1MSP',
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = [SHIM_CLI, 'server', '--chaincode-address', this.address, '--chaincode-id', this.id];
    if (this.tls) args.push('--chaincode-tls-cert-file', this.tls.certFile, '--chaincode-tls-key-file', this.tls.keyFile);
    const proc = spawn(process.execPath, args, {
      cwd: FIXTURE_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CORE_PEER_LOCALMSPID: this.mspId },
    });
    this.proc = proc;
    proc.stdout.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (this.output += d.toString()));
    let exited = false;
    proc.once('exit', () => (exited = true));
    // Wait until the server accepts connections (it exits on startup errors).
    while (!(await portOpen(this.port))) {
      if (exited) throw new Error(`chaincode server exited during start:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL and wait for the process to be gone. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  }
}

let certCache: string | undefined;
/** A self-signed P-256 certificate: the shim only parses the creator certificate. */
export async function creatorCertPem(): Promise<string> {
  if (certCache) return certCache;
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=meter1, OU=client',
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    signingAlgorithm: alg,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
  });
  certCache = cert.toString('pem');
  return certCache;
}

/** Self-signed TLS server certificate for 127.0.0.1 (SAN IP) with its PKCS#8 key, both PEM. */
export async function tlsServerCert(): Promise<{ certPem: string; keyPem: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as Parameters<
    typeof x509.X509CertificateGenerator.createSelfSigned
  >[0]['keys'];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '02',
    name: 'CN=chaincode.test',
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'chaincode.test' }]),
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as Parameters<typeof webcrypto.subtle.exportKey>[1]);
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
  return { certPem: cert.toString('pem'), keyPem: keyPem.replace(/\n\n/g, '\n') };
}

export interface BuiltProposal {
  txId: string;
  signedProposal: Buffer;
  input: Buffer;
}

export function buildProposal(opts: {
  channel: string;
  chaincode: string;
  mspId: string;
  certPem: string;
  args: string[];
  transient?: Record<string, string>;
  seconds?: number;
}): BuiltProposal {
  const creator = new msp.SerializedIdentity();
  creator.setMspid(opts.mspId);
  creator.setIdBytes(Buffer.from(opts.certPem));
  const creatorBytes = creator.serializeBinary();
  const nonce = randomBytes(24);
  const txId = createHash('sha256').update(nonce).update(creatorBytes).digest('hex');

  const ccId = new peer.ChaincodeID();
  ccId.setName(opts.chaincode);
  const ext = new peer.ChaincodeHeaderExtension();
  ext.setChaincodeId(ccId);
  const ts = new Timestamp();
  ts.setSeconds(opts.seconds ?? 1_763_000_000);
  ts.setNanos(0);
  const ch = new common.ChannelHeader();
  ch.setType(common.HeaderType.ENDORSER_TRANSACTION);
  ch.setTimestamp(ts);
  ch.setChannelId(opts.channel);
  ch.setTxId(txId);
  ch.setExtension$(ext.serializeBinary());
  const sh = new common.SignatureHeader();
  sh.setCreator(creatorBytes);
  sh.setNonce(nonce);
  const header = new common.Header();
  header.setChannelHeader(ch.serializeBinary());
  header.setSignatureHeader(sh.serializeBinary());

  const input = new peer.ChaincodeInput();
  input.setArgsList(opts.args.map((a) => Buffer.from(a)));
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  spec.setChaincodeId(ccId);
  spec.setInput(input);
  const cis = new peer.ChaincodeInvocationSpec();
  cis.setChaincodeSpec(spec);
  const cpp = new peer.ChaincodeProposalPayload();
  cpp.setInput(cis.serializeBinary());
  for (const [k, v] of Object.entries(opts.transient ?? {})) cpp.getTransientmapMap().set(k, Buffer.from(v));

  const proposal = new peer.Proposal();
  proposal.setHeader(header.serializeBinary());
  proposal.setPayload(cpp.serializeBinary());
  const sp = new peer.SignedProposal();
  sp.setProposalBytes(proposal.serializeBinary());
  sp.setSignature(Buffer.from('not-verified-by-the-shim'));
  return { txId, signedProposal: Buffer.from(sp.serializeBinary()), input: Buffer.from(input.serializeBinary()) };
}

// ---- rwset decoding (test-side, independent of the runtime's builder) ----

export interface V {
  blockNum: number;
  txNum: number;
}
export interface DecodedColl {
  name: string;
  hashedReads: Array<{ keyHash: string; version: V | null }>;
  hashedWrites: Array<{ keyHash: string; isDelete: boolean; valueHash: string; isPurge: boolean }>;
  pvtRwsetHash: string;
}
export interface DecodedNs {
  namespace: string;
  reads: Array<{ key: string; version: V | null }>;
  ranges: Array<{ startKey: string; endKey: string; itrExhausted: boolean; rawReads: Array<{ key: string; version: V | null }> | null; merkle: { maxDegree: number; maxLevel: number; hashes: number } | null }>;
  writes: Array<{ key: string; isDelete: boolean; value: string }>;
  metadataWrites: Array<{ key: string; entries: Record<string, string> }>;
  colls: DecodedColl[];
}

const kv = ledger.rwset.kvrwset;
function ver(v: InstanceType<typeof kv.Version> | undefined): V | null {
  return v ? { blockNum: v.getBlockNum(), txNum: v.getTxNum() } : null;
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function decodeRwset(bytes: Buffer): DecodedNs[] {
  const tx = ledger.rwset.TxReadWriteSet.deserializeBinary(bytes);
  return tx.getNsRwsetList().map((ns) => {
    const k = kv.KVRWSet.deserializeBinary(ns.getRwset_asU8());
    return {
      namespace: ns.getNamespace(),
      reads: k.getReadsList().map((r) => ({ key: r.getKey(), version: ver(r.getVersion()) })),
      ranges: k.getRangeQueriesInfoList().map((q) => ({
        startKey: q.getStartKey(),
        endKey: q.getEndKey(),
        itrExhausted: q.getItrExhausted(),
        rawReads: q.hasRawReads() ? q.getRawReads()!.getKvReadsList().map((r) => ({ key: r.getKey(), version: ver(r.getVersion()) })) : null,
        merkle: q.hasReadsMerkleHashes()
          ? { maxDegree: q.getReadsMerkleHashes()!.getMaxDegree(), maxLevel: q.getReadsMerkleHashes()!.getMaxLevel(), hashes: q.getReadsMerkleHashes()!.getMaxLevelHashesList().length }
          : null,
      })),
      writes: k.getWritesList().map((w) => ({ key: w.getKey(), isDelete: w.getIsDelete(), value: Buffer.from(w.getValue_asU8()).toString() })),
      metadataWrites: k.getMetadataWritesList().map((m) => ({
        key: m.getKey(),
        entries: Object.fromEntries(m.getEntriesList().map((e) => [e.getName(), Buffer.from(e.getValue_asU8()).toString()])),
      })),
      colls: ns.getCollectionHashedRwsetList().map((c) => {
        const h = kv.HashedRWSet.deserializeBinary(c.getHashedRwset_asU8());
        return {
          name: c.getCollectionName(),
          hashedReads: h.getHashedReadsList().map((r) => ({ keyHash: hex(r.getKeyHash_asU8()), version: ver(r.getVersion()) })),
          hashedWrites: h.getHashedWritesList().map((w) => ({
            keyHash: hex(w.getKeyHash_asU8()),
            isDelete: w.getIsDelete(),
            valueHash: hex(w.getValueHash_asU8()),
            isPurge: w.getIsPurge(),
          })),
          pvtRwsetHash: hex(c.getPvtRwsetHash_asU8()),
        };
      }),
    };
  });
}

export const sha256hex = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');
