/**
 * First-start generation and restart reuse of every org's crypto material, in fabric-samples
 * test-network's layout under `<home>/organizations/`:
 *
 *   {peer|orderer}Organizations/<domain>/
 *     ca/ca.<domain>-cert.pem, ca/priv_sk              signing CA (the MSP root)
 *     ca/tls/{server.crt,server.key,ca.crt}            TLS server cert of the org's Fabric CA endpoint
 *     tlsca/tlsca.<domain>-cert.pem, tlsca/priv_sk     TLS CA
 *     msp/{cacerts,tlscacerts,config.yaml}             org MSP (NodeOUs enabled)
 *     peers/peer0.<domain>/{msp,tls}                   peer orgs
 *     orderers/orderer.<domain>/{msp,tls}              orderer org
 *     users/Admin@<domain>/msp, users/<name>@<domain>/msp
 *
 * Identities are registered with and enrolled from the org's own FabricCa (ca/fabricCa.ts, the
 * class behind the REST server), so they carry exactly the OUs and attribute extension Fabric CA
 * writes. Material that exists is never regenerated; missing pieces (e.g. an identity newly added
 * to network.yaml) are created. Private keys are written 0600.
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SubjectAlternativeNameExtension, X509Certificate } from '@peculiar/x509';
import type { NetworkConfig } from '@gridledger/protocol';
import { caNameOf, caRegistryDir, defaultAffiliations, FabricCa } from '../ca/fabricCa';
import { CaError } from '../ca/fabricCa';
import { createCsr, createSelfSignedCa } from './certificates';
import { generateEcKeyPair } from './crypto';
import type { NodeOuRole } from './msp';

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export interface OrgMaterial {
  name: string;
  mspId: string;
  domain: string;
  caCertPem: string; // signing CA (root) — the MSP's root cert
  tlsCaCertPem: string; // TLS CA root
  peer: { identity: KeyPair; tls: KeyPair } | null; // null for the orderer org
  ca: { tls: KeyPair }; // TLS server cert of the org's Fabric CA endpoint
  users: Record<string, KeyPair>; // 'admin', 'operator1', 'regulator', ...
  dir: string; // <home>/organizations/peerOrganizations/<domain> (test-network layout)
  // ---- additions beyond the docs/devnet.md contract ----
  /** The signing CA's private key (the Fabric CA server signs with it). */
  caKeyPem: string;
  tlsCaKeyPem: string;
  /** The org's Fabric CA name (`ca-<org>`). */
  caName: string;
  /** Orderer node identity + TLS, only for the orderer org. */
  orderer: { identity: KeyPair; tls: KeyPair } | null;
  /** Absolute paths of the files behind `users` (for network.json). */
  userPaths: Record<string, { certPath: string; keyPath: string }>;
  /** Path of the TLS CA certificate (tlsRootCertPath in network.json). */
  tlsCaCertPath: string;
}

/** Host names every TLS server cert carries besides its own name. */
const LOCAL_HOSTS = ['localhost', '127.0.0.1'];

function writeFile(path: string, content: string, secret = false): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
  writeFileSync(path, content, { mode: secret ? 0o600 : 0o644 });
}

function readIfBoth(certPath: string, keyPath: string): KeyPair | null {
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
  }
  return null;
}

/** NodeOUs config.yaml as test-network writes it. */
export function nodeOusConfigYaml(caCertFile: string): string {
  const ou = (name: string, role: NodeOuRole) =>
    `  ${name}:\n    Certificate: cacerts/${caCertFile}\n    OrganizationalUnitIdentifier: ${role}\n`;
  return (
    'NodeOUs:\n  Enable: true\n' +
    ou('ClientOUIdentifier', 'client') +
    ou('PeerOUIdentifier', 'peer') +
    ou('AdminOUIdentifier', 'admin') +
    ou('OrdererOUIdentifier', 'orderer')
  );
}

interface OrgSpec {
  name: string;
  mspId: string;
  domain: string;
  /** network.yaml `host`: the address clients reach this org's servers at (a TLS SAN). */
  host: string;
  kind: 'peer' | 'orderer';
}

async function loadOrCreateRoot(dir: string, certFile: string, domain: string, cn: string): Promise<KeyPair> {
  const certPath = join(dir, certFile);
  const keyPath = join(dir, 'priv_sk');
  const existing = readIfBoth(certPath, keyPath);
  if (existing) return existing;
  const { privateKeyPem } = generateEcKeyPair();
  const certPem = await createSelfSignedCa({
    keyPem: privateKeyPem,
    subject: { country: 'US', province: 'North Carolina', locality: 'Durham', organization: domain, commonName: cn },
  });
  writeFile(keyPath, privateKeyPem, true);
  writeFile(certPath, certPem);
  return { certPem, keyPem: privateKeyPem };
}

