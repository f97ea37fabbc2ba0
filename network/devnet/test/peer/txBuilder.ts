/**
 * Test helpers: hand-built identities (a fake channel MSP over real P-256 keys), proposals,
 * read-write sets and endorsed envelopes, shaped exactly as the gateway client and gateway build them.
 */
import { generateKeyPairSync, KeyObject, randomBytes } from 'node:crypto';
import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { Timestamp } from 'google-protobuf/google/protobuf/timestamp_pb';
import type { ChaincodeConfig } from '@gridledger/protocol';
import { signLowS, verifyLowS } from '../../src/identity/crypto';
import type { ChannelMsp, NodeOuRole, PeerIdentity } from '../../src/peer/deps';
import { computeTxId, unpackSignedProposal } from '../../src/peer/proposal';
import { assembleTransaction } from '../../src/peer/transaction';

export interface TestIdentity extends PeerIdentity {
  key: KeyObject;
  publicKey: KeyObject;
}

export class FakeMsp implements ChannelMsp {
  readonly byLabel = new Map<string, TestIdentity>();
  readonly revoked = new Set<string>();

  create(mspId: string, label: string, role: NodeOuRole): TestIdentity {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const si = new msp.SerializedIdentity();
    si.setMspid(mspId);
    si.setIdBytes(Buffer.from(label));
    const id: TestIdentity = { mspId, certPem: label, role, id: label, serialized: Buffer.from(si.serializeBinary()), key: privateKey, publicKey };
    this.byLabel.set(label, id);
    return id;
  }

  deserialize(bytes: Uint8Array): PeerIdentity {
    const si = msp.SerializedIdentity.deserializeBinary(bytes);
    const id = this.byLabel.get(Buffer.from(si.getIdBytes_asU8()).toString());
    if (!id || id.mspId !== si.getMspid()) throw Object.assign(new Error('unknown identity'), { kind: 'unknown-msp' });
    if (this.revoked.has(id.id)) throw Object.assign(new Error('The certificate has been revoked'), { kind: 'revoked' });
    return id;
  }

  verify(identity: PeerIdentity, message: Uint8Array, signature: Uint8Array): boolean {
    const id = this.byLabel.get(identity.id);
    return !!id && verifyLowS(id.publicKey, message, signature);
  }
}

export function chaincodeConfig(name: string, policy = 'MAJORITY Endorsement', collections: ChaincodeConfig['collections'] = []): ChaincodeConfig {
  return { name, addresses: {}, perOrg: false, endorsementPolicy: policy, collections };
}

export interface ProposalOptions {
  channel?: string;
  chaincode?: string;
  args?: string[];
  transient?: Record<string, Buffer>;
  txIdOverride?: string;
  highS?: boolean;
}

export function signedProposal(creator: TestIdentity, o: ProposalOptions = {}): Buffer {
  const nonce = randomBytes(24);
  const ch = new common.ChannelHeader();
  ch.setType(common.HeaderType.ENDORSER_TRANSACTION);
  const ts = new Timestamp();
  ts.setSeconds(1_700_000_000);
  ch.setTimestamp(ts);
  ch.setChannelId(o.channel ?? 'energy');
  ch.setTxId(o.txIdOverride ?? computeTxId(nonce, creator.serialized));
  const ccid = new peer.ChaincodeID();
  ccid.setName(o.chaincode ?? 'cc');
  const ext = new peer.ChaincodeHeaderExtension();
  ext.setChaincodeId(ccid);
  ch.setExtension$(ext.serializeBinary());
  const sh = new common.SignatureHeader();
  sh.setCreator(creator.serialized);
  sh.setNonce(nonce);
  const hdr = new common.Header();
  hdr.setChannelHeader(ch.serializeBinary());
  hdr.setSignatureHeader(sh.serializeBinary());
  const input = new peer.ChaincodeInput();
  input.setArgsList((o.args ?? ['fn']).map((a) => Buffer.from(a)));
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  spec.setChaincodeId(ccid);
  spec.setInput(input);
  const cis = new peer.ChaincodeInvocationSpec();
  cis.setChaincodeSpec(spec);
  const cpp = new peer.ChaincodeProposalPayload();
  cpp.setInput(cis.serializeBinary());
  for (const [k, v] of Object.entries(o.transient ?? {})) cpp.getTransientmapMap().set(k, v);
  const prop = new peer.Proposal();
  prop.setHeader(hdr.serializeBinary());
  prop.setPayload(cpp.serializeBinary());
  const sp = new peer.SignedProposal();
  const bytes = prop.serializeBinary();
  sp.setProposalBytes(bytes);
  sp.setSignature(signLowS(creator.key, bytes));
  return Buffer.from(sp.serializeBinary());
}

