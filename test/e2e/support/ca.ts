/**
 * Fabric CA helper over the unmodified fabric-ca-client, configured from network.json (CA URL,
 * CA name, TLS root, registrar). Same code against the devnet CA and a real Fabric CA.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import FabricCAServices from 'fabric-ca-client';
import { User, Utils } from 'fabric-common';
import type { OrgDescriptor } from './network';
import type { UserCredentials } from './gateway';

// fabric-ca-client abandons a request that has no answer within its 'connection-timeout' (3 s by
// default, fabric-ca-client config/default.json) with "socket hang up". On a loaded 2-core CI machine a
// CA (the devnet's shares its process with the ledger) can take longer; the tests wait as an operator's
// tool would, and a CA that does not answer at all still fails them.
// (setConfigSetting is in fabric-common's lib/Utils.js but not in its type declarations)
(Utils as unknown as { setConfigSetting(name: string, value: unknown): void }).setConfigSetting('connection-timeout', 30_000);

export interface EnrolledIdentity extends UserCredentials {
  enrollmentId: string;
  keyPem: string;
}

export class CaHelper {
  readonly ca: FabricCAServices;
  private registrar?: User;

  constructor(readonly org: OrgDescriptor) {
    const tlsRoot = readFileSync(org.ca.tlsRootCertPath, 'utf8');
    this.ca = new FabricCAServices(org.ca.url, { trustedRoots: [tlsRoot], verify: true }, org.ca.caName);
  }

  /** Enrols the bootstrap registrar once (every Fabric CA has one) and caches it as a fabric-common User. */
  async enrollRegistrar(): Promise<User> {
    if (this.registrar) return this.registrar;
    const { enrollmentId, enrollmentSecret } = this.org.ca.registrar;
    const enrollment = await this.ca.enroll({ enrollmentID: enrollmentId, enrollmentSecret });
    this.registrar = User.createUser(enrollmentId, enrollmentSecret, this.org.mspId, enrollment.certificate, enrollment.key.toBytes());
    return this.registrar;
  }

  /** Registers a fresh `client` identity with ecert attributes and enrols it (P§7.2, §7.4). */
  async registerAndEnroll(enrollmentId: string, attrs: Record<string, string>, type = 'client'): Promise<EnrolledIdentity> {
    const registrar = await this.enrollRegistrar();
    const secret = await this.ca.register(
      {
        enrollmentID: enrollmentId,
        role: type,
        affiliation: '',
        maxEnrollments: -1,
        attrs: Object.entries(attrs).map(([name, value]) => ({ name, value, ecert: true })),
      },
      registrar,
    );
    const enrollment = await this.ca.enroll({ enrollmentID: enrollmentId, enrollmentSecret: secret });
    const keyPem = enrollment.key.toBytes();
    return {
      enrollmentId,
      mspId: this.org.mspId,
      certPem: enrollment.certificate,
      keyPem,
      privateKey: createPrivateKey(keyPem),
    };
  }

  /** Revokes every certificate of `enrollmentId` with gencrl and returns the CA's new CRL as PEM. */
  async revokeWithCrl(enrollmentId: string): Promise<string> {
    const registrar = await this.enrollRegistrar();
    const response = (await this.ca.revoke({ enrollmentID: enrollmentId, gencrl: true } as FabricCAServices.IRevokeRequest, registrar)) as {
      result?: { CRL?: string; RevokedCerts?: unknown[] };
    };
    const crlB64 = response.result?.CRL;
    if (!crlB64) throw new Error(`CA ${this.org.ca.caName} returned no CRL for revoke(gencrl=true): ${JSON.stringify(response)}`);
    return Buffer.from(crlB64, 'base64').toString('utf8');
  }
}