/**
 * Registers (if needed) and enrols `id` at `ca`, returning a fresh key and its certificate.
 * The enrolment secret is derived from the CA's private key (HMAC), so a half-finished first
 * start can resume, yet nobody without the CA key can enrol these identities through the REST
 * CA (test-network's well-known `user1pw`-style secrets would allow exactly that).
 */
async function registerAndEnroll(
  ca: FabricCa,
  id: string,
  type: NodeOuRole,
  attrs: Record<string, string>,
  opts: { profile?: 'tls'; hosts?: string[] } = {},
): Promise<KeyPair> {
  const secret = createHmac('sha256', ca.signer.keyPem).update(`enrollment-secret:${id}`).digest('base64url').slice(0, 24);
  if (!ca.getIdentity(id)) {
    const admin = ca.getIdentity('admin');
    if (!admin) throw new Error(`CA ${ca.caName} has no bootstrap admin`);
    ca.register(admin, {
      id,
      type,
      secret,
      affiliation: '',
      maxEnrollments: -1,
      attrs: Object.entries(attrs).map(([name, value]) => ({ name, value, ecert: true })),
    });
  }
  const { privateKeyPem } = generateEcKeyPair();
  const csrPem = await createCsr(privateKeyPem, id);
  try {
    const res = await ca.enrollWithSecret(id, secret, {
      csrPem,
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.hosts ? { hosts: opts.hosts } : {}),
    });
    return { certPem: res.certPem, keyPem: privateKeyPem };
  } catch (err) {
    const detail = err instanceof CaError ? err.localMessage : (err as Error).message;
    throw new Error(`enrolling '${id}' at ${ca.caName} failed: ${detail}`);
  }
}

interface MspFiles {
  caCertFile: string;
  caCertPem: string;
  tlsCaCertFile: string;
  tlsCaCertPem: string;
}

/** Writes an msp/ folder (signcerts/keystore only when an identity is given). */
function writeMsp(mspDir: string, f: MspFiles, identity?: KeyPair): void {
  writeFile(join(mspDir, 'cacerts', f.caCertFile), f.caCertPem);
  writeFile(join(mspDir, 'tlscacerts', f.tlsCaCertFile), f.tlsCaCertPem);
  writeFile(join(mspDir, 'config.yaml'), nodeOusConfigYaml(f.caCertFile));
  if (identity) {
    writeFile(join(mspDir, 'signcerts', 'cert.pem'), identity.certPem);
    writeFile(join(mspDir, 'keystore', 'priv_sk'), identity.keyPem, true);
  }
}

/** An identity's msp/ folder: reused when signcerts + keystore exist, else enrolled and written. */
async function ensureMspIdentity(
  mspDir: string,
  files: MspFiles,
  ca: FabricCa,
  id: string,
  type: NodeOuRole,
  attrs: Record<string, string>,
): Promise<KeyPair> {
  const existing = readIfBoth(join(mspDir, 'signcerts', 'cert.pem'), join(mspDir, 'keystore', 'priv_sk'));
  if (existing) return existing;
  const kp = await registerAndEnroll(ca, id, type, attrs);
  writeMsp(mspDir, files, kp);
  return kp;
}

/** The DNS names and IP addresses a certificate's subjectAltName lists. */
function sanNames(certPem: string): Set<string> {
  const ext = new X509Certificate(certPem).getExtension(SubjectAlternativeNameExtension);
  return new Set((ext?.names.items ?? []).map((n) => n.value));
}

/**
 * A TLS server folder (server.crt, server.key, ca.crt) issued by the org's TLS CA. Reused on
 * restart unless it does not cover every name clients use: after network.yaml's `host` changed,
 * the same identity is enrolled again for the new names.
 */
async function ensureTls(tlsDir: string, tlsCa: FabricCa, tlsCaCertPem: string, name: string, address: string, type: NodeOuRole): Promise<KeyPair> {
  const hosts = [...new Set([name, address, ...LOCAL_HOSTS])];
  const existing = readIfBoth(join(tlsDir, 'server.crt'), join(tlsDir, 'server.key'));
  if (existing) {
    const covered = sanNames(existing.certPem);
    if (hosts.every((h) => covered.has(h))) return existing;
  }
  const kp = await registerAndEnroll(tlsCa, name, type, {}, { profile: 'tls', hosts });
  writeFile(join(tlsDir, 'ca.crt'), tlsCaCertPem);
  writeFile(join(tlsDir, 'server.crt'), kp.certPem);
  writeFile(join(tlsDir, 'server.key'), kp.keyPem, true);
  return kp;
}

