import crypto from 'node:crypto';
import { METER_STATUSES, sqlValues, type MeterStatus } from '@gridledger/protocol';
import { prepared, type Db } from '../store/db';

/**
 * AES-256-GCM with a random 96-bit IV; the AAD binds the ciphertext to its row, so rows cannot be swapped.
 * The gateway's one idiom for secrets in its SQLite file, keyed by `walletKey` (GATEWAY_WALLET_KEY, held
 * outside the database): the meters' keys and enrolment secrets here, the auction secrets the agents keep
 * (agents/store.ts), the utility's beacon key (events/beacon.ts, as bytes: `sealBytes`/`openBytes`). docs/operations.md "Secrets at rest".
 */
export function sealSecret(key: Buffer, plaintext: string, aad: string): string {
  return sealBytes(key, Buffer.from(plaintext, 'utf8'), aad);
}

/** Opens what `sealSecret` sealed; `what` names the entry in the refusal (a wrong key or a tampered row). */
export function openSecret(key: Buffer, sealed: string, aad: string, what = 'wallet entry'): string {
  return openBytes(key, sealed, aad, what).toString('utf8');
}

/** `sealSecret` for bytes, written `v1.<iv>.<tag>.<ciphertext>` (base64 parts). */
export function sealBytes(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join('.');
}

/** Opens what `sealBytes` sealed; `what` names the entry in the refusal (a wrong key or a tampered value). */
export function openBytes(key: Buffer, sealed: string, aad: string, what = 'wallet entry'): Buffer {
  const [v, iv, tag, ct] = sealed.split('.');
  if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error(`${what} has an unknown format`);
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]);
  } catch {
    throw new Error(`cannot decrypt ${what}: wrong GATEWAY_WALLET_KEY or tampered data`);
  }
}

/** The SHA-256 of a certificate's PEM text (trimmed), hex. */
export function certSha256(certPem: string): string {
  return crypto.createHash('sha256').update(certPem.trim(), 'utf8').digest('hex');
}

export interface MeterRecord {
  meterId: string;
  zone: string;
  mspId: string;
  enrollmentId: string;
  status: MeterStatus;
  certPem: string | null;
  enrolledAt: number | null;
  revokedAt: number | null;
  revocationReason: string | null;
  /** tx id of `participants:enrolMeter` (the utility recording the meter on the ledger), once committed */
  ledgerTxId: string | null;
}

/**
 * The custodial wallet: each meter's certificate and its private key, encrypted at rest.
 * A meter is `REGISTERED` (CA registration done, enrolment secret sealed) → `ACTIVE` (key + cert) → `REVOKED`.
 */
interface CachedRow {
  record: Readonly<MeterRecord>;
  keyEnc: string | null;
  /** keyEnc opened */
  pem?: string;
  /** the last ledgerKeyRegistered answer, for this certificate */
  ledgerKeyFor?: { certPem: string; registered: boolean };
}

export class Wallet {
  constructor(
    private readonly db: Db,
    private readonly key: Buffer,
  ) {
    if (key.length !== 32) throw new Error('wallet key must be 32 bytes');
    db.exec(`CREATE TABLE IF NOT EXISTS meter_identities (
      meter_id TEXT PRIMARY KEY,
      zone TEXT NOT NULL,
      msp_id TEXT NOT NULL,
      enrollment_id TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN (${sqlValues(METER_STATUSES)})),
      secret_enc TEXT,
      cert_pem TEXT,
      key_enc TEXT,
      enrolled_at INTEGER,
      revoked_at INTEGER,
      revocation_reason TEXT,
      ledger_tx_id TEXT,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS meter_ledger_keys (
      meter_id TEXT PRIMARY KEY,
      cert_sha256 TEXT NOT NULL,
      tx_id TEXT NOT NULL,
      recorded_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS meter_key_refusals (
      meter_id TEXT PRIMARY KEY,
      cert_sha256 TEXT NOT NULL,
      code TEXT NOT NULL,
      sub_code TEXT,
      reason TEXT NOT NULL,
      refused_at INTEGER NOT NULL
    )`);
  }

