#!/usr/bin/env node
/*
 * Helper of network/fabric/network.sh: everything that is easier in JavaScript than in shell.
 *
 *   fabric.js env            <network.yaml> <portBase> <home>   shell assignments (names, ports, paths)
 *   fabric.js render         <network.yaml> <portBase> <home> <fabricCfgDir> <buildersDir>
 *                            writes core.yaml per peer, orderer.yaml per orderer, configtx.yaml,
 *                            NodeOU config.yaml per MSP, collections_config.json per chaincode + connection.json per chaincode and org
 *   fabric.js network-json   <network.yaml> <portBase> <home> <networkShPath>
 *                            writes <home>/network.json (the protocol's NetworkJson, tier "fabric"; schema-checked)
 *   fabric.js crl-update     <config.json> <mspId> <crlPemFile> <out.json>
 *                            adds a CRL to an org's MSP in a decoded channel config (configtxlator JSON)
 *   fabric.js wrap-update    <update.json> <channel> <out.json>      config update → envelope JSON
 *   fabric.js consenters-update <network.yaml> <portBase> <home> <config.json> <out.json>
 *                            makes a decoded channel config name the orderers of <home>/orderers
 *   fabric.js org-add        <network.yaml> <portBase> <home> <name> <host|""> <out.yaml>
 *   fabric.js org-remove     <network.yaml> <portBase> <home> <name> <out.yaml>
 *                            the consortium's network.yaml with a utility added / removed (add-org, remove-org)
 *   fabric.js org-join-update  <config.json> <mspId> <printOrg.json> <anchorHost> <anchorPort> <out.json>
 *   fabric.js org-leave-update <config.json> <mspId> <out.json>
 *                            a decoded channel config with the application org added / removed
 *   fabric.js org-in-channel <config.json> → the application orgs' MSP IDs, one a line
 *
 * Ports: network.yaml gives peers, CAs, operations, chaincodes and the gateway. What a real network
 * needs beyond that is derived from portBase with the offsets below (documented in docs/operations.md):
 *   orderer N (1..9): listen portBase+20+N, admin (osnadmin) portBase+30+N, operations portBase+40+N
 *   CA operations:    caPort+1 (utility CAs) — the orderer CA: portBase+5
 *   peer chaincode listener: peerPort+1 (ccaas does not use it, but the peer always binds it)
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const YAML = require(require.resolve('yaml', { paths: [path.join(REPO_ROOT, 'packages', 'protocol'), REPO_ROOT] }));
// The wire contract's network.yaml loader and network.json schema (packages/protocol/src/network.ts, built by npm run build).
const protocol = require(path.join(REPO_ROOT, 'packages', 'protocol', 'dist', 'index.js'));

// Every node listens on, and is reached at, its organisation's `host` from network.yaml (default
// 127.0.0.1): one org per host in production, distinct loopback addresses to try that on one machine.
// The orderers: ids 1..4 at creation; `network.sh add-orderer` / `remove-orderer` change the set, kept
// in <home>/orderers (one line of ids). An id is never reused (it is the SmartBFT consenter id).
const INITIAL_ORDERERS = [1, 2, 3, 4];
const MAX_ORDERER_ID = 9; // ports portBase+20+id, +30+id, +40+id stay below the next block of offsets
const OFFSETS = { ordererListen: 20, ordererAdmin: 30, ordererOps: 40, ordererCaOps: 5 };

function loadConfig(file, portBase) {
  return protocol.loadNetworkConfig(file, portBase ? Number(portBase) : undefined);
}

function ordererIds(home) {
  const file = path.join(home, 'orderers');
  if (!fs.existsSync(file)) return INITIAL_ORDERERS;
  const ids = fs.readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  if (ids.length === 0 || ids.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_ORDERER_ID)) {
    throw new Error(`${file}: expected orderer ids 1..${MAX_ORDERER_ID}, got "${ids.join(' ')}"`);
  }
  return ids;
}

/** Every name, port and path of the network, resolved. */
function layout(cfgFile, portBase, home) {
  const cfg = loadConfig(cfgFile, portBase);
  const B = cfg.portBase;
  const org = (o) => {
    const dir = path.join(home, 'organizations', 'peerOrganizations', o.domain);
    const peerHost = `peer0.${o.domain}`;
    return {
      name: o.name, mspId: o.mspId, domain: o.domain, dir, addr: o.host,
      caName: `ca-${o.name}`, caPort: o.caPort, caOpsPort: o.caPort + 1, caHome: path.join(home, 'fabric-ca', o.name),
      caCert: path.join(home, 'fabric-ca', o.name, 'ca-cert.pem'),
      peer: {
        name: peerHost, host: peerHost, port: o.peerPort, ccPort: o.peerPort + 1, opsPort: o.opsPort,
        dir: path.join(dir, 'peers', peerHost), cfgDir: path.join(home, 'config', peerHost), dataDir: path.join(home, 'data', peerHost),
      },
      adminMsp: path.join(dir, 'users', `Admin@${o.domain}`, 'msp'),
    };
  };
  const orgs = cfg.organizations.map(org);
  const od = cfg.orderer.domain;
  const ordererOrg = {
    name: cfg.orderer.name, mspId: cfg.orderer.mspId, domain: od, addr: cfg.orderer.host,
    dir: path.join(home, 'organizations', 'ordererOrganizations', od),
    caName: `ca-${cfg.orderer.name}`, caPort: cfg.orderer.caPort, caOpsPort: B + OFFSETS.ordererCaOps,
    caHome: path.join(home, 'fabric-ca', cfg.orderer.name), caCert: path.join(home, 'fabric-ca', cfg.orderer.name, 'ca-cert.pem'),
  };
  ordererOrg.adminMsp = path.join(ordererOrg.dir, 'users', `Admin@${od}`, 'msp');
  ordererOrg.adminTls = path.join(ordererOrg.dir, 'users', `Admin@${od}`, 'tls');
  const orderers = [];
  for (const n of ordererIds(home)) {
    const host = `orderer${n}.${od}`;
    orderers.push({
      id: n, name: `orderer${n}`, host, addr: cfg.orderer.host, port: B + OFFSETS.ordererListen + n, adminPort: B + OFFSETS.ordererAdmin + n,
      opsPort: B + OFFSETS.ordererOps + n, dir: path.join(ordererOrg.dir, 'orderers', host),
      cfgDir: path.join(home, 'config', `orderer${n}`), dataDir: path.join(home, 'data', `orderer${n}`),
    });
  }
  const chaincodes = cfg.chaincodes.map((c) => ({ ...c, dir: path.join(home, 'chaincode', c.name) }));
  return { cfg, home, portBase: B, channel: cfg.channel, orgs, ordererOrg, orderers, chaincodes, gatewayPort: cfg.gateway.port };
}

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const ident = (s) => String(s).replace(/[^A-Za-z0-9_]/g, '_');

