import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ActingIdentity } from '../fabric/ledger';
import { HttpProblem } from '../rest/problem';
import { CaError, type MeterCa } from './ca';
import type { MeterRecord, Wallet } from './wallet';

export interface EnrolResult {
  meter: MeterRecord;
  certPem: string;
}

/**
 * Meter identities: registration + enrolment at the utility's Fabric CA, the encrypted wallet, revocation.
 * Crash-safe: the CA registration secret is sealed in the wallet before the CA is asked to register, so a
 * retried enrolment after a crash enrols with it instead of failing on "already registered". An enrolment
 * whose answer was lost (the gateway crashed or timed out after the CA had issued the certificate) used
 * up the identity's enrolments; the retry is refused, and the gateway, as the registrar, gives the
 * identity a new secret and one more enrolment and enrols again (`enrolAgain`). The lost certificate's
 * private key was only ever in the memory of the enrolment that lost it, so it is never used.
 */
export class MeterIdentities {
  /** meter → its enrolment in progress: a second request for the same meter waits for the first */
  private readonly enrolling = new Map<string, Promise<unknown>>();

  constructor(
    private readonly wallet: Wallet,
    private readonly ca: MeterCa,
    private readonly opts: {
      maxEnrollments: number;
      affiliation: string;
      crlDir: string;
      /** told when an enrolment refused by the CA was recovered (logged and counted by the gateway) */
      onEnrolAgain?: (meterId: string, outcome: 'reset' | 'registered-again') => void;
    },
  ) {}

  /**
   * Registers (if needed) and enrols the meter. Enrolments of one meter run one after the other: the
   * recovery below replaces the meter's secret at the CA, which must not happen under another
   * enrolment of the same meter.
   */
  async enrol(meterId: string, zone: string): Promise<EnrolResult> {
    const before = this.enrolling.get(meterId);
    const run = (before ?? Promise.resolve()).catch(() => undefined).then(() => this.enrolOnce(meterId, zone));
    this.enrolling.set(meterId, run);
    try {
      return await run;
    } finally {
      if (this.enrolling.get(meterId) === run) this.enrolling.delete(meterId);
    }
  }

  private async enrolOnce(meterId: string, zone: string): Promise<EnrolResult> {
    let rec = this.wallet.get(meterId);
    if (rec?.status === 'ACTIVE' && !rec.ledgerTxId) {
      // CA enrolment done earlier, ledger step not confirmed: resume with the ledger step only
      if (rec.zone !== zone) {
        throw new HttpProblem(409, 'meter-zone-mismatch', 'Meter registered with another zone', `meter ${meterId} was enrolled with zone ${rec.zone}, not ${zone}; retry with zone ${rec.zone}`, { meterId });
      }
      return { meter: rec, certPem: rec.certPem! };
    }
    if (rec?.status === 'ACTIVE') {
      throw new HttpProblem(409, 'meter-already-enrolled', 'Meter already enrolled', `meter ${meterId} is already enrolled (since ${new Date(rec.enrolledAt!).toISOString()}); revoke it first to replace its identity`, { meterId });
    }
    if (rec?.status === 'REVOKED') {
      throw new HttpProblem(409, 'meter-revoked', 'Meter revoked', `meter ${meterId} was revoked; a revoked meter id cannot be enrolled again — use a new meter id`, { meterId });
    }
    if (rec && rec.zone !== zone) {
      throw new HttpProblem(409, 'meter-zone-mismatch', 'Meter registered with another zone', `meter ${meterId} was registered with zone ${rec.zone}, not ${zone}; retry with zone ${rec.zone}`, { meterId });
    }
    if (!rec) {
      const secret = crypto.randomBytes(18).toString('base64url');
      this.wallet.recordRegistration(meterId, zone, this.ca.mspId, meterId, secret);
      try {
        await this.ca.register({ meterId, zone, enrollmentId: meterId, secret, maxEnrollments: this.opts.maxEnrollments, affiliation: this.opts.affiliation });
      } catch (e) {
        if (e instanceof CaError && e.kind === 'already-registered') {
          // A registration this wallet did not make (or lost): refuse rather than guess its secret.
          this.wallet.markRevoked(meterId, 'registration refused by the CA: identity already registered');
          throw new HttpProblem(409, 'meter-registered-elsewhere', 'Meter id already registered at the CA', `the CA already has an identity named ${meterId} that this gateway did not register; choose another meter id`, { meterId });
        }
        // Refused: the CA did not register it, a retry starts afresh. Unavailable (a timeout, a dropped
        // connection): the CA may have registered it all the same, so the sealed secret stays and the
        // retry enrols with it — or, if the CA never got the registration, registers it (enrolAgain).
        if (!(e instanceof CaError && e.kind === 'unavailable')) this.wallet.deleteRegistration(meterId);
        throw caProblem(e);
      }
      rec = this.wallet.get(meterId)!;
    }
    const secret = this.wallet.registrationSecret(meterId);
    let enrolled: { certPem: string; keyPem: string };
    try {
      enrolled = await this.ca.enroll(rec.enrollmentId, secret);
    } catch (e) {
      // Fabric CA masks why it refused an enrolment (401 code 20: wrong secret, revoked, or no enrolments
      // left). With the secret this wallet sealed, the likely reason is an earlier enrolment whose answer
      // was lost; anything else the second enrolment below is refused for too, and reports.
      if (!(e instanceof CaError && e.kind === 'auth' && e.caErrors.some((x) => x.code === 20))) throw caProblem(e);
      enrolled = await this.enrolAgain(meterId, rec);
    }
    // Stored (sealed, committed) before anyone is told the meter is enrolled.
    this.wallet.recordEnrolment(meterId, enrolled.certPem, enrolled.keyPem);
    return { meter: this.wallet.get(meterId)!, certPem: enrolled.certPem };
  }