  /**
   * The meter's certificate key is registered on the ledger (meters:registerKey, committed as `txId`):
   * its readings may be relayed in cross-meter batches. Kept per certificate, so a re-enrolled meter
   * is relayed again only once its new key is registered.
   */
  recordLedgerKey(meterId: string, certPem: string, txId: string): void {
    prepared(this.db, 'INSERT INTO meter_ledger_keys (meter_id, cert_sha256, tx_id, recorded_at) VALUES (?, ?, ?, ?) ON CONFLICT (meter_id) DO UPDATE SET cert_sha256 = excluded.cert_sha256, tx_id = excluded.tx_id, recorded_at = excluded.recorded_at')
      .run(meterId, certSha256(certPem), txId, Date.now());
    this.forget(meterId);
  }

  /**
   * The ledger refused the key of this certificate for good (identity/registerKeys.ts `finalKeyRefusal`):
   * it is not tried again; a new certificate is.
   */
  recordLedgerKeyRefusal(meterId: string, certPem: string, refusal: { code: string; subCode: string | null; reason: string }): void {
    prepared(this.db, 'INSERT INTO meter_key_refusals (meter_id, cert_sha256, code, sub_code, reason, refused_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (meter_id) DO UPDATE SET cert_sha256 = excluded.cert_sha256, code = excluded.code, sub_code = excluded.sub_code, reason = excluded.reason, refused_at = excluded.refused_at')
      .run(meterId, certSha256(certPem), refusal.code, refusal.subCode, refusal.reason, Date.now());
    this.forget(meterId);
  }

  /** The ledger's refusal of this certificate's key, if it refused it for good. */
  ledgerKeyRefusal(meterId: string, certPem: string): { code: string; subCode: string | null; reason: string; refusedAt: number } | undefined {
    const r = prepared(this.db, 'SELECT cert_sha256, code, sub_code, reason, refused_at FROM meter_key_refusals WHERE meter_id = ?').get(meterId) as
      | { cert_sha256: string; code: string; sub_code: string | null; reason: string; refused_at: number }
      | undefined;
    if (!r || r.cert_sha256 !== certSha256(certPem)) return undefined;
    return { code: r.code, subCode: r.sub_code, reason: r.reason, refusedAt: r.refused_at };
  }

  /** How many active meters' current keys the ledger refused for good (the gauge gateway_meter_keys_refused). */
  meterKeysRefusedCount(): number {
    const rows = prepared(this.db, "SELECT m.cert_pem AS cert_pem, f.cert_sha256 AS refused FROM meter_identities m JOIN meter_key_refusals f ON f.meter_id = m.meter_id WHERE m.status = 'ACTIVE' AND m.cert_pem IS NOT NULL").all() as Array<{ cert_pem: string; refused: string }>;
    return rows.filter((r) => r.refused === certSha256(r.cert_pem)).length;
  }

  /**
   * Active meters whose current certificate's key the ledger is not known to hold (no recordLedgerKey for
   * that certificate) and did not refuse for good: meters enrolled before relaying existed, or whose
   * registration failed. One query.
   */
  meterKeysUnregistered(): string[] {
    const rows = prepared(this.db, "SELECT m.meter_id AS meter_id, m.cert_pem AS cert_pem, k.cert_sha256 AS cert_sha256, f.cert_sha256 AS refused FROM meter_identities m LEFT JOIN meter_ledger_keys k ON k.meter_id = m.meter_id LEFT JOIN meter_key_refusals f ON f.meter_id = m.meter_id WHERE m.status = 'ACTIVE' AND m.cert_pem IS NOT NULL ORDER BY m.meter_id").all() as Array<{ meter_id: string; cert_pem: string; cert_sha256: string | null; refused: string | null }>;
    return rows
      .filter((r) => {
        const sha = certSha256(r.cert_pem);
        return r.cert_sha256 !== sha && r.refused !== sha;
      })
      .map((r) => r.meter_id);
  }

