/**
 * Meters' own public keys, for readings their utility relays in cross-meter batches
 * (`meters:relayReadings`, docs/market.md "Relayed readings").
 *
 * A meter records its key with a transaction it signs itself (`meters:registerKey`): the key is taken
 * from the certificate Fabric's MSP authenticated as the transaction's creator (`ctx.clientIdentity`,
 * never from an argument), parsed with Node's X509Certificate (deterministic: the same DER gives the
 * same SPKI on every peer). A re-enrolled certificate of the same meter replaces the key through the
 * same act; an operator's `meters:revokeKey` retires it for good, so a revoked meter's relayed
 * readings are refused even if its certificate were still accepted somewhere.
 *
 * The record lives in the meter's utility collection (`gl.market.meterKey(mspId, meterId)`), beside its
 * readings: registering, revoking and relaying read and write that collection only, so they are
 * endorsed by the utility's own peers exactly like a reading (readings.ts explains why that matters),
 * and the public key is bound to the utility — an operator only ever finds keys of its own meters.
 */
import { createHash, createPublicKey, KeyObject, verify, X509Certificate } from 'crypto';
import { privateCollectionOf } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import { GridLedgerContext } from '../../kernel/context';
import { fail } from '../../kernel/errors';
import { MKT } from './keys';

export interface MeterKeyRecord {
  mspId: string;
  meterId: string;
  status: 'ACTIVE' | 'REVOKED';
  /** the public key, SPKI DER in base64 ('' in a revocation of a meter that never registered one) */
  spki: string;
  /** SHA-256 of the SPKI DER, hex ('' with no key) */
  keySha256: string;
}

export type KeyChange = 'REGISTERED' | 'REPLACED' | 'UNCHANGED' | 'REVOKED';

const meterKeyKey = (ctx: GridLedgerContext, mspId: string, meterId: string): string => ctx.state.key(MKT.meterKey, [mspId, meterId]);

export async function getMeterKey(ctx: GridLedgerContext, mspId: string, meterId: string): Promise<MeterKeyRecord | undefined> {
  const bytes = await ctx.stub.getPrivateData(privateCollectionOf(mspId), meterKeyKey(ctx, mspId, meterId));
  if (!bytes || bytes.length === 0) return undefined;
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as MeterKeyRecord;
}

async function putMeterKey(ctx: GridLedgerContext, rec: MeterKeyRecord): Promise<void> {
  await ctx.stub.putPrivateData(privateCollectionOf(rec.mspId), meterKeyKey(ctx, rec.mspId, rec.meterId), Buffer.from(canonicalJson(rec), 'utf8'));
}

/** The EC public key (SPKI DER) of the caller's certificate, as the MSP handed it to the chaincode. */
export function callerSpki(ctx: GridLedgerContext): Buffer {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(ctx.clientIdentity.getIDBytes()));
  } catch {
    return fail('INVALID_ARGUMENT', 'BAD_PUBLIC_KEY', 'the caller\'s certificate could not be parsed as X.509');
  }
  if (cert.publicKey.asymmetricKeyType !== 'ec') fail('INVALID_ARGUMENT', 'BAD_PUBLIC_KEY', `the caller's certificate holds a ${String(cert.publicKey.asymmetricKeyType)} key; relayed readings need an EC (ECDSA) key`);
  return cert.publicKey.export({ type: 'spki', format: 'der' });
}

/** The meter (the caller) records its certificate's key; a new certificate replaces the old key. */
export async function registerKey(ctx: GridLedgerContext, mspId: string, meterId: string): Promise<MeterKeyRecord & { change: KeyChange }> {
  const der = callerSpki(ctx);
  const existing = await getMeterKey(ctx, mspId, meterId);
  if (existing?.status === 'REVOKED') fail('FORBIDDEN', 'KEY_REVOKED', `meter ${meterId}'s key was revoked by its utility; a revoked meter cannot register a key again`);
  const rec: MeterKeyRecord = { mspId, meterId, status: 'ACTIVE', spki: der.toString('base64'), keySha256: createHash('sha256').update(der).digest('hex') };
  const change: KeyChange = !existing ? 'REGISTERED' : existing.spki === rec.spki ? 'UNCHANGED' : 'REPLACED';
  // UNCHANGED rewrites the same record: a transaction that writes nothing would need the chaincode's
  // MAJORITY policy while its private read keeps endorsement on the utility (readings.ts, re-posts).
  await putMeterKey(ctx, rec);
  return { ...rec, change };
}

/** An operator of the meter's utility retires its key for good (REVOKED even if none was registered). */
export async function revokeKey(ctx: GridLedgerContext, mspId: string, meterId: string): Promise<MeterKeyRecord & { change: KeyChange }> {
  const existing = await getMeterKey(ctx, mspId, meterId);
  const rec: MeterKeyRecord = { mspId, meterId, status: 'REVOKED', spki: existing?.spki ?? '', keySha256: existing?.keySha256 ?? '' };
  await putMeterKey(ctx, rec);
  return { ...rec, change: 'REVOKED' };
}

// Parsed public keys by SPKI text: a cache of a pure function (same input, same KeyObject), so it
// cannot make two peers differ; bounded, cleared when full.
const parsed = new Map<string, KeyObject>();
const PARSED_MAX = 20_000;

/** Whether `signatureB64` is the key's ECDSA/SHA-256 signature (DER) of `message`. Never throws. */
export function verifiesWith(rec: MeterKeyRecord, message: Buffer, signatureB64: string): boolean {
  try {
    let key = parsed.get(rec.spki);
    if (!key) {
      if (parsed.size >= PARSED_MAX) parsed.clear();
      key = createPublicKey({ key: Buffer.from(rec.spki, 'base64'), format: 'der', type: 'spki' });
      parsed.set(rec.spki, key);
    }
    return verify('sha256', message, { key, dsaEncoding: 'der' }, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}
