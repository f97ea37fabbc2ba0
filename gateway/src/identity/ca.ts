import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import FabricCAServices from 'fabric-ca-client';
import { User } from 'fabric-common';
import type { OrgDescriptor } from '../fabric/network';

export interface MeterRegistration {
  meterId: string;
  zone: string;
  enrollmentId: string;
  secret: string;
  maxEnrollments: number;
  affiliation: string;
}

/** What meter enrolment needs from the org's Fabric CA. Unit tests inject a fake. */
export interface MeterCa {
  readonly mspId: string;
  /** Registers the meter (type client, attrs role=meter, meterId, zone with ecert:true). Throws CaError kind 'already-registered' on a duplicate. */
  register(r: MeterRegistration): Promise<void>;
  /** Enrols with attribute requests for role, meterId and zone; returns PEM cert and PKCS#8 PEM key. */
  enroll(enrollmentId: string, secret: string): Promise<{ certPem: string; keyPem: string }>;
  /**
   * As the registrar, lets an identity enrol once more with a new secret (Fabric CA `PUT
   * /api/v1/identities/{id}`, `fabric-ca-client identity modify`): for an enrolment whose answer was lost.
   * Answers 'not-registered' when the CA has no such identity (its registration never reached the CA).
   */
  allowEnrolmentAgain(enrollmentId: string, secret: string): Promise<'reset' | 'not-registered'>;
  /** Revokes every certificate of the enrollment id and disables it; returns the new CRL (PEM). */
  revoke(enrollmentId: string, reason: string): Promise<{ crlPem: string | null }>;
  /** GET /api/v1/cainfo (no auth) within the deadline. */
  info(timeoutMs: number): Promise<{ caName: string; version: string }>;
}

export class CaError extends Error {
  constructor(
    readonly kind: 'already-registered' | 'auth' | 'unavailable' | 'other',
    message: string,
    readonly caErrors: Array<{ code: number; message: string }> = [],
  ) {
    super(message);
    this.name = 'CaError';
  }
}

function toCaError(e: unknown): CaError {
  const err = e as { errors?: Array<{ code: number; message: string }>; message?: string; code?: string };
  const caErrors = Array.isArray(err?.errors) ? err.errors : [];
  const msg = err?.message ?? String(e);
  if (caErrors.some((x) => x.code === 74) || /already registered/i.test(msg)) return new CaError('already-registered', msg, caErrors);
  if (caErrors.some((x) => x.code === 20 || x.code === 71)) return new CaError('auth', msg, caErrors);
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket hang up|Calling .* endpoint failed/i.test(msg)) return new CaError('unavailable', msg, caErrors);
  return new CaError('other', msg, caErrors);
}

/** fabric-ca-client against the org's CA described in network.json. */
export class FabricMeterCa implements MeterCa {
  readonly mspId: string;
  private readonly tlsRoot: string;
  private readonly ca: FabricCAServices;
  private registrar: Promise<User> | undefined;

  constructor(private readonly org: OrgDescriptor) {
    this.mspId = org.mspId;
    this.tlsRoot = fs.readFileSync(org.ca.tlsRootCertPath, 'utf8');
    this.ca = new FabricCAServices(org.ca.url, { trustedRoots: [this.tlsRoot], verify: true }, org.ca.caName);
  }

  /** Enrols the CA registrar once per process (the bootstrap admin has unlimited enrolments). */
  private getRegistrar(): Promise<User> {
    if (!this.registrar) {
      const r = this.org.ca.registrar;
      this.registrar = (async () => {
        const enrollment = await this.ca.enroll({ enrollmentID: r.enrollmentId, enrollmentSecret: r.enrollmentSecret });
        const user = new User(r.enrollmentId);
        await user.setEnrollment(enrollment.key, enrollment.certificate, this.org.mspId);
        return user;
      })();
      this.registrar.catch(() => {
        this.registrar = undefined;
      });
    }
    return this.registrar;
  }