  /** Whether the ledger holds the key of the meter's current certificate (recordLedgerKey). */
  ledgerKeyRegistered(meterId: string, certPem: string): boolean {
    const row = this.row(meterId);
    if (row?.ledgerKeyFor !== undefined && row.ledgerKeyFor.certPem === certPem) return row.ledgerKeyFor.registered;
    const r = prepared(this.db, 'SELECT cert_sha256 FROM meter_ledger_keys WHERE meter_id = ?').get(meterId) as { cert_sha256: string } | undefined;
    const registered = r !== undefined && r.cert_sha256 === certSha256(certPem);
    if (row) row.ledgerKeyFor = { certPem, registered };
    return registered;
  }

  /**
   * The meter's row, remembered. Every posted reading reads its meter's row several times (the request's
   * check, then the delivery's relay eligibility and signature), each a SELECT, a new record and a
   * SHA-256 of the certificate: ~7% of the gateway's CPU per reading on the ingest harness
   * (docs/benchmarks.md "REST ingest"). Only this process writes these tables, and every write below
   * forgets the meter's entry; a row read inside an open transaction (which could still roll back) is
   * not remembered.
   */
  private row(meterId: string): CachedRow | undefined {
    const known = this.rows.get(meterId);
    if (known) return known;
    const r = prepared(this.db, 'SELECT * FROM meter_identities WHERE meter_id = ?').get(meterId) as Record<string, unknown> | undefined;
    if (!r) return undefined;
    const row: CachedRow = {
      record: Object.freeze({
        meterId: r.meter_id as string,
        zone: r.zone as string,
        mspId: r.msp_id as string,
        enrollmentId: r.enrollment_id as string,
        status: r.status as MeterStatus,
        certPem: (r.cert_pem as string | null) ?? null,
        enrolledAt: (r.enrolled_at as number | null) ?? null,
        revokedAt: (r.revoked_at as number | null) ?? null,
        revocationReason: (r.revocation_reason as string | null) ?? null,
        ledgerTxId: (r.ledger_tx_id as string | null) ?? null,
      }),
      keyEnc: (r.key_enc as string | null) ?? null,
    };
    if (!this.db.inTransaction) {
      if (this.rows.size >= Wallet.OPENED_MAX) this.rows.clear();
      this.rows.set(meterId, row);
    }
    return row;
  }

  private forget(meterId: string): void {
    this.rows.delete(meterId);
  }

  /** meter → its row as last read (see `row`) */
  private readonly rows = new Map<string, CachedRow>();

  private aad(meterId: string, what: string): string {
    return `gridledger-wallet:v1:${meterId}:${what}`;
  }

  /** The meter's record (frozen: shared by every caller until the meter's row changes). */
  get(meterId: string): Readonly<MeterRecord> | undefined {
    return this.row(meterId)?.record;
  }

  recordRegistration(meterId: string, zone: string, mspId: string, enrollmentId: string, secret: string): void {
    prepared(this.db, "INSERT INTO meter_identities (meter_id, zone, msp_id, enrollment_id, status, secret_enc, created_at) VALUES (?, ?, ?, ?, 'REGISTERED', ?, ?)")
      .run(meterId, zone, mspId, enrollmentId, sealSecret(this.key, secret, this.aad(meterId, 'secret')), Date.now());
    this.forget(meterId);
  }

  /** Meters with an enrolled key (the ones the gateway can sign for). */
  activeMeters(): Array<{ meterId: string; mspId: string; zone: string }> {
    return (prepared(this.db, "SELECT meter_id, msp_id, zone FROM meter_identities WHERE status = 'ACTIVE' ORDER BY meter_id").all() as Array<{ meter_id: string; msp_id: string; zone: string }>).map((r) => ({
      meterId: r.meter_id,
      mspId: r.msp_id,
      zone: r.zone,
    }));
  }

