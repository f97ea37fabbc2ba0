import { loadNetworkJson, NetworkConfigError, type NetworkJson, type NetworkOrg } from '@gridledger/protocol';
import { ConfigError } from '../config';

/** The `network.json` descriptor written by the devnet and by the Fabric scripts: the protocol's `NetworkJson`. */
export type NetworkDescriptor = NetworkJson;
export type OrgDescriptor = NetworkOrg;

/** Reads and validates network.json (the protocol's schema); a problem is a gateway ConfigError naming the file. */
export function loadNetwork(file: string): NetworkDescriptor {
  try {
    return loadNetworkJson(file);
  } catch (e) {
    if (e instanceof NetworkConfigError) throw new ConfigError(e.problems.map((p) => `network descriptor ${file}: ${p}`));
    throw e;
  }
}

/** Finds the org by name or MSP ID. */
export function selectOrg(net: NetworkDescriptor, org: string, file = 'network.json'): OrgDescriptor {
  const found = net.organizations.find((o) => o.name === org || o.mspId === org);
  if (!found) {
    throw new ConfigError([
      `network.org "${org}" is not an organisation in ${file}; choose one of: ${net.organizations.map((o) => o.name).join(', ')}`,
    ]);
  }
  return found;
}

/** The operator user of an org: explicit name, else the first user whose name starts with "operator". */
export function selectUser(org: OrgDescriptor, wanted: string | undefined, prefix: string): string | undefined {
  if (wanted) {
    if (!org.users[wanted]) {
      throw new ConfigError([`user "${wanted}" is not listed for org ${org.name}; known users: ${Object.keys(org.users).join(', ')}`]);
    }
    return wanted;
  }
  return Object.keys(org.users).sort().find((u) => u.startsWith(prefix));
}
