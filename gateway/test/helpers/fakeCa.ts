import crypto from 'node:crypto';
import { CaError, type MeterCa, type MeterRegistration } from '../../src/identity/ca';

/**
 * Fabric CA stand-in with its register/enroll/revoke/identity-modify rules: duplicate id, secret, max
 * enrolments, revoked; a modify replaces the secret and max enrolments but keeps the count of
 * enrolments made (Fabric CA lib/serveridentities.go `getModifyReq`). `loseEnrolAnswers` makes the
 * next enrolments succeed at the CA (counted, certificate issued) while the caller gets a timeout, as
 * when the gateway's request timed out or it crashed before storing the answer.
 */
export class FakeCa implements MeterCa {
  readonly mspId = 'Utility1MSP';
  readonly registered = new Map<string, MeterRegistration & { enrolments: number; revoked: boolean }>();
  /** every certificate the CA issued, in order, answered or not */
  readonly issued: Array<{ enrollmentId: string; certPem: string; answered: boolean }> = [];
  /** identity modify calls: enrollment id and the max enrolments it set */
  readonly modified: Array<{ enrollmentId: string; maxEnrollments: number }> = [];
  loseEnrolAnswers = 0;
  /** the next registrations happen at the CA, the caller times out */
  loseRegisterAnswers = 0;
  up = true;

  async register(r: MeterRegistration): Promise<void> {
    if (this.registered.has(r.enrollmentId)) throw new CaError('already-registered', `Identity '${r.enrollmentId}' is already registered`, [{ code: 74, message: 'already registered' }]);
    this.registered.set(r.enrollmentId, { ...r, enrolments: 0, revoked: false });
    if (this.loseRegisterAnswers > 0) {
      this.loseRegisterAnswers--;
      throw new CaError('unavailable', 'Calling register endpoint failed, CONNECTION Timeout');
    }
  }

  async enroll(enrollmentId: string, secret: string): Promise<{ certPem: string; keyPem: string }> {
    const r = this.registered.get(enrollmentId);
    if (!r || r.secret !== secret || r.revoked || (r.maxEnrollments > 0 && r.enrolments >= r.maxEnrollments)) {
      throw new CaError('auth', 'fabric-ca request enroll failed with errors [[ { code: 20, message: "Authentication failure" } ]]', [{ code: 20, message: 'Authentication failure' }]);
    }
    r.enrolments++;
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const certPem = `-----BEGIN CERTIFICATE-----\nFAKE ${enrollmentId} role=meter meterId=${r.meterId} zone=${r.zone} serial=${this.issued.length + 1}\n-----END CERTIFICATE-----\n`;
    const answered = this.loseEnrolAnswers === 0;
    this.issued.push({ enrollmentId, certPem, answered });
    if (!answered) {
      this.loseEnrolAnswers--;
      throw new CaError('unavailable', 'Calling enroll endpoint failed, CONNECTION Timeout');
    }
    return { certPem, keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
  }

  async allowEnrolmentAgain(enrollmentId: string, secret: string): Promise<'reset' | 'not-registered'> {
    const r = this.registered.get(enrollmentId);
    if (!r) return 'not-registered';
    r.secret = secret;
    if (r.maxEnrollments > 0) r.maxEnrollments += 1; // 0 and -1: unlimited already
    this.modified.push({ enrollmentId, maxEnrollments: r.maxEnrollments });
    return 'reset';
  }

  async revoke(enrollmentId: string): Promise<{ crlPem: string | null }> {
    const r = this.registered.get(enrollmentId);
    if (!r) throw new CaError('other', 'not found');
    r.revoked = true;
    return { crlPem: '-----BEGIN X509 CRL-----\nFAKE\n-----END X509 CRL-----\n' };
  }

  async info(): Promise<{ caName: string; version: string }> {
    if (!this.up) throw new Error('connect ECONNREFUSED 127.0.0.1:17104');
    return { caName: 'ca-utility1', version: '1.5.21' };
  }
}
