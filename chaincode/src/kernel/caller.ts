/**
 * Who is calling, from `ctx.clientIdentity` only (never from arguments): the MSP ID, the X.509
 * identity (`x509::subject::issuer`) and the CA-issued certificate attributes `role`, `meterId`,
 * `zone` (devnet-protocol.md §4.4). A caller's ledger id is a pseudonym: a hash of its MSP ID and
 * certificate subject/issuer, so the ledger never shows the enrollment name, and a re-enrolled
 * certificate for the same subject keeps the same id.
 */
import type { Context } from 'fabric-contract-api';
import { createHash } from 'crypto';
import { fail, quote } from './errors';

export type Role = 'meter' | 'operator' | 'regulator';
const ROLES: readonly Role[] = ['meter', 'operator', 'regulator'];

/** meterId and zone appear in keys and events; keep them short, printable and key-safe. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export interface Caller {
  mspId: string;
  /** Fabric client id, `x509::<subject>::<issuer>`; kept off the ledger (it contains the CN). */
  x509Id: string;
  role: Role;
  /** Present for meters only. */
  meterId?: string;
  /** Present for meters only: the feeder/cluster used for clustered committee sampling. */
  zone?: string;
  /** Pseudonymous ledger id of this certificate subject. */
  participantId: string;
}

/** Pseudonym of a certificate subject: `p-` + first 32 hex of SHA-256(domain ‖ mspId ‖ x509 id). */
export function participantIdFor(mspId: string, x509Id: string): string {
  const h = createHash('sha256').update('gridledger/participant/v1\n').update(mspId).update('\n').update(x509Id);
  return `p-${h.digest('hex').slice(0, 32)}`;
}

export function getCaller(ctx: Context): Caller {
  const ci = ctx.clientIdentity;
  const mspId = ci.getMSPID();
  const x509Id = ci.getID();
  if (!mspId || !x509Id) fail('UNAUTHENTICATED', 'NO_IDENTITY', 'caller has no MSP ID or X.509 identity');
  const role = ci.getAttributeValue('role');
  if (role === null || role === undefined || role === '') {
    fail('UNAUTHENTICATED', 'NO_ROLE', 'caller certificate has no "role" attribute (expected meter, operator or regulator)');
  }
  if (!(ROLES as readonly string[]).includes(role)) {
    fail('UNAUTHENTICATED', 'UNKNOWN_ROLE', `caller certificate role ${quote(role)} is not one of ${ROLES.join(', ')}`);
  }
  const caller: Caller = { mspId, x509Id, role: role as Role, participantId: participantIdFor(mspId, x509Id) };
  if (role === 'meter') {
    const meterId = ci.getAttributeValue('meterId');
    const zone = ci.getAttributeValue('zone');
    if (!meterId || !NAME_PATTERN.test(meterId)) {
      fail('UNAUTHENTICATED', 'BAD_METER_ATTRIBUTE', 'meter certificate needs a "meterId" attribute matching ' + NAME_PATTERN.source);
    }
    if (!zone || !NAME_PATTERN.test(zone)) {
      fail('UNAUTHENTICATED', 'BAD_ZONE_ATTRIBUTE', 'meter certificate needs a "zone" attribute matching ' + NAME_PATTERN.source);
    }
    caller.meterId = meterId;
    caller.zone = zone;
  }
  return caller;
}

export function requireRole(caller: Caller, roles: readonly Role[], action: string): void {
  if (!roles.includes(caller.role)) {
    fail('FORBIDDEN', 'WRONG_ROLE', `${action} needs role ${roles.join(' or ')}; caller has role ${caller.role}`);
  }
}

export type MeterCaller = Caller & { role: 'meter'; meterId: string; zone: string };

export function requireMeter(ctx: Context, action: string): MeterCaller {
  const c = getCaller(ctx);
  requireRole(c, ['meter'], action);
  return c as MeterCaller;
}

/** An operator, optionally only of the given MSP (operators act for their own utility only). */
export function requireOperator(ctx: Context, action: string, ofMspId?: string): Caller {
  const c = getCaller(ctx);
  requireRole(c, ['operator'], action);
  if (ofMspId !== undefined && c.mspId !== ofMspId) {
    fail('FORBIDDEN', 'OTHER_UTILITY', `${action}: operators of ${c.mspId} may only act for their own utility, not ${ofMspId}`);
  }
  return c;
}

export function requireRegulator(ctx: Context, action: string): Caller {
  const c = getCaller(ctx);
  requireRole(c, ['regulator'], action);
  return c;
}

/** The owning utility's private data collection (network.yaml: `<MSPID>PrivateCollection`). */
export function privateCollectionOf(mspId: string): string {
  return `${mspId}PrivateCollection`;
}
