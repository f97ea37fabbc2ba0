/**
 * Identities named in network.json (docs/operations.md "network.json"): which organisation holds the
 * regulator, and an org user's certificate and key as the identity the gateway signs with.
 */
import fs from 'node:fs';
import type { ActingIdentity } from './ledger';
import { selectUser, type NetworkDescriptor, type OrgDescriptor } from './network';

/** The organisation that lists a regulator user (`regulator*`) in network.json, if any. */
export function regulatorHolder(net: NetworkDescriptor): string | undefined {
  return net.organizations.find((o) => selectUser(o, undefined, 'regulator') !== undefined)?.name;
}

export function userIdentity(org: OrgDescriptor, user: string, key: string): ActingIdentity {
  const u = org.users[user]!;
  return { key, mspId: org.mspId, certPem: fs.readFileSync(u.certPath, 'utf8'), privateKeyPem: fs.readFileSync(u.keyPath, 'utf8') };
}