export interface RwsetSpec {
  ns: string;
  reads?: Array<{ key: string; version?: { blockNum: number; txNum: number } }>;
  writes?: Array<{ key: string; value?: string; isDelete?: boolean }>;
  ranges?: Array<{ start: string; end: string; exhausted: boolean; reads: Array<{ key: string; version?: { blockNum: number; txNum: number } }> }>;
  collections?: Array<{ name: string; hashedWrites?: Buffer[]; hashedReads?: Array<{ keyHash: Buffer; version?: { blockNum: number; txNum: number } }> }>;
  metadataWrites?: Array<{ key: string; entries: Record<string, Buffer> }>;
}

/** common.SignaturePolicyEnvelope: OutOf(n, principals...) over ROLE principals ("Org1MSP.peer"). */
export function signaturePolicyEnvelope(n: number, principals: string[]): Buffer {
  const roles: Record<string, number> = { member: 0, admin: 1, client: 2, peer: 3, orderer: 4 };
  const env = new common.SignaturePolicyEnvelope();
  env.setIdentitiesList(
    principals.map((p) => {
      const [mspId = '', role = ''] = p.split('.');
      const roleType = roles[role];
      if (roleType === undefined) throw new Error(`test principal ${p}: unknown role "${role}"`);
      const r = new msp.MSPRole();
      r.setMspIdentifier(mspId);
      r.setRole(roleType as msp.MSPRole.MSPRoleTypeMap[keyof msp.MSPRole.MSPRoleTypeMap]);
      const mp = new msp.MSPPrincipal();
      mp.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
      mp.setPrincipal(r.serializeBinary());
      return mp;
    }),
  );
  const nOutOf = new common.SignaturePolicy.NOutOf();
  nOutOf.setN(n);
  nOutOf.setRulesList(
    principals.map((_, i) => {
      const sp = new common.SignaturePolicy();
      sp.setSignedBy(i);
      return sp;
    }),
  );
  const rule = new common.SignaturePolicy();
  rule.setNOutOf(nOutOf);
  env.setRule(rule);
  return Buffer.from(env.serializeBinary());
}

const kv = ledger.rwset.kvrwset;
function kvRead(r: { key: string; version?: { blockNum: number; txNum: number } }) {
  const read = new kv.KVRead();
  read.setKey(r.key);
  if (r.version) {
    const v = new kv.Version();
    v.setBlockNum(r.version.blockNum);
    v.setTxNum(r.version.txNum);
    read.setVersion(v);
  }
  return read;
}