function envCommand(L) {
  const out = [];
  const set = (k, v) => out.push(`${k}=${shq(v)}`);
  set('CHANNEL', L.channel);
  set('PORT_BASE', L.portBase);
  set('GATEWAY_PORT', L.gatewayPort);
  const cas = [L.ordererOrg, ...L.orgs];
  set('CAS', cas.map((c) => ident(c.name)).join(' '));
  for (const c of cas) {
    const p = `CA_${ident(c.name)}_`;
    set(`${p}NAME`, c.caName); set(`${p}PORT`, c.caPort); set(`${p}OPS`, c.caOpsPort); set(`${p}HOME`, c.caHome);
    set(`${p}ADDR`, c.addr); set(`${p}CERT`, c.caCert); set(`${p}DOMAIN`, c.domain); set(`${p}MSPID`, c.mspId); set(`${p}ORGDIR`, c.dir); set(`${p}ORG`, c.name);
  }
  set('ORDERER_ORG', ident(L.ordererOrg.name));
  set('PEER_ORGS', L.orgs.map((o) => ident(o.name)).join(' '));
  for (const o of L.orgs) {
    const p = `PEER_${ident(o.name)}_`;
    set(`${p}NAME`, o.peer.name); set(`${p}ADDR`, o.addr); set(`${p}PORT`, o.peer.port); set(`${p}OPS`, o.peer.opsPort); set(`${p}DIR`, o.peer.dir);
    set(`${p}CFG`, o.peer.cfgDir); set(`${p}DATA`, o.peer.dataDir); set(`${p}ADMINMSP`, o.adminMsp); set(`${p}MSPID`, o.mspId);
    set(`${p}TLSROOT`, o.caCert);
  }
  set('ORDERERS', L.orderers.map((o) => o.name).join(' '));
  for (const o of L.orderers) {
    const p = `ORD_${o.name}_`;
    set(`${p}HOST`, o.host); set(`${p}ADDR`, o.addr); set(`${p}PORT`, o.port); set(`${p}ADMIN`, o.adminPort); set(`${p}OPS`, o.opsPort);
    set(`${p}DIR`, o.dir); set(`${p}CFG`, o.cfgDir); set(`${p}DATA`, o.dataDir);
  }
  set('ORDERER_CA_CERT', L.ordererOrg.caCert);
  set('ORDERER_ADMIN_MSP', L.ordererOrg.adminMsp);
  set('ORDERER_ADMIN_TLS', L.ordererOrg.adminTls);
  // identities from network.yaml: org:name:type:attrs (attrs as fabric-ca-client --id.attrs, all ecert)
  set('IDENTITIES', L.cfg.identities.map((i) => {
    const attrs = Object.entries(i.attrs || {}).map(([k, v]) => `${k}=${v}:ecert`).join(',');
    return `${ident(i.org)}|${i.name}|${i.type}|${attrs}`;
  }).join(' '));
  set('CHAINCODES', L.chaincodes.map((c) => c.name).join(' '));
  for (const c of L.chaincodes) {
    const p = `CC_${ident(c.name)}_`;
    set(`${p}DIR`, c.dir);
    set(`${p}POLICY`, c.endorsementPolicy);
    // each org's server (network.yaml addressPortOffsets), or one that every org dials (PERORG=0)
    set(`${p}PERORG`, c.perOrg ? 1 : 0);
    for (const o of L.orgs) set(`${p}${ident(o.name)}_ADDRESS`, c.addresses[o.name]);
  }
  process.stdout.write(out.join('\n') + '\n');
}