async function ensureOne(config: NetworkConfig, home: string, spec: OrgSpec): Promise<OrgMaterial> {
  const base = join(home, 'organizations', spec.kind === 'peer' ? 'peerOrganizations' : 'ordererOrganizations', spec.domain);
  const caCertFile = `ca.${spec.domain}-cert.pem`;
  const tlsCaCertFile = `tlsca.${spec.domain}-cert.pem`;
  const root = await loadOrCreateRoot(join(base, 'ca'), caCertFile, spec.domain, `ca.${spec.domain}`);
  const tlsRoot = await loadOrCreateRoot(join(base, 'tlsca'), tlsCaCertFile, spec.domain, `tlsca.${spec.domain}`);
  const files: MspFiles = { caCertFile, caCertPem: root.certPem, tlsCaCertFile, tlsCaCertPem: tlsRoot.certPem };
  writeMsp(join(base, 'msp'), files);

  const caName = caNameOf(spec.name);
  const ca = FabricCa.open({
    caName,
    signer: root,
    registryDir: caRegistryDir(home, spec.name),
    affiliations: defaultAffiliations(spec.name),
  });
  const tlsCa = FabricCa.open({
    caName: `tls${caName}`,
    signer: tlsRoot,
    registryDir: caRegistryDir(home, spec.name, true),
    affiliations: defaultAffiliations(spec.name),
  });
  try {
    const caTls = await ensureTls(join(base, 'ca', 'tls'), tlsCa, tlsRoot.certPem, `ca.${spec.domain}`, spec.host, 'client');

    let peer: OrgMaterial['peer'] = null;
    let orderer: OrgMaterial['orderer'] = null;
    if (spec.kind === 'peer') {
      const host = `peer0.${spec.domain}`;
      const nodeDir = join(base, 'peers', host);
      peer = {
        identity: await ensureMspIdentity(join(nodeDir, 'msp'), files, ca, 'peer0', 'peer', {}),
        tls: await ensureTls(join(nodeDir, 'tls'), tlsCa, tlsRoot.certPem, host, spec.host, 'peer'),
      };
    } else {
      const host = `orderer.${spec.domain}`;
      const nodeDir = join(base, 'orderers', host);
      orderer = {
        identity: await ensureMspIdentity(join(nodeDir, 'msp'), files, ca, 'orderer', 'orderer', {}),
        tls: await ensureTls(join(nodeDir, 'tls'), tlsCa, tlsRoot.certPem, host, spec.host, 'orderer'),
      };
    }

    const users: Record<string, KeyPair> = {};
    const userPaths: OrgMaterial['userPaths'] = {};
    const addUser = async (key: string, folder: string, id: string, type: NodeOuRole, attrs: Record<string, string>) => {
      const mspDir = join(base, 'users', folder, 'msp');
      users[key] = await ensureMspIdentity(mspDir, files, ca, id, type, attrs);
      userPaths[key] = { certPath: join(mspDir, 'signcerts', 'cert.pem'), keyPath: join(mspDir, 'keystore', 'priv_sk') };
    };
    // Org admin as test-network registers it (`org1admin`, type admin).
    await addUser('admin', `Admin@${spec.domain}`, `${spec.name}admin`, 'admin', {});
    for (const ident of config.identities.filter((i) => i.org === spec.name)) {
      await addUser(ident.name, `${ident.name}@${spec.domain}`, ident.name, ident.type, ident.attrs);
    }

    return {
      name: spec.name,
      mspId: spec.mspId,
      domain: spec.domain,
      caCertPem: root.certPem,
      tlsCaCertPem: tlsRoot.certPem,
      peer,
      ca: { tls: caTls },
      users,
      dir: base,
      caKeyPem: root.keyPem,
      tlsCaKeyPem: tlsRoot.keyPem,
      caName,
      orderer,
      userPaths,
      tlsCaCertPath: join(base, 'tlsca', tlsCaCertFile),
    };
  } finally {
    ca.close();
    tlsCa.close();
  }
}

/**
 * Creates (first start) or loads (restart) the material of every utility org and of the orderer
 * org. Keyed by org name (`utility1`, ..., and `config.orderer.name`).
 */
export async function ensureOrgMaterial(config: NetworkConfig, home: string): Promise<Map<string, OrgMaterial>> {
  const specs: OrgSpec[] = [
    ...config.organizations.map((o) => ({ name: o.name, mspId: o.mspId, domain: o.domain, host: o.host, kind: 'peer' as const })),
    { name: config.orderer.name, mspId: config.orderer.mspId, domain: config.orderer.domain, host: config.orderer.host, kind: 'orderer' as const },
  ];
  const out = new Map<string, OrgMaterial>();
  // Sequential on purpose: key generation and signing are CPU work on a small shared machine.
  for (const spec of specs) out.set(spec.name, await ensureOne(config, home, spec));
  return out;
}