  /**
   * The CA refused to enrol a meter this wallet registered: as the registrar, give the identity a new
   * secret and one more enrolment (MeterCa.allowEnrolmentAgain), then enrol with it. The new secret is
   * sealed in the wallet before the CA hears of it, so a crash at any point leaves a state the next
   * attempt recovers from the same way. If the CA has no such identity (the registration was lost on
   * its way), it is registered now with that secret.
   */
  private async enrolAgain(meterId: string, rec: MeterRecord): Promise<{ certPem: string; keyPem: string }> {
    const secret = crypto.randomBytes(18).toString('base64url');
    this.wallet.replaceRegistrationSecret(meterId, secret);
    let outcome: 'reset' | 'not-registered';
    try {
      outcome = await this.ca.allowEnrolmentAgain(rec.enrollmentId, secret);
      if (outcome === 'not-registered') {
        await this.ca.register({ meterId, zone: rec.zone, enrollmentId: rec.enrollmentId, secret, maxEnrollments: this.opts.maxEnrollments, affiliation: this.opts.affiliation });
      }
    } catch (e) {
      throw caProblem(e, 'the CA refused to enrol the meter, and letting it enrol again failed; retry this request');
    }
    let enrolled: { certPem: string; keyPem: string };
    try {
      enrolled = await this.ca.enroll(rec.enrollmentId, secret);
    } catch (e) {
      throw caProblem(e, 'the CA refused to enrol the meter even with a new secret (revoked at the CA?)');
    }
    this.opts.onEnrolAgain?.(meterId, outcome === 'reset' ? 'reset' : 'registered-again');
    return enrolled;
  }

  async revoke(meterId: string, reason: string): Promise<{ meter: MeterRecord; crlPem: string | null }> {
    const rec = this.wallet.get(meterId);
    if (!rec) throw new HttpProblem(404, 'meter-not-found', 'Unknown meter', `meter ${meterId} is not enrolled at this gateway`, { meterId });
    if (rec.status === 'REVOKED') throw new HttpProblem(409, 'meter-revoked', 'Meter already revoked', `meter ${meterId} was already revoked at ${new Date(rec.revokedAt!).toISOString()}`, { meterId });
    // Refuse the meter at the gateway first: from here on nothing is signed with its key.
    this.wallet.markRevoked(meterId, reason);
    let crlPem: string | null;
    try {
      ({ crlPem } = await this.ca.revoke(rec.enrollmentId, reason));
    } catch (e) {
      throw caProblem(e, 'the gateway now refuses the meter, but the CA revocation failed; retry this request');
    }
    if (crlPem) {
      fs.mkdirSync(this.opts.crlDir, { recursive: true });
      fs.writeFileSync(path.join(this.opts.crlDir, `${rec.mspId}.crl.pem`), crlPem);
    }
    return { meter: this.wallet.get(meterId)!, crlPem };
  }