function write(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

function nodeOuConfig(caFile = 'cacerts/ca-cert.pem') {
  const ou = (name) => ({ Certificate: caFile, OrganizationalUnitIdentifier: name });
  return YAML.stringify({
    NodeOUs: {
      Enable: true,
      ClientOUIdentifier: ou('client'), PeerOUIdentifier: ou('peer'),
      AdminOUIdentifier: ou('admin'), OrdererOUIdentifier: ou('orderer'),
    },
  });
}

function setPath(obj, dotted, value) {
  const parts = dotted.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (o[p] == null || typeof o[p] !== 'object') o[p] = {};
    o = o[p];
  }
  o[parts[parts.length - 1]] = value;
}

function render(L, fabricCfgDir, buildersDir) {
  const coreTpl = fs.readFileSync(path.join(fabricCfgDir, 'core.yaml'), 'utf8');
  const ordTpl = fs.readFileSync(path.join(fabricCfgDir, 'orderer.yaml'), 'utf8');
  const batch = L.cfg.orderer.batch;

  // NodeOU config.yaml in every MSP folder that exists (org MSPs, nodes, users)
  for (const base of [L.ordererOrg.dir, ...L.orgs.map((o) => o.dir)]) {
    const walk = (d) => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const full = path.join(d, e.name);
        if (e.name === 'msp') write(path.join(full, 'config.yaml'), nodeOuConfig());
        else walk(full);
      }
    };
    walk(base);
  }

  for (const o of L.orgs) {
    const core = YAML.parse(coreTpl);
    const p = o.peer;
    const tls = path.join(p.dir, 'tls');
    const set = (k, v) => setPath(core, k, v);
    set('peer.id', p.name);
    set('peer.networkId', `gridledger-${L.portBase}`);
    set('peer.listenAddress', `${o.addr}:${p.port}`);
    set('peer.address', `${o.addr}:${p.port}`);
    set('peer.chaincodeListenAddress', `${o.addr}:${p.ccPort}`);
    set('peer.chaincodeAddress', `${o.addr}:${p.ccPort}`);
    set('peer.gossip.bootstrap', `${o.addr}:${p.port}`);
    set('peer.gossip.endpoint', `${o.addr}:${p.port}`);
    set('peer.gossip.externalEndpoint', `${o.addr}:${p.port}`);
    set('peer.gossip.useLeaderElection', false);
    set('peer.gossip.orgLeader', true);
    // faster re-discovery after a restart (defaults: 5 s alive, 25 s expiry, 25 s reconnect, 4 s state info); the
    // gateway can only plan endorsements across orgs once gossip membership is back
    set('peer.gossip.aliveTimeInterval', '1s');
    set('peer.gossip.aliveExpirationTimeout', '5s');
    set('peer.gossip.reconnectInterval', '1s');
    set('peer.gossip.publishStateInfoInterval', '1s');
    set('peer.gossip.requestStateInfoInterval', '1s');
    // How long a peer keeps trying to pull private data it is eligible for but did not receive before
    // it commits the block without it (and leaves it to the reconciler). Default 60 s: a block whose
    // transaction wrote an org's collection without that org's endorsement (e.g. an invalid write to
    // _implicit_org_<MSP> endorsed by another org) would hold that org's peer back a whole minute
    // (core.yaml peer.gossip.pvtData.pullRetryThreshold; seen in conformance/implicitcollections).
    set('peer.gossip.pvtData.pullRetryThreshold', '5s');
    set('peer.tls.enabled', true);
    set('peer.tls.clientAuthRequired', false);
    set('peer.tls.cert.file', path.join(tls, 'server.crt'));
    set('peer.tls.key.file', path.join(tls, 'server.key'));
    set('peer.tls.rootcert.file', path.join(tls, 'ca.crt'));
    set('peer.tls.clientRootCAs.files', [path.join(tls, 'ca.crt')]);
    set('peer.mspConfigPath', path.join(p.dir, 'msp'));
    set('peer.localMspId', o.mspId);
    set('peer.fileSystemPath', p.dataDir);
    set('peer.gateway.enabled', true);
    set('ledger.state.stateDatabase', 'goleveldb');
    set('ledger.snapshots.rootDir', path.join(p.dataDir, 'snapshots'));
    set('vm.endpoint', '');
    set('chaincode.externalBuilders', [{ name: 'ccaas_builder', path: path.join(buildersDir, 'ccaas'), propagateEnvironment: ['CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG'] }]);
    set('chaincode.startuptimeout', '60s');
    set('chaincode.keepalive', 0);
    set('operations.listenAddress', `${o.addr}:${p.opsPort}`);
    set('operations.tls.enabled', false);
    set('metrics.provider', 'prometheus');
    write(path.join(p.cfgDir, 'core.yaml'), YAML.stringify(core));
  }

  for (const n of L.orderers) {
    const oy = YAML.parse(ordTpl);
    const set = (k, v) => setPath(oy, k, v);
    const tls = path.join(n.dir, 'tls');
    set('General.ListenAddress', n.addr);
    set('General.ListenPort', n.port);
    set('General.TLS.Enabled', true);
    set('General.TLS.PrivateKey', path.join(tls, 'server.key'));
    set('General.TLS.Certificate', path.join(tls, 'server.crt'));
    set('General.TLS.RootCAs', [path.join(tls, 'ca.crt')]);
    set('General.TLS.ClientAuthRequired', false);
    // Cluster traffic (SmartBFT) shares the general listener; the node authenticates with its TLS cert.
    set('General.Cluster.ClientCertificate', path.join(tls, 'server.crt'));
    set('General.Cluster.ClientPrivateKey', path.join(tls, 'server.key'));
    set('General.Cluster.ListenPort', null);
    set('General.Cluster.ListenAddress', null);
    set('General.Cluster.ServerCertificate', null);
    set('General.Cluster.ServerPrivateKey', null);
    set('General.BootstrapMethod', 'none');
    set('General.LocalMSPDir', path.join(n.dir, 'msp'));
    set('General.LocalMSPID', L.ordererOrg.mspId);
    set('FileLedger.Location', n.dataDir);
    set('Consensus.WALDir', path.join(n.dataDir, 'wal'));
    set('Consensus.SnapDir', path.join(n.dataDir, 'snapshot'));
    set('Operations.ListenAddress', `${n.addr}:${n.opsPort}`);
    set('Operations.TLS.Enabled', false);
    set('Metrics.Provider', 'prometheus');
    set('Admin.ListenAddress', `${n.addr}:${n.adminPort}`);
    set('Admin.TLS.Enabled', true);
    set('Admin.TLS.PrivateKey', path.join(tls, 'server.key'));
    set('Admin.TLS.Certificate', path.join(tls, 'server.crt'));
    set('Admin.TLS.RootCAs', [path.join(tls, 'ca.crt')]);
    set('Admin.TLS.ClientAuthRequired', true);
    set('Admin.TLS.ClientRootCAs', [path.join(tls, 'ca.crt')]);
    set('ChannelParticipation.Enabled', true);
    write(path.join(n.cfgDir, 'orderer.yaml'), YAML.stringify(oy));
  }

  // configtx.yaml: one profile, the application channel with 4 SmartBFT consenters (no system channel)
  const orgPolicies = (msp, endorsement) => {
    const p = {
      Readers: { Type: 'Signature', Rule: endorsement ? `OR('${msp}.admin', '${msp}.peer', '${msp}.client')` : `OR('${msp}.member')` },
      Writers: { Type: 'Signature', Rule: endorsement ? `OR('${msp}.admin', '${msp}.client')` : `OR('${msp}.member')` },
      Admins: { Type: 'Signature', Rule: `OR('${msp}.admin')` },
    };
    if (endorsement) p.Endorsement = { Type: 'Signature', Rule: `OR('${msp}.peer')` };
    return p;
  };
  const ordererOrg = {
    Name: L.ordererOrg.mspId, ID: L.ordererOrg.mspId, MSPDir: path.join(L.ordererOrg.dir, 'msp'),
    Policies: orgPolicies(L.ordererOrg.mspId, false),
    OrdererEndpoints: L.orderers.map((n) => `${n.addr}:${n.port}`),
  };
  const appOrgs = L.orgs.map((o) => ({
    Name: o.mspId, ID: o.mspId, MSPDir: path.join(o.dir, 'msp'), Policies: orgPolicies(o.mspId, true),
    AnchorPeers: [{ Host: o.addr, Port: o.peer.port }],
  }));
  const implicit = (rule) => ({ Type: 'ImplicitMeta', Rule: rule });
  const timeout = `${batch.timeoutMs}ms`;
  const configtx = {
    Organizations: [ordererOrg, ...appOrgs],
    Profiles: {
      EnergyChannel: {
        Capabilities: { V3_0: true },
        Policies: { Readers: implicit('ANY Readers'), Writers: implicit('ANY Writers'), Admins: implicit('MAJORITY Admins') },
        Orderer: {
          OrdererType: 'BFT',
          BatchTimeout: timeout,
          BatchSize: { MaxMessageCount: batch.maxMessageCount, AbsoluteMaxBytes: '10 MB', PreferredMaxBytes: '2 MB' },
          SmartBFT: {
            RequestBatchMaxCount: batch.maxMessageCount,
            RequestBatchMaxBytes: 10485760,
            RequestBatchMaxInterval: timeout,
            IncomingMessageBufferSize: 200,
            RequestPoolSize: 100000,
            RequestForwardTimeout: '2s',
            RequestComplainTimeout: '8s',
            RequestAutoRemoveTimeout: '3m',
            ViewChangeResendInterval: '2s',
            ViewChangeTimeout: '10s',
            LeaderHeartbeatTimeout: '10s',
            LeaderHeartbeatCount: 10,
            CollectTimeout: '1s',
            SyncOnStart: true,
            SpeedUpViewChange: false,
          },
          ConsenterMapping: L.orderers.map((n) => ({
            ID: n.id, Host: n.addr, Port: n.port, MSPID: L.ordererOrg.mspId,
            Identity: path.join(n.dir, 'msp', 'signcerts', 'cert.pem'),
            ClientTLSCert: path.join(n.dir, 'tls', 'server.crt'),
            ServerTLSCert: path.join(n.dir, 'tls', 'server.crt'),
          })),
          Organizations: [ordererOrg],
          Policies: {
            Readers: implicit('ANY Readers'), Writers: implicit('ANY Writers'), Admins: implicit('MAJORITY Admins'),
            BlockValidation: implicit('ANY Writers'),
          },
          Capabilities: { V2_0: true },
        },
        Application: {
          Organizations: appOrgs,
          Policies: {
            Readers: implicit('ANY Readers'), Writers: implicit('ANY Writers'), Admins: implicit('MAJORITY Admins'),
            LifecycleEndorsement: implicit('MAJORITY Endorsement'), Endorsement: implicit('MAJORITY Endorsement'),
          },
          Capabilities: { V2_5: true },
        },
      },
    },
  };
  write(path.join(L.home, 'config', 'configtx', 'configtx.yaml'), YAML.stringify(configtx, { aliasDuplicateObjects: false }));

  // chaincode-as-a-service package inputs and collection definitions
  const memberCount = L.orgs.length;
  for (const c of L.chaincodes) {
    // One ccaas package per org (lib/chaincode.sh deploy_chaincode): its connection.json names the
    // address of that org's chaincode server. Identical bytes when every org dials the same server.
    for (const o of L.orgs) {
      const src = path.join(c.dir, ident(o.name), 'src');
      write(path.join(src, 'connection.json'), JSON.stringify({ address: c.addresses[o.name], dial_timeout: '10s', tls_required: false }, null, 2) + '\n');
      write(path.join(src, 'metadata.json'), JSON.stringify({ type: 'ccaas', label: c.name }) + '\n');
    }
    const colls = c.collections.map((k) => {
      const out = {
        name: k.name, policy: k.policy, requiredPeerCount: 0, maxPeerCount: memberCount - 1,
        blockToLive: 0, memberOnlyRead: k.memberOnlyRead, memberOnlyWrite: k.memberOnlyWrite,
      };
      if (k.endorsementPolicy) out.endorsementPolicy = { signaturePolicy: k.endorsementPolicy };
      return out;
    });
    write(path.join(c.dir, 'collections_config.json'), JSON.stringify(colls, null, 2) + '\n');
  }
}