  async register(r: MeterRegistration): Promise<void> {
    try {
      const registrar = await this.getRegistrar();
      await this.ca.register(
        {
          enrollmentID: r.enrollmentId,
          enrollmentSecret: r.secret,
          role: 'client',
          affiliation: r.affiliation,
          // set explicitly: fabric-ca-client would default to 1 (devnet-protocol.md §8.18)
          maxEnrollments: r.maxEnrollments,
          attrs: [
            { name: 'role', value: 'meter', ecert: true },
            { name: 'meterId', value: r.meterId, ecert: true },
            { name: 'zone', value: r.zone, ecert: true },
          ],
        },
        registrar,
      );
    } catch (e) {
      throw toCaError(e);
    }
  }

  async enroll(enrollmentId: string, secret: string): Promise<{ certPem: string; keyPem: string }> {
    try {
      const res = await this.ca.enroll({
        enrollmentID: enrollmentId,
        enrollmentSecret: secret,
        attr_reqs: [
          { name: 'role', optional: false },
          { name: 'meterId', optional: false },
          { name: 'zone', optional: false },
        ],
      });
      const keyPem = crypto.createPrivateKey(res.key.toBytes()).export({ format: 'pem', type: 'pkcs8' }).toString();
      return { certPem: res.certificate, keyPem };
    } catch (e) {
      throw toCaError(e);
    }
  }

  /**
   * Fabric CA keeps the number of enrolments an identity has made when its secret changes
   * (lib/serveridentities.go `getModifyReq` copies `state`; lib/server/user/user.go `Login` refuses once
   * state >= max_enrollments), and the registrar cannot read that number. Every earlier enrolment used
   * up at most the identity's max_enrollments (`LoginComplete` increments only below it), so raising it
   * by one leaves exactly one enrolment, usable only with the new secret. Needs the CA's own cap
   * (`registry.maxenrollments`) at -1, Fabric CA's default, or above the raised value.
   */
  async allowEnrolmentAgain(enrollmentId: string, secret: string): Promise<'reset' | 'not-registered'> {
    try {
      const registrar = await this.getRegistrar();
      const identities = this.ca.newIdentityService();
      let max: number;
      try {
        const got = await identities.getOne(enrollmentId, registrar);
        max = (got.result as { max_enrollments?: number } | undefined)?.max_enrollments ?? 0;
      } catch (e) {
        // 404 code 63 "Failed to get User" (lib/server/db/util/util.go GetError)
        if ((e as { errors?: Array<{ code: number }> })?.errors?.some((x) => x.code === 63)) return 'not-registered';
        throw e;
      }
      // affiliation '' (falsy) is not sent: only the secret and the maximum change
      await identities.update(enrollmentId, { enrollmentID: enrollmentId, affiliation: '', enrollmentSecret: secret, maxEnrollments: max === -1 ? -1 : Math.max(max, 0) + 1 }, registrar);
      return 'reset';
    } catch (e) {
      throw toCaError(e);
    }
  }

  async revoke(enrollmentId: string, reason: string): Promise<{ crlPem: string | null }> {
    try {
      const registrar = await this.getRegistrar();
      const res = (await this.ca.revoke({ enrollmentID: enrollmentId, reason, gencrl: true } as FabricCAServices.IRevokeRequest, registrar)) as {
        result?: { CRL?: string };
      };
      const crl = res?.result?.CRL;
      return { crlPem: crl ? Buffer.from(crl, 'base64').toString('utf8') : null };
    } catch (e) {
      throw toCaError(e);
    }
  }

  info(timeoutMs: number): Promise<{ caName: string; version: string }> {
    const url = new URL('/api/v1/cainfo', this.org.ca.url);
    url.searchParams.set('ca', this.org.ca.caName);
    return new Promise((resolve, reject) => {
      const req = https.get(url, { ca: this.tlsRoot, timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(body) as { success?: boolean; result?: { CAName?: string; Version?: string }; errors?: unknown };
            if (res.statusCode !== 200 || !parsed.success) return reject(new Error(`cainfo answered HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
            resolve({ caName: parsed.result?.CAName ?? '', version: parsed.result?.Version ?? '' });
          } catch (e) {
            reject(new Error(`cainfo answered unparsable body: ${(e as Error).message}`));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} within ${timeoutMs} ms`)));
      req.on('error', reject);
    });
  }
}
