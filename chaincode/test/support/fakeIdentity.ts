/**
 * A ClientIdentity built from {mspId, id, attrs}, with the fabric-shim 2.5.8 Node conventions
 * (devnet-protocol.md §4.4): getID() = `x509::<subject>::<issuer>` in `/SN=value` form,
 * getAttributeValue() returns the string or null.
 */
import type { ClientIdentity } from 'fabric-shim-api';

export interface IdentitySpec {
  mspId: string;
  /** Enrollment id (the certificate CN). */
  id: string;
  attrs?: Record<string, string>;
  /** A real certificate for getIDBytes (support/certs.ts), where the test needs the caller's key. */
  certPem?: string;
}

export class FakeClientIdentity implements ClientIdentity {
  constructor(private readonly spec: IdentitySpec) {}

  getID(): string {
    const org = this.spec.mspId.replace(/MSP$/, '').toLowerCase();
    return `x509::/OU=client/OU=${org}/OU=department1/CN=${this.spec.id}::/C=US/ST=North Carolina/O=${org}.example.com/CN=ca.${org}.example.com`;
  }
  getMSPID(): string {
    return this.spec.mspId;
  }
  getIDBytes(): Uint8Array {
    if (this.spec.certPem !== undefined) return Buffer.from(this.spec.certPem);
    return Buffer.from(`-----BEGIN CERTIFICATE-----\n${this.spec.mspId}/${this.spec.id}\n-----END CERTIFICATE-----\n`);
  }
  getAttributeValue(attrName: string): string | null {
    const v = this.spec.attrs?.[attrName];
    return v === undefined ? null : v;
  }
  assertAttributeValue(attrName: string, attrValue: string): boolean {
    return this.getAttributeValue(attrName) === attrValue;
  }
}

export const identities = {
  meter(mspId: string, meterId: string, zone: string): IdentitySpec {
    return { mspId, id: meterId, attrs: { role: 'meter', meterId, zone } };
  },
  operator(mspId: string, name = 'operator1'): IdentitySpec {
    return { mspId, id: name, attrs: { role: 'operator' } };
  },
  regulator(mspId = 'RegulatorMSP', name = 'pra'): IdentitySpec {
    return { mspId, id: name, attrs: { role: 'regulator' } };
  },
};