function networkJson(L, networkSh) {
  const read = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim() : undefined);
  const keyOf = (msp) => path.join(msp, 'keystore', 'priv_sk');
  const certOf = (msp) => path.join(msp, 'signcerts', 'cert.pem');
  const pids = path.join(L.home, 'pids');
  const ctl = (...args) => ['env', `GRIDLEDGER_HOME=${L.home}`, 'bash', networkSh, ...args];
  const doc = {
    tier: 'fabric',
    channel: L.channel,
    home: L.home,
    organizations: L.orgs.map((o) => {
      const users = { admin: { certPath: certOf(o.adminMsp), keyPath: keyOf(o.adminMsp) } };
      for (const i of L.cfg.identities.filter((x) => x.org === o.name)) {
        const msp = path.join(o.dir, 'users', `${i.name}@${o.domain}`, 'msp');
        users[i.name] = { certPath: certOf(msp), keyPath: keyOf(msp) };
      }
      return {
        name: o.name,
        mspId: o.mspId,
        peer: { endpoint: `${o.addr}:${o.peer.port}`, hostAlias: o.peer.host, tlsRootCertPath: o.caCert },
        ca: {
          url: `https://${o.addr}:${o.caPort}`, caName: o.caName, tlsRootCertPath: o.caCert,
          registrar: { enrollmentId: 'admin', enrollmentSecret: 'adminpw' },
        },
        users,
        operations: `http://${o.addr}:${o.peer.opsPort}`,
      };
    }),
    chaincodes: L.chaincodes.map((c) => {
      const packageIds = {};
      for (const o of L.orgs) {
        const id = read(path.join(c.dir, ident(o.name), 'package-id'));
        if (id) packageIds[o.name] = id;
      }
      return { name: c.name, addresses: { ...c.addresses }, packageIds };
    }),
    orderer: {
      // what the channel was created with (a later edit of network.yaml needs a channel config update)
      batch: fs.existsSync(path.join(L.home, 'channel-artifacts', 'batch.json'))
        ? JSON.parse(fs.readFileSync(path.join(L.home, 'channel-artifacts', 'batch.json'), 'utf8'))
        : { ...L.cfg.orderer.batch },
      consensus: 'BFT',
      mspId: L.ordererOrg.mspId,
      tlsRootCertPath: L.ordererOrg.caCert,
      nodes: L.orderers.map((n) => ({
        name: n.name, endpoint: `${n.addr}:${n.port}`, hostAlias: n.host, admin: `${n.addr}:${n.adminPort}`,
        operations: `http://${n.addr}:${n.opsPort}`, pidFile: path.join(pids, `${n.name}.pid`),
      })),
    },
    control: {
      // every process holding a copy of the ledger: the peers and the orderers
      ledgerPidFiles: [...L.orgs.map((o) => path.join(pids, `${o.peer.name}.pid`)), ...L.orderers.map((n) => path.join(pids, `${n.name}.pid`))],
      // each org's fabric-ca-server (cas.sh start_ca: start_process names it after the CA)
      caPidFiles: Object.fromEntries([L.ordererOrg, ...L.orgs].map((o) => [o.name, path.join(pids, `${o.caName}.pid`)])),
      restartLedger: ctl('restart-ledger'),
      applyCrl: ctl('apply-crl', '{mspId}', '{crlFile}'),
      // consenter set changes (Fabric only; test/e2e/fabric/orderers.test.ts)
      addOrderer: ctl('add-orderer'),
      removeOrderer: ctl('remove-orderer', '{name}'),
      // consortium membership changes (Fabric only; test/e2e/fabric/orgs.test.ts)
      addOrg: ctl('add-org', '{name}'),
      removeOrg: ctl('remove-org', '{name}'),
    },
  };
  const file = path.join(L.home, 'network.json');
  protocol.parseNetworkJson(doc, file); // what every reader validates it against: fail here, not in the gateway
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(doc, null, 2) + '\n');
  fs.renameSync(`${file}.tmp`, file);
  process.stdout.write(file + '\n');
}

