/**
 * Shared setup of the conformance suites: network.json, one gateway connection per org (as that
 * org's operator), the `conformance` chaincode (test/conformance-chaincode) and a run id that
 * prefixes every key so the suites can re-run on a persistent network.
 */
import type { Contract, Network } from '@hyperledger/fabric-gateway';
import { chaincode, connectOrg, loadNetwork, newRunId, utf8, type Connection, type NetworkDescriptor, type OrgDescriptor } from '../support';

export const CHAINCODE = 'conformance';
/** Private collection of chaincode `conformance` (test-network-config/network.yaml): policy OR('Utility1MSP.member'). */
export const COLLECTION = 'utility1Only';
export const COLLECTION_MEMBER_MSP = 'Utility1MSP';
export const EVENT_NAME = 'conformance.emitted';

export interface Fixture {
  net: NetworkDescriptor;
  run: string;
  orgs: OrgDescriptor[];
  connection(org: OrgDescriptor): Connection;
  network(org: OrgDescriptor): Network;
  contract(org: OrgDescriptor): Contract;
  /** Evaluates and decodes UTF-8. */
  evaluate(org: OrgDescriptor, fn: string, ...args: string[]): Promise<string>;
  close(): void;
}

export function openFixture(): Fixture {
  const net = loadNetwork();
  chaincode(net, CHAINCODE); // fails clearly if the network does not host it
  const orgs = net.organizations.filter((o) => o.peer);
  const connections = new Map<string, Connection>();
  const connection = (o: OrgDescriptor): Connection => {
    let c = connections.get(o.name);
    if (!c) {
      c = connectOrg(o);
      connections.set(o.name, c);
    }
    return c;
  };
  const network = (o: OrgDescriptor): Network => connection(o).gateway.getNetwork(net.channel);
  const contract = (o: OrgDescriptor): Contract => network(o).getContract(CHAINCODE);
  return {
    net,
    run: newRunId(),
    orgs,
    connection,
    network,
    contract,
    async evaluate(o, fn, ...args) {
      return utf8(await contract(o).evaluateTransaction(fn, ...args));
    },
    close() {
      for (const c of connections.values()) c.close();
      connections.clear();
    },
  };
}

/** The org that is a member of `utility1Only`, and one that is not. */
export function collectionOrgs(f: Fixture): { member: OrgDescriptor; nonMember: OrgDescriptor } {
  const member = f.orgs.find((o) => o.mspId === COLLECTION_MEMBER_MSP);
  const nonMember = f.orgs.find((o) => o.mspId !== COLLECTION_MEMBER_MSP);
  if (!member || !nonMember) throw new Error(`network.json needs ${COLLECTION_MEMBER_MSP} and another org`);
  return { member, nonMember };
}