  registrationSecret(meterId: string): string {
    const r = prepared(this.db, 'SELECT secret_enc FROM meter_identities WHERE meter_id = ?').get(meterId) as { secret_enc: string | null } | undefined;
    if (!r?.secret_enc) throw new Error(`no registration secret for meter ${meterId}`);
    return openSecret(this.key, r.secret_enc, this.aad(meterId, 'secret'));
  }

  /** A new enrolment secret for a registered meter (identity modify at the CA follows), sealed as recordRegistration seals it. */
  replaceRegistrationSecret(meterId: string, secret: string): void {
    const res = prepared(this.db, "UPDATE meter_identities SET secret_enc = ? WHERE meter_id = ? AND status = 'REGISTERED'")
      .run(sealSecret(this.key, secret, this.aad(meterId, 'secret')), meterId);
    this.forget(meterId);
    if (res.changes !== 1) throw new Error(`meter ${meterId} is not awaiting enrolment`);
  }

  recordEnrolment(meterId: string, certPem: string, keyPem: string): void {
    const res = prepared(this.db, "UPDATE meter_identities SET status = 'ACTIVE', cert_pem = ?, key_enc = ?, secret_enc = NULL, enrolled_at = ? WHERE meter_id = ? AND status = 'REGISTERED'")
      .run(certPem, sealSecret(this.key, keyPem, this.aad(meterId, 'key')), Date.now(), meterId);
    this.forget(meterId);
    if (res.changes !== 1) throw new Error(`meter ${meterId} is not awaiting enrolment`);
  }

  privateKeyPem(meterId: string): string {
    const row = this.row(meterId);
    const keyEnc = row?.keyEnc;
    if (!keyEnc) throw new Error(`meter ${meterId} has no enrolled key`);
    if (row.pem !== undefined) return row.pem; // opened from this very row (forgotten with it on any write)
    // Every reading asks for its meter's key twice (the request's check, the delivery's signature):
    // the AES-GCM open was ~6% of the HTTP thread's CPU under ingest load. Keyed by the sealed value,
    // so a revoked (NULL) or re-sealed key is never answered from here; the signer in the ledger
    // thread keeps the same plaintext key in memory anyway.
    const sealed = `${meterId}\n${keyEnc}`; // the meter is part of the AAD: one sealed value opens for one meter
    const known = this.opened.get(sealed);
    if (known !== undefined) return (row.pem = known);
    const pem = openSecret(this.key, keyEnc, this.aad(meterId, 'key'));
    if (this.opened.size >= Wallet.OPENED_MAX) this.opened.clear();
    this.opened.set(sealed, pem);
    return (row.pem = pem);
  }

  /** meter + sealed key → its opened PEM (bounded: cleared when full) */
  private readonly opened = new Map<string, string>();
  private static readonly OPENED_MAX = 10_000;

  recordLedgerEnrolment(meterId: string, txId: string): void {
    prepared(this.db, 'UPDATE meter_identities SET ledger_tx_id = ? WHERE meter_id = ?').run(txId, meterId);
    this.forget(meterId);
  }

  deleteRegistration(meterId: string): void {
    prepared(this.db, "DELETE FROM meter_identities WHERE meter_id = ? AND status = 'REGISTERED'").run(meterId);
    this.forget(meterId);
  }

  markRevoked(meterId: string, reason: string): void {
    prepared(this.db, "UPDATE meter_identities SET status = 'REVOKED', revoked_at = ?, revocation_reason = ?, key_enc = NULL, secret_enc = NULL WHERE meter_id = ?")
      .run(Date.now(), reason, meterId);
    this.forget(meterId);
  }
}