function crlUpdate(configFile, mspId, crlFile, outFile) {
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const groups = config.channel_group.groups.Application.groups;
  const orgKey = Object.keys(groups).find((k) => groups[k].values?.MSP?.value?.config?.name === mspId);
  if (!orgKey) throw new Error(`MSP ${mspId} is not a member of the application channel`);
  const mspConfig = groups[orgKey].values.MSP.value.config;
  const pems = fs.readFileSync(crlFile, 'utf8').match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----\s*/g);
  if (!pems || pems.length === 0) throw new Error(`${crlFile} holds no PEM CRL`);
  const list = mspConfig.revocation_list || [];
  for (const pem of pems) {
    const b64 = Buffer.from(pem.trim() + '\n').toString('base64');
    if (!list.includes(b64)) list.push(b64);
  }
  mspConfig.revocation_list = list;
  fs.writeFileSync(outFile, JSON.stringify(config));
}

/**
 * Makes a decoded channel config (configtxlator JSON) name exactly the orderers of the layout
 * (<home>/orderers) as SmartBFT consenters: the consenter mapping (kept entries unchanged, new ones from
 * the node's enrolment certificate and TLS certificate), the orderer org's endpoints, and the
 * BlockValidation policy, which the orderer requires to be "quorum of the consenters' identities" for the
 * mapping it ships with (orderer/consensus/smartbft/configverifier.go checkConsentersMatchPolicy;
 * quorum = ceil((n + f + 1) / 2), common/policies ComputeBFTQuorum).
 */