export function rwsetBytes(spec: RwsetSpec[]): Buffer {
  const tx = new ledger.rwset.TxReadWriteSet();
  tx.setNsRwsetList(
    spec.map((s) => {
      const set = new kv.KVRWSet();
      set.setReadsList((s.reads ?? []).map(kvRead));
      set.setWritesList(
        (s.writes ?? []).map((w) => {
          const kw = new kv.KVWrite();
          kw.setKey(w.key);
          kw.setIsDelete(!!w.isDelete);
          if (w.value !== undefined) kw.setValue(Buffer.from(w.value));
          return kw;
        }),
      );
      set.setMetadataWritesList(
        (s.metadataWrites ?? []).map((m) => {
          const mw = new kv.KVMetadataWrite();
          mw.setKey(m.key);
          mw.setEntriesList(
            Object.entries(m.entries).map(([name, value]) => {
              const e = new kv.KVMetadataEntry();
              e.setName(name);
              e.setValue(value);
              return e;
            }),
          );
          return mw;
        }),
      );
      set.setRangeQueriesInfoList(
        (s.ranges ?? []).map((r) => {
          const q = new kv.RangeQueryInfo();
          q.setStartKey(r.start);
          q.setEndKey(r.end);
          q.setItrExhausted(r.exhausted);
          const raw = new kv.QueryReads();
          raw.setKvReadsList(r.reads.map(kvRead));
          q.setRawReads(raw);
          return q;
        }),
      );
      const ns = new ledger.rwset.NsReadWriteSet();
      ns.setNamespace(s.ns);
      ns.setRwset(set.serializeBinary());
      ns.setCollectionHashedRwsetList(
        (s.collections ?? []).map((c) => {
          const h = new kv.HashedRWSet();
          h.setHashedWritesList(
            (c.hashedWrites ?? []).map((kh) => {
              const w = new kv.KVWriteHash();
              w.setKeyHash(kh);
              w.setValueHash(Buffer.alloc(32, 1));
              return w;
            }),
          );
          h.setHashedReadsList(
            (c.hashedReads ?? []).map((r) => {
              const hr = new kv.KVReadHash();
              hr.setKeyHash(r.keyHash);
              if (r.version) {
                const v = new kv.Version();
                v.setBlockNum(r.version.blockNum);
                v.setTxNum(r.version.txNum);
                hr.setVersion(v);
              }
              return hr;
            }),
          );
          const chs = new ledger.rwset.CollectionHashedReadWriteSet();
          chs.setCollectionName(c.name);
          chs.setHashedRwset(h.serializeBinary());
          return chs;
        }),
      );
      return ns;
    }),
  );
  return Buffer.from(tx.serializeBinary());
}

export interface EnvelopeOptions extends ProposalOptions {
  rwset?: Buffer;
  endorsers?: TestIdentity[];
  /** sign the envelope with this identity instead of the creator */
  envelopeSigner?: TestIdentity;
  tamperProposalHash?: boolean;
  event?: { chaincodeId: string; name: string };
  ccVersion?: string;
}

/** An endorsed, signed transaction envelope as the gateway assembles and the client signs it. */
export function endorsedEnvelope(creator: TestIdentity, o: EnvelopeOptions = {}): { envelope: Buffer; txId: string } {
  const up = unpackSignedProposal(signedProposal(creator, o));
  const resp = new peer.Response();
  resp.setStatus(200);
  resp.setPayload(Buffer.from('ok'));
  const ccid = new peer.ChaincodeID();
  ccid.setName(o.chaincode ?? 'cc');
  ccid.setVersion(o.ccVersion ?? '1.0');
  const action = new peer.ChaincodeAction();
  action.setResults(o.rwset ?? rwsetBytes([{ ns: o.chaincode ?? 'cc', writes: [{ key: 'k', value: 'v' }] }]));
  action.setResponse(resp);
  action.setChaincodeId(ccid);
  if (o.event) {
    const ev = new peer.ChaincodeEvent();
    ev.setChaincodeId(o.event.chaincodeId);
    ev.setTxId(up.txId);
    ev.setEventName(o.event.name);
    action.setEvents(ev.serializeBinary());
  }
  const prp = new peer.ProposalResponsePayload();
  prp.setProposalHash(o.tamperProposalHash ? Buffer.alloc(32) : up.proposalHash);
  prp.setExtension$(action.serializeBinary());
  const prpBytes = Buffer.from(prp.serializeBinary());
  const endorsements = (o.endorsers ?? []).map((e) => {
    const en = new peer.Endorsement();
    en.setEndorser(e.serialized);
    en.setSignature(signLowS(e.key, Buffer.concat([prpBytes, e.serialized])));
    return en;
  });
  const env = assembleTransaction(up, prpBytes, endorsements);
  env.setSignature(signLowS((o.envelopeSigner ?? creator).key, env.getPayload_asU8()));
  return { envelope: Buffer.from(env.serializeBinary()), txId: up.txId };
}
