import crypto from 'node:crypto';
import { CaError, type MeterCa, type MeterRegistration } from '../../src/identity/ca';

/** Fabric CA stand-in with its register/enroll/revoke rules (duplicate id, secret, max enrolments, revoked). */
export class FakeCa implements MeterCa {
  readonly mspId = 'Utility1MSP';
  readonly registered = new Map<string, MeterRegistration & { enrolments: number; revoked: boolean }>();
  up = true;

  async register(r: MeterRegistration): Promise<void> {
    if (this.registered.has(r.enrollmentId)) throw new CaError('already-registered', `Identity '${r.enrollmentId}' is already registered`, [{ code: 74, message: 'already registered' }]);
    this.registered.set(r.enrollmentId, { ...r, enrolments: 0, revoked: false });
  }

  async enroll(enrollmentId: string, secret: string): Promise<{ certPem: string; keyPem: string }> {
    const r = this.registered.get(enrollmentId);
    if (!r || r.secret !== secret || r.revoked || (r.maxEnrollments > 0 && r.enrolments >= r.maxEnrollments)) {
      throw new CaError('auth', 'fabric-ca request enroll failed with errors [[ { code: 20, message: "Authentication failure" } ]]', [{ code: 20, message: 'Authentication failure' }]);
    }
    r.enrolments++;
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return {
      certPem: `-----BEGIN CERTIFICATE-----\nFAKE ${enrollmentId} role=meter meterId=${r.meterId} zone=${r.zone}\n-----END CERTIFICATE-----\n`,
      keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    };
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