function consentersUpdate(L, configFile, outFile) {
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const og = config.channel_group.groups.Orderer;
  const mapping = og.values.Orderers.value.consenter_mapping || [];
  const b64 = (f) => fs.readFileSync(f).toString('base64');
  const next = L.orderers.map((n) => mapping.find((c) => Number(c.id) === n.id) || {
    id: n.id, host: n.addr, port: n.port, msp_id: L.ordererOrg.mspId,
    identity: b64(path.join(n.dir, 'msp', 'signcerts', 'cert.pem')),
    client_tls_cert: b64(path.join(n.dir, 'tls', 'server.crt')),
    server_tls_cert: b64(path.join(n.dir, 'tls', 'server.crt')),
  });
  og.values.Orderers.value.consenter_mapping = next;
  const org = og.groups[L.ordererOrg.mspId];
  if (!org) throw new Error(`${L.ordererOrg.mspId} is not an orderer org of the channel`);
  org.values.Endpoints.value.addresses = L.orderers.map((n) => `${n.addr}:${n.port}`);
  const n = next.length, f = Math.floor((n - 1) / 3), quorum = Math.ceil((n + f + 1) / 2);
  og.policies.BlockValidation.policy = {
    type: 1,
    value: {
      identities: next.map((c) => ({
        principal: { id_bytes: c.identity, mspid: c.msp_id }, principal_classification: 'IDENTITY',
      })),
      rule: { n_out_of: { n: quorum, rules: next.map((_, i) => ({ signed_by: i })) } },
      version: 0,
    },
  };
  fs.writeFileSync(outFile, JSON.stringify(config));
  process.stdout.write(`${n} consenters (f = ${f}, quorum ${quorum}): ${next.map((c) => c.id).join(' ')}\n`);
}

