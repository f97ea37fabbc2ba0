/**
 * The per-transaction checks a committing peer runs before MVCC (P§5, F core/common/validation/
 * msgvalidation.go, core/committer/txvalidator/v20, plugindispatcher): header, creator and
 * signature, txid, endorser-transaction structure and proposal hash, chaincode identity, and the
 * endorsement policy of the invoked chaincode and of every written namespace / collection. Stateless apart from the ledger's
 * tx index, so it can be unit-tested over hand-built envelopes.
 */
import { common, peer } from '@hyperledger/fabric-protos';
import type { ChaincodeConfig } from '@gridledger/protocol';
import { findCollection } from '../config/collections';
import type { ChaincodeEventRecord } from '../ledger';
import type { ChannelMsp, PeerIdentity, PolicyEvaluator } from './deps';
import { computeTxId, proposalHash } from './proposal';
import { KeyPolicyError, signaturePolicyEnvelopeToText } from './keyLevelPolicy';
import { decodeTxRwset, NsRwset, RwsetFormatError, writesNamespace } from './rwset';
import { EnvelopeFormatError, EnvelopeHeaderParts, parseEndorserTransaction, parseEnvelopeHeader } from './transaction';
import { TxCode } from './validationCodes';

export interface TxCheckContext {
  channel: string;
  msp: ChannelMsp;
  policies: PolicyEvaluator;
  chaincodes: ReadonlyMap<string, ChaincodeConfig>;
  /** txid already in the ledger's tx index */
  txIdCommitted(txId: string): Promise<boolean>;
  /** committed VALIDATION_PARAMETER metadata of a key (state-based endorsement); absent = none */
  validationParameter?(ns: string, key: string): Promise<Buffer | undefined>;
}

export interface TxCheckResult {
  code: number;
  /** '' when the header could not be read */
  txId: string;
  timestamp: { seconds: number; nanos: number };
  headerType: number;
  /** decoded read-write set; present when the tx reached the MVCC stage (ENDORSER_TRANSACTION, code VALID so far) */
  rwset?: NsRwset[];
  chaincode?: string;
  event?: ChaincodeEventRecord;
  /** why, for logs */
  reason?: string;
}

const ZERO_TS = { seconds: 0, nanos: 0 };
const ENDORSER_TRANSACTION = common.HeaderType.ENDORSER_TRANSACTION;
const CONFIG = common.HeaderType.CONFIG;
const CONFIG_UPDATE = common.HeaderType.CONFIG_UPDATE;

