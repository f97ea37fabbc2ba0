/**
 * Private-data access of the proposal creator (F core/common/privdata/store.go
 * RetrieveReadWritePermission, P§3.6): a member of the collection policy may read and write;
 * a non-member may read unless memberOnlyRead, write unless memberOnlyWrite.
 *
 * Membership: the creator satisfies one principal of the collection policy. Until the policy/
 * module lands, principals are taken from the policy text ('MSP.role' terms); role 'member'
 * matches any identity of the MSP, other roles must equal the creator's NodeOU role.
 */
import type { CollectionConfig } from '@gridledger/protocol';

export interface CreatorIdentity {
  mspId: string;
  role: string;
}

/** `C` is whatever identity type the endorser passes as ProposalContext.creator (e.g. identity/msp Identity). */
export type MembershipCheck<C extends CreatorIdentity = CreatorIdentity> = (creator: C, collection: CollectionConfig) => boolean;

export function principalsOfPolicyText(policy: string): Array<{ mspId: string; role: string }> {
  const out: Array<{ mspId: string; role: string }> = [];
  for (const m of policy.matchAll(/'([^'.]+)\.([A-Za-z]+)'/g)) out.push({ mspId: m[1]!, role: m[2]!.toLowerCase() });
  return out;
}

export const defaultMembership: MembershipCheck = (creator, collection) =>
  principalsOfPolicyText(collection.policy).some((p) => p.mspId === creator.mspId && (p.role === 'member' || p.role === creator.role));

export function accessOf(member: boolean, c: CollectionConfig): { read: boolean; write: boolean } {
  if (!c.memberOnlyRead && !c.memberOnlyWrite) return { read: true, write: true };
  if (member) return { read: true, write: true };
  return { read: !c.memberOnlyRead, write: !c.memberOnlyWrite };
}
