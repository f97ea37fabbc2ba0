/**
 * Fabric's collection semantics over the network config. The config itself (network.yaml: its
 * types, JSON schema and loader) is the wire contract's (packages/protocol/src/network.ts), shared
 * with the Fabric tier's scripts.
 */
import type { CollectionConfig } from '@gridledger/protocol';

/** Fabric's name of an org's implicit collection (F core/common/privdata/implicitcollection: `_implicit_org_` + MSP id). */
export const IMPLICIT_COLLECTION_PREFIX = '_implicit_org_';

/**
 * The implicit private collection Fabric gives every chaincode for every application org of the
 * channel (F core/chaincode/lifecycle/deployedcc_infoprovider.go GenerateImplicitCollectionForOrg):
 * members = SignedByMspMember(org), neither memberOnlyRead nor memberOnlyWrite, so only that org's
 * peers store the values and every peer keeps the hashes. Its endorsement policy at validation is
 * the org's channel policy /Channel/Application/<org>/Endorsement (ImplicitCollectionEndorsementPolicyAsBytes),
 * which the Fabric tier defines as OR('<msp>.peer') (network/fabric/lib/fabric.js orgPolicies) and the
 * devnet uses directly; discovery plans with SignedByMspMember(org) (metadata_provider.go Metadata),
 * which the same org's peers satisfy.
 */
export function implicitCollectionForOrg(mspId: string): CollectionConfig {
  return {
    name: `${IMPLICIT_COLLECTION_PREFIX}${mspId}`,
    policy: `OR('${mspId}.member')`,
    memberOnlyRead: false,
    memberOnlyWrite: false,
    endorsementPolicy: `OR('${mspId}.peer')`,
  };
}

/**
 * The collection `name` of a chaincode whose explicit collections are `collections`: an explicit one,
 * else the implicit collection of the org it names. Like Fabric's CollectionInfo
 * (deployedcc_infoprovider.go), any `_implicit_org_<MSPID>` resolves, also for an MSP outside the
 * channel: reads find nothing and a write fails validation, its endorsement policy naming an org that
 * has no peer (Fabric: "no org found in channel with MSPID").
 */
export function findCollection(collections: readonly CollectionConfig[], name: string): CollectionConfig | undefined {
  const explicit = collections.find((c) => c.name === name);
  if (explicit) return explicit;
  if (name.startsWith(IMPLICIT_COLLECTION_PREFIX) && name.length > IMPLICIT_COLLECTION_PREFIX.length) {
    return implicitCollectionForOrg(name.slice(IMPLICIT_COLLECTION_PREFIX.length));
  }
  return undefined;
}