function wrapUpdate(updateFile, channel, outFile) {
  const update = JSON.parse(fs.readFileSync(updateFile, 'utf8'));
  const env = { payload: { header: { channel_header: { channel_id: channel, type: 2 } }, data: { config_update: update } } };
  fs.writeFileSync(outFile, JSON.stringify(env));
}

// ── consortium membership (network.sh add-org / remove-org, lib/orgs.sh) ───────────────────────────
// The consortium's current membership is <home>/network.yaml: a copy of the network.yaml the network was
// created from, edited by add-org / remove-org with the yaml Document API (comments survive), and read
// instead of the original from then on (lib/common.sh load_settings).
const ORG_NAME = /^[a-z][a-z0-9]{0,30}$/;
const privateCollection = (mspId) => `${mspId}PrivateCollection`;
const quoted = (doc, s) => {
  if (s == null) return s;
  const n = doc.createNode(s);
  n.type = 'QUOTE_DOUBLE'; // as network.yaml writes policies
  return n;
};

function orgAdd(cfgFile, portBase, home, name, host, outFile) {
  if (!ORG_NAME.test(name)) throw new Error(`org name "${name}": lower-case letters and digits, starting with a letter`);
  const doc = YAML.parseDocument(fs.readFileSync(cfgFile, 'utf8'));
  const raw = doc.toJS();
  const orgs = raw.organizations;
  if (orgs.some((o) => o.name === name)) throw new Error(`${name} is already an organisation of ${cfgFile}`);
  const mspId = `${name[0].toUpperCase()}${name.slice(1)}MSP`;
  if (orgs.some((o) => o.mspId === mspId)) throw new Error(`MSP ID ${mspId} is taken`);
  const suffix = orgs[0].domain.split('.').slice(1).join('.');
  // the next free block of 100 port offsets (utility N: N01 peer, N04 CA, N43 operations, as network.yaml lays out)
  const block = Math.floor(Math.max(...orgs.map((o) => o.peerPortOffset)) / 100) * 100 + 100;
  const org = { name, mspId, domain: `${name}.${suffix}`, peerPortOffset: block + 1, caPortOffset: block + 4, opsPortOffset: block + 43 };
  if (host) org.host = host;
  doc.get('organizations').add(doc.createNode(org));
  const ident = doc.createNode({ org: name, name: `operator-${name}`, type: 'client', attrs: { role: 'operator' } });
  ident.flow = true;
  doc.get('identities').add(ident);
  // every chaincode that gives each utility its own collection (`<MSPID>PrivateCollection`, e.g. meter
  // readings) gets one for the new utility too, shaped like the others
  const msps = orgs.map((o) => o.mspId);
  raw.chaincodes.forEach((c, i) => {
    const cols = c.collections || [];
    const first = cols.find((k) => k.name === privateCollection(msps[0]));
    if (!first || !msps.every((m) => cols.some((k) => k.name === privateCollection(m)))) return;
    const swap = (s) => (s == null ? s : s.split(msps[0]).join(mspId));
    const col = { name: privateCollection(mspId), policy: quoted(doc, swap(first.policy)), memberOnlyRead: first.memberOnlyRead, memberOnlyWrite: first.memberOnlyWrite, endorsementPolicy: quoted(doc, swap(first.endorsementPolicy)) };
    doc.getIn(['chaincodes', i, 'collections']).add(doc.createNode(col));
  });
  // each org runs its own chaincode servers (addressPortOffsets, lib/chaincode.sh): the new utility's sit
  // at the same place in its block of 100 as the first utility's in its own (utility4: 490, 491)
  raw.chaincodes.forEach((c, i) => {
    const offs = c.addressPortOffsets;
    if (!offs || offs[orgs[0].name] === undefined) return;
    const off = block + (offs[orgs[0].name] - Math.floor(orgs[0].peerPortOffset / 100) * 100);
    doc.getIn(['chaincodes', i, 'addressPortOffsets']).set(name, off);
  });
  fs.writeFileSync(outFile, doc.toString({ lineWidth: 0 }));
  loadConfig(outFile, portBase); // the loader's checks (ports, names) before anything uses it
  process.stdout.write(`${name}: ${mspId}, peer offset ${org.peerPortOffset}, CA ${org.caPortOffset}, operations ${org.opsPortOffset}\n`);
}