export async function checkTransaction(envBytes: Uint8Array, ctx: TxCheckContext): Promise<TxCheckResult> {
  if (!envBytes || envBytes.length === 0) return { code: TxCode.NIL_ENVELOPE, txId: '', timestamp: ZERO_TS, headerType: -1, reason: 'nil envelope' };
  let h: EnvelopeHeaderParts;
  try {
    h = parseEnvelopeHeader(envBytes);
  } catch (err) {
    const stage = err instanceof EnvelopeFormatError ? err.stage : 'envelope';
    const code = stage === 'envelope' || stage === 'payload' ? TxCode.BAD_PAYLOAD : TxCode.BAD_COMMON_HEADER;
    return { code, txId: '', timestamp: ZERO_TS, headerType: -1, reason: (err as Error).message };
  }
  const base = { txId: h.txId, timestamp: h.timestamp, headerType: h.headerType };
  const fail = (code: number, reason: string): TxCheckResult => ({ ...base, code, reason });

  // validateCommonHeader
  if (h.headerType !== ENDORSER_TRANSACTION && h.headerType !== CONFIG && h.headerType !== CONFIG_UPDATE) {
    return fail(TxCode.BAD_COMMON_HEADER, `invalid header type ${h.headerType}`);
  }
  if (h.channelHeader.getEpoch() !== 0) return fail(TxCode.BAD_COMMON_HEADER, 'invalid epoch, expected 0');
  if (h.nonce.length === 0) return fail(TxCode.BAD_COMMON_HEADER, 'empty nonce');
  if (h.creator.length === 0) return fail(TxCode.BAD_COMMON_HEADER, 'empty creator');

  // checkSignatureFromCreator
  let creator: PeerIdentity;
  try {
    creator = ctx.msp.deserialize(h.creator);
  } catch (err) {
    return fail(TxCode.BAD_CREATOR_SIGNATURE, `creator: ${(err as Error).message}`);
  }
  if (!ctx.msp.verify(creator, h.payloadBytes, h.signature)) return fail(TxCode.BAD_CREATOR_SIGNATURE, 'envelope signature invalid');

  if (h.channelId !== ctx.channel) return fail(TxCode.TARGET_CHAIN_NOT_FOUND, `channel ${h.channelId} not found`);

  if (h.headerType === CONFIG) return { ...base, code: TxCode.VALID }; // the genesis config block
  if (h.headerType === CONFIG_UPDATE) return fail(TxCode.UNSUPPORTED_TX_PAYLOAD, 'config update envelopes are not committed');

  if (computeTxId(h.nonce, h.creator) !== h.txId) return fail(TxCode.BAD_PROPOSAL_TXID, 'txid does not match SHA-256(nonce ‖ creator)');

  let tx: ReturnType<typeof parseEndorserTransaction>;
  try {
    tx = parseEndorserTransaction(h);
  } catch (err) {
    return fail(TxCode.INVALID_ENDORSER_TRANSACTION, (err as Error).message);
  }
  let actionHeader: common.SignatureHeader;
  try {
    actionHeader = common.SignatureHeader.deserializeBinary(tx.actionHeaderBytes);
  } catch (err) {
    return fail(TxCode.INVALID_ENDORSER_TRANSACTION, `bad action signature header: ${(err as Error).message}`);
  }
  if (!Buffer.from(actionHeader.getCreator_asU8()).equals(h.creator) || !Buffer.from(actionHeader.getNonce_asU8()).equals(h.nonce)) {
    return fail(TxCode.INVALID_ENDORSER_TRANSACTION, 'action signature header differs from the transaction header');
  }
  const expectedHash = proposalHash(h.channelHeaderBytes, h.signatureHeaderBytes, tx.chaincodeProposalPayload);
  if (!expectedHash.equals(tx.proposalHash)) return fail(TxCode.INVALID_ENDORSER_TRANSACTION, 'proposal hash does not match');

  if (await ctx.txIdCommitted(h.txId)) return fail(TxCode.DUPLICATE_TXID, `duplicate txid ${h.txId} in the ledger`);

  // plugin dispatcher: chaincode identity, rwset, events, endorsement policy
  const ccAction = tx.chaincodeAction;
  const ccId = ccAction.getChaincodeId();
  if (!tx.invokedChaincode || !ccId || ccId.getName() !== tx.invokedChaincode || !ccId.getVersion()) {
    return fail(TxCode.INVALID_CHAINCODE, 'chaincode name/version mismatch in the chaincode action');
  }
  let rwset: NsRwset[];
  try {
    rwset = decodeTxRwset(ccAction.getResults_asU8());
  } catch (err) {
    return fail(TxCode.BAD_RWSET, err instanceof RwsetFormatError ? err.message : String(err));
  }
  const seenNs = new Set<string>();
  for (const ns of rwset) {
    if (seenNs.has(ns.namespace)) return fail(TxCode.ILLEGAL_WRITESET, `namespace ${ns.namespace} appears twice`);
    seenNs.add(ns.namespace);
  }
  let event: ChaincodeEventRecord | undefined;
  const evBytes = ccAction.getEvents_asU8();
  if (evBytes.length > 0) {
    let ev: peer.ChaincodeEvent;
    try {
      ev = peer.ChaincodeEvent.deserializeBinary(evBytes);
    } catch (err) {
      return fail(TxCode.INVALID_OTHER_REASON, `bad chaincode event: ${(err as Error).message}`);
    }
    if (ev.getChaincodeId() !== tx.invokedChaincode) return fail(TxCode.INVALID_OTHER_REASON, 'chaincode event names another chaincode');
    event = { chaincodeId: ev.getChaincodeId(), txId: ev.getTxId(), eventName: ev.getEventName(), payload: Buffer.from(ev.getPayload_asU8()) };
  }

  // Fabric's dispatcher (core/committer/txvalidator/v20/plugindispatcher/dispatcher.go, v3.1.5 L159-L187)
  // validates the INVOKED chaincode's namespace always (`wrNamespace[ccID] = true`), plus every namespace
  // the tx writes to. The v20 state-based evaluator (core/common/validation/statebased/validator_keylevel.go
  // Evaluate, v20.go CheckCCEPIfNoEPChecked) checks the chaincode policy of a validated namespace when no
  // write there was checked against some policy — so a read-only tx must still satisfy the invoked
  // chaincode's endorsement policy (the gateway plans it so; a lone endorsement fails here).
  const toValidate = [tx.invokedChaincode, ...rwset.filter(writesNamespace).map((ns) => ns.namespace).filter((n) => n !== tx.invokedChaincode)];
  const endorsers = validEndorsers(tx.prpBytes, tx.endorsements, ctx.msp);
  for (const name of toValidate) {
    const ns: NsRwset = rwset.find((n) => n.namespace === name) ?? { namespace: name, reads: [], ranges: [], writes: [], metadataWrites: [], collections: [] };
    const cc = ctx.chaincodes.get(name);
    if (!cc) return fail(TxCode.INVALID_CHAINCODE, `no chaincode definition for ${name === tx.invokedChaincode ? 'invoked chaincode' : 'written namespace'} ${name}`);
    // Keys with a key-level policy answer to it; every other written key to the chaincode policy.
    let someChecked = false;
    let needsCcPolicy = false;
    for (const key of new Set([...ns.writes.map((w) => w.key), ...ns.metadataWrites.map((m) => m.key)])) {
      const vp = ctx.validationParameter ? await ctx.validationParameter(ns.namespace, key) : undefined;
      if (!vp || vp.length === 0) {
        needsCcPolicy = true;
        continue;
      }
      let text: string;
      try {
        text = signaturePolicyEnvelopeToText(vp);
      } catch (err) {
        return fail(TxCode.ENDORSEMENT_POLICY_FAILURE, `key-level policy of ${ns.namespace}/${key}: ${(err as KeyPolicyError).message}`);
      }
      someChecked = true;
      if (!ctx.policies.satisfied(text, endorsers)) {
        return fail(TxCode.ENDORSEMENT_POLICY_FAILURE, `key-level endorsement policy of ${ns.namespace}/${key} not satisfied`);
      }
    }
    for (const c of ns.collections) {
      if (c.hashedWrites.length === 0 && c.metadataWrites === 0) continue;
      const coll = findCollection(cc.collections, c.name);
      if (!coll) return fail(TxCode.INVALID_OTHER_REASON, `collection ${c.name} is not defined for ${ns.namespace}`);
      someChecked = true;
      const policy = coll.endorsementPolicy ?? cc.endorsementPolicy;
      if (!ctx.policies.satisfied(policy, endorsers)) {
        return fail(TxCode.ENDORSEMENT_POLICY_FAILURE, `endorsement policy of ${ns.namespace}/${c.name} not satisfied`);
      }
    }
    // CheckCCEPIfNotChecked for unpoliced public writes; CheckCCEPIfNoEPChecked when nothing was checked
    if ((needsCcPolicy || !someChecked) && !ctx.policies.satisfied(cc.endorsementPolicy, endorsers)) {
      return fail(TxCode.ENDORSEMENT_POLICY_FAILURE, `endorsement policy of ${ns.namespace} not satisfied`);
    }
  }
  return { ...base, code: TxCode.VALID, rwset, chaincode: tx.invokedChaincode, event };
}

/** Endorsements whose identity is valid and whose signature over prp ‖ endorser verifies, de-duplicated by identity. */
export function validEndorsers(prp: Buffer, endorsements: Array<{ endorser: Buffer; signature: Buffer }>, msp: ChannelMsp): PeerIdentity[] {
  const out = new Map<string, PeerIdentity>();
  for (const e of endorsements) {
    let id: PeerIdentity;
    try {
      id = msp.deserialize(e.endorser);
    } catch {
      continue;
    }
    if (!msp.verify(id, Buffer.concat([prp, e.endorser]), e.signature)) continue;
    out.set(`${id.mspId}\u0000${id.id}`, id);
  }
  return [...out.values()];
}
