/**
 * Committee entropy from a utility beacon (issue 8 item 4; docs/governance.md "Entropy").
 *
 * Each utility (MSP) registers one BLS12-381 public key. For every task round, a utility's
 * contribution is its BLS signature on `beaconMessage(channel, taskId, round)`. BLS signatures are
 * UNIQUE: for a given key and message exactly one valid signature exists, so a utility cannot
 * grind its own contribution, and nobody without the secret key can predict it. The seed is the
 * SHA-256 of the first `beaconQuorum` valid contributions (sorted by MSP ID), so it is fixed only
 * after the task exists, and no single party — in particular no party to the task, who only
 * chooses tx ids, timestamps and arguments — can steer it. The task id itself is derived from the
 * task's subject, not from the tx id, so grinding tx ids does not even change the signed message.
 *
 * Library: @chainsafe/blst (supranational's blst, audited, constant-time, behind napi-rs with prebuilt
 * binaries per platform; docs/architecture.md "Dependencies and why"): verification in ~1.6 ms instead
 * of ~45 ms with pure-JS @noble/curves, which under bench:market was a quarter of the chaincode servers'
 * CPU (docs/benchmarks.md "Market"). "Long signature" variant: public keys in G1 (48 bytes), signatures
 * in G2 (96 bytes), hash-to-curve with the protocol's `BEACON_DST` (@gridledger/protocol), the one tag
 * blst uses. Verification is a pure function of (key, signature, message): every endorser answers the
 * same.
 */
import { createHash } from 'crypto';
import { PublicKey, Signature, verify } from '@chainsafe/blst';
import { fail } from '../../kernel/errors';

const HEX = /^[0-9a-f]+$/;

export const PUBLIC_KEY_HEX_LENGTH = 96; // 48 bytes, compressed G1
export const SIGNATURE_HEX_LENGTH = 192; // 96 bytes, compressed G2


export function checkPublicKeyHex(hex: string): string {
  if (typeof hex !== 'string' || hex.length !== PUBLIC_KEY_HEX_LENGTH || !HEX.test(hex)) {
    fail('INVALID_ARGUMENT', 'BAD_PUBLIC_KEY', `publicKeyHex must be ${PUBLIC_KEY_HEX_LENGTH} lowercase hex characters (a compressed BLS12-381 G1 point)`);
  }
  try {
    // with validation: on the curve, in the prime-order subgroup, not the identity (blst's key_validate)
    PublicKey.fromBytes(Buffer.from(hex, 'hex'), true);
  } catch (e) {
    const why = (e as Error).message;
    if (/infinity/i.test(why)) fail('INVALID_ARGUMENT', 'BAD_PUBLIC_KEY', 'publicKeyHex must not be the identity point');
    fail('INVALID_ARGUMENT', 'BAD_PUBLIC_KEY', `publicKeyHex is not a valid BLS12-381 G1 point: ${why}`);
  }
  return hex;
}

export function checkSignatureHex(hex: string): string {
  if (typeof hex !== 'string' || hex.length !== SIGNATURE_HEX_LENGTH || !HEX.test(hex)) {
    fail('INVALID_ARGUMENT', 'BAD_SIGNATURE', `signatureHex must be ${SIGNATURE_HEX_LENGTH} lowercase hex characters (a compressed BLS12-381 G2 signature)`);
  }
  return hex;
}

/**
 * Remembered answers per chaincode process: the verdict per (key, signature, message) — a contribution
 * whose transaction lost an MVCC race is endorsed again with the same arguments — and the decoded,
 * validated public keys (a task round's keys are the same few utilities'). Pure functions of their
 * inputs, so every endorser still answers the same, with or without the memo; bounded, oldest forgotten
 * first.
 */
const MEMO_LIMIT = 512;
const keys = new Map<string, PublicKey>();
const verdicts = new Map<string, boolean>();

function remember<V>(memo: Map<string, V>, key: string, value: V): V {
  if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value as string);
  memo.set(key, value);
  return value;
}

/**
 * True iff `signatureHex` is THE BLS signature of `message` under `publicKeyHex`. `message` is the
 * protocol's `beaconMessage(channel, taskId, round)`, signed as its UTF-8 bytes under `BEACON_DST`.
 * The key and the signature are group-checked (a point outside the prime-order subgroup is refused).
 */
export function verifyContribution(publicKeyHex: string, signatureHex: string, message: string): boolean {
  const memoKey = `${publicKeyHex}|${signatureHex}|${message}`;
  const known = verdicts.get(memoKey);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    const pk = keys.get(publicKeyHex) ?? remember(keys, publicKeyHex, PublicKey.fromBytes(Buffer.from(publicKeyHex, 'hex'), true));
    const sig = Signature.fromBytes(Buffer.from(signatureHex, 'hex'), true);
    ok = verify(Buffer.from(message, 'utf8'), pk, sig, false, false);
  } catch {
    ok = false;
  }
  return remember(verdicts, memoKey, ok);
}

export interface Contribution {
  mspId: string;
  signatureHex: string;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** seed = SHA-256(domain ‖ taskId ‖ round ‖ (mspId ‖ signature)* sorted by MSP ID). */
export function combineSeed(taskId: string, round: number, contributions: readonly Contribution[]): string {
  const h = createHash('sha256').update(`gridledger/seed/v1|${taskId}|${round}`);
  for (const c of [...contributions].sort((a, b) => byteOrder(a.mspId, b.mspId))) {
    h.update(`|${c.mspId}|${c.signatureHex}`);
  }
  return h.digest('hex');
}

/** The i-th 256-bit draw of the labelled stream derived from a seed. */
export function streamValue(seedHex: string, label: string, i: number): bigint {
  return BigInt('0x' + createHash('sha256').update(`${seedHex}|${label}|${i}`).digest('hex'));
}