/**
 * A removed utility leaves network.yaml, but not its collections: Fabric refuses a new chaincode
 * definition that drops a collection of the committed one, and checks collection member policies against
 * the channel's MSPs (core/chaincode/lifecycle; the second was not tried here: the retired policy below
 * names an MSP the channel has). Its collection stays, retired: readable and
 * writable by no peer (members: the orderer org's admins, which run no peer; endorsement by an orderer-org
 * peer, which does not exist). Its private data lived only on the removed org's peer.
 */
function orgRemove(cfgFile, portBase, home, name, outFile) {
  const doc = YAML.parseDocument(fs.readFileSync(cfgFile, 'utf8'));
  const raw = doc.toJS();
  const i = raw.organizations.findIndex((o) => o.name === name);
  if (i < 0) throw new Error(`${name} is not an organisation of ${cfgFile}`);
  const mspId = raw.organizations[i].mspId;
  const ordererMsp = raw.orderer.mspId;
  doc.deleteIn(['organizations', i]);
  for (let k = raw.identities.length - 1; k >= 0; k--) if (raw.identities[k].org === name) doc.deleteIn(['identities', k]);
  raw.chaincodes.forEach((c, ci) => {
    if (c.addressPortOffsets && name in c.addressPortOffsets) doc.deleteIn(['chaincodes', ci, 'addressPortOffsets', name]);
    (c.collections || []).forEach((k, ki) => {
      if (!(k.policy || '').includes(`'${mspId}.`) && !(k.endorsementPolicy || '').includes(`'${mspId}.`)) return;
      const node = doc.getIn(['chaincodes', ci, 'collections', ki]);
      node.set('policy', quoted(doc, `OR('${ordererMsp}.admin')`));
      node.set('memberOnlyRead', true);
      node.set('memberOnlyWrite', true);
      node.set('endorsementPolicy', quoted(doc, `OR('${ordererMsp}.peer')`));
      node.commentBefore = ` retired: ${mspId} left the channel (network.sh remove-org); Fabric never deletes a collection`;
    });
  });
  fs.writeFileSync(outFile, doc.toString({ lineWidth: 0 }));
  loadConfig(outFile, portBase);
  process.stdout.write(`${name} (${mspId}) removed from the network definition\n`);
}

function orgJoinUpdate(configFile, mspId, orgFile, anchorHost, anchorPort, outFile) {
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const group = JSON.parse(fs.readFileSync(orgFile, 'utf8'));
  // configtxgen -printOrg prints the org's MSP and policies; its anchor peer (how the other orgs' peers
  // find it through gossip) is set here so that one config update does both
  group.values = group.values || {};
  group.values.AnchorPeers = { mod_policy: 'Admins', value: { anchor_peers: [{ host: anchorHost, port: Number(anchorPort) }] }, version: '0' };
  config.channel_group.groups.Application.groups[mspId] = group;
  fs.writeFileSync(outFile, JSON.stringify(config));
}

function orgLeaveUpdate(configFile, mspId, outFile) {
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  delete config.channel_group.groups.Application.groups[mspId];
  fs.writeFileSync(outFile, JSON.stringify(config));
}

function orgsInChannel(configFile) {
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  process.stdout.write(Object.keys(config.channel_group.groups.Application.groups).sort().join('\n') + '\n');
}

function main() {
  const [cmd, ...a] = process.argv.slice(2);
  switch (cmd) {
    case 'env': return envCommand(layout(a[0], a[1], a[2]));
    case 'render': return render(layout(a[0], a[1], a[2]), a[3], a[4]);
    case 'network-json': return networkJson(layout(a[0], a[1], a[2]), a[3]);
    case 'crl-update': return crlUpdate(a[0], a[1], a[2], a[3]);
    case 'wrap-update': return wrapUpdate(a[0], a[1], a[2]);
    case 'consenters-update': return consentersUpdate(layout(a[0], a[1], a[2]), a[3], a[4]);
    case 'org-add': return orgAdd(a[0], a[1], a[2], a[3], a[4], a[5]);
    case 'org-remove': return orgRemove(a[0], a[1], a[2], a[3], a[4]);
    case 'org-join-update': return orgJoinUpdate(a[0], a[1], a[2], a[3], a[4], a[5]);
    case 'org-leave-update': return orgLeaveUpdate(a[0], a[1], a[2]);
    case 'org-in-channel': return orgsInChannel(a[0]);
    default:
      process.stderr.write('usage: fabric.js env|render|network-json|crl-update|wrap-update|consenters-update|org-add|org-remove|org-join-update|org-leave-update|org-in-channel ...\n');
      process.exit(2);
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`fabric.js: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
