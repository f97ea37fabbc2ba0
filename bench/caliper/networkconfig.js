#!/usr/bin/env node
/**
 * Writes Caliper's Fabric network configuration (v2.0.0) and one connection profile per org from a
 * running network's $GRIDLEDGER_HOME/network.json, so the same benchmark runs against the devnet and
 * against Fabric. Each org's operator is the invoking identity; its connection profile names only
 * its own peer (the fabric-gateway binding talks to that peer's gateway, which plans endorsements).
 *
 *   node networkconfig.js <network.json> <outDir>
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [netFile, outDir] = process.argv.slice(2);
const net = JSON.parse(fs.readFileSync(netFile, 'utf8'));
fs.mkdirSync(outDir, { recursive: true });
const operator = (o) => Object.keys(o.users).find((u) => u.startsWith('operator')) ?? 'admin';

const organizations = net.organizations.map((o) => {
  const ccp = {
    name: `gridledger-${o.name}`,
    version: '1.0.0',
    client: { organization: o.name },
    organizations: { [o.name]: { mspid: o.mspId, peers: [o.peer.hostAlias] } },
    peers: {
      [o.peer.hostAlias]: {
        url: `grpcs://${o.peer.endpoint}`,
        tlsCACerts: { path: o.peer.tlsRootCertPath },
        grpcOptions: { 'ssl-target-name-override': o.peer.hostAlias, hostnameOverride: o.peer.hostAlias },
      },
    },
  };
  const ccpFile = path.join(outDir, `ccp-${o.name}.json`);
  fs.writeFileSync(ccpFile, JSON.stringify(ccp, null, 2) + '\n');
  const user = o.users[operator(o)];
  return {
    mspid: o.mspId,
    identities: { certificates: [{ name: `${operator(o)}`, clientPrivateKey: { path: user.keyPath }, clientSignedCert: { path: user.certPath } }] },
    connectionProfile: { path: ccpFile, discover: false },
  };
});

const config = [
  'name: gridledger',
  'version: "2.0.0"',
  'caliper:',
  '  blockchain: fabric',
  'channels:',
  `  - channelName: ${net.channel}`,
  '    contracts:',
  '      - id: conformance',
  'organizations:',
  ...organizations.map((o) => `  - ${JSON.stringify(o)}`),
  '',
].join('\n');
fs.writeFileSync(path.join(outDir, 'networkconfig.yaml'), config);
console.log(path.join(outDir, 'networkconfig.yaml'));