  /** The identity to sign with for a meter, or a 403/404 problem saying why not. */
  actingIdentity(meterId: string): ActingIdentity {
    const rec = this.wallet.get(meterId);
    if (!rec || rec.status === 'REGISTERED') {
      throw new HttpProblem(404, 'meter-not-enrolled', 'Meter not enrolled', `meter ${meterId} has no enrolled identity at this gateway; an operator must enrol it first (POST /api/v1/meters)`, { meterId });
    }
    if (rec.status === 'REVOKED') {
      throw new HttpProblem(403, 'meter-revoked', 'Meter revoked', `meter ${meterId} was revoked${rec.revocationReason ? ` (${rec.revocationReason})` : ''}; the gateway no longer acts for it`, { meterId });
    }
    return { key: `meter:${meterId}`, mspId: rec.mspId, certPem: rec.certPem!, privateKeyPem: this.wallet.privateKeyPem(meterId) };
  }

  /**
   * The meter's key for signing its readings for a relayed batch (meters:relayReadings), or undefined
   * when the gateway may not (revoked, not enrolled) or the ledger does not hold the key of its current
   * certificate yet (the reading then goes as the meter's own transaction).
   */
  relayKey(meterId: string): { mspId: string; privateKeyPem: string } | undefined {
    const rec = this.wallet.get(meterId);
    if (!rec || rec.status !== 'ACTIVE' || !rec.certPem || !this.wallet.ledgerKeyRegistered(meterId, rec.certPem)) return undefined;
    return { mspId: rec.mspId, privateKeyPem: this.wallet.privateKeyPem(meterId) };
  }

  /** Active meters whose current key the ledger neither is known to hold nor refused for good (registerMeterKeys registers them). */
  unregisteredKeys(): string[] {
    return this.wallet.meterKeysUnregistered();
  }

  recordLedgerKey(meterId: string, certPem: string, txId: string): void {
    this.wallet.recordLedgerKey(meterId, certPem, txId);
  }

  recordLedgerKeyRefusal(meterId: string, certPem: string, refusal: { code: string; subCode: string | null; reason: string }): void {
    this.wallet.recordLedgerKeyRefusal(meterId, certPem, refusal);
  }

  /**
   * Where the meter's current key stands on the ledger (`GET /meters/{id}` `ledgerKey`): REGISTERED
   * (its readings may be relayed), PENDING (not yet; registered in the background) or REFUSED for good,
   * with the ledger's code. Null when the gateway holds no active key for the meter.
   */
  ledgerKeyStatus(meterId: string): { status: 'REGISTERED' | 'PENDING' | 'REFUSED'; code?: string; subCode?: string | null; reason?: string } | null {
    const rec = this.wallet.get(meterId);
    if (!rec || rec.status !== 'ACTIVE' || !rec.certPem) return null;
    if (this.wallet.ledgerKeyRegistered(meterId, rec.certPem)) return { status: 'REGISTERED' };
    const refusal = this.wallet.ledgerKeyRefusal(meterId, rec.certPem);
    if (refusal) return { status: 'REFUSED', code: refusal.code, subCode: refusal.subCode, reason: refusal.reason };
    return { status: 'PENDING' };
  }

  /** Active meters whose current key the ledger refused for good. */
  refusedKeysCount(): number {
    return this.wallet.meterKeysRefusedCount();
  }

  /** Meters this gateway holds an enrolled key for. */
  activeMeters(): Array<{ meterId: string; mspId: string; zone: string }> {
    return this.wallet.activeMeters();
  }

  /** One meter this gateway holds an enrolled key for (a keyed read, for the agents' per-act check). */
  activeMeter(meterId: string): { meterId: string; mspId: string; zone: string } | undefined {
    const r = this.wallet.get(meterId);
    return r && r.status === 'ACTIVE' ? { meterId: r.meterId, mspId: r.mspId, zone: r.zone } : undefined;
  }

  get(meterId: string): MeterRecord | undefined {
    return this.wallet.get(meterId);
  }

  recordLedgerEnrolment(meterId: string, txId: string): void {
    this.wallet.recordLedgerEnrolment(meterId, txId);
  }
}

function caProblem(e: unknown, prefix?: string): HttpProblem {
  const err = e instanceof CaError ? e : new CaError('other', (e as Error)?.message ?? String(e));
  const detail = `${prefix ? prefix + ': ' : ''}${err.message}`;
  if (err.kind === 'unavailable') return new HttpProblem(503, 'ca-unavailable', 'The Fabric CA is unavailable', detail, {}, { 'Retry-After': '5' });
  return new HttpProblem(502, 'ca-error', 'The Fabric CA refused the request', detail, { caErrors: err.caErrors });
}
