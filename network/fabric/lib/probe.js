#!/usr/bin/env node
/*
 * Readiness probe of network/fabric/network.sh: for every org and every chaincode in
 * <home>/network.json, asks that org's peer gateway to ENDORSE (never submit) the contract API's
 * built-in `org.hyperledger.fabric:GetMetadata` as the org's admin. That succeeds (or fails inside
 * the chaincode, which proves the same) only when the gateway can plan an endorsement that satisfies
 * the chaincode's policy across orgs (discovery knows every peer, its height and its chaincodes) and
 * the peer reaches the chaincode server — the readiness the suites need. Nothing reaches the ledger. Exit 0 = ready; 1 prints why not.
 *
 *   probe.js <home>
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createPrivateKey } = require('node:crypto');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const gwPath = require.resolve('@hyperledger/fabric-gateway', { paths: [path.join(REPO_ROOT, 'test', 'e2e'), REPO_ROOT] });
const { connect, signers } = require(gwPath);
const { loadNetworkJson } = require(path.join(REPO_ROOT, 'packages', 'protocol', 'dist', 'index.js'));
// the @grpc/grpc-js copy fabric-gateway itself loads (its error classes are checked by instanceof)
const grpc = require(require.resolve('@grpc/grpc-js', { paths: [path.dirname(gwPath)] }));

async function main() {
  const home = process.argv[2];
  const net = loadNetworkJson(path.join(home, 'network.json')); // validated against the protocol's schema
  for (const org of net.organizations) {
    const client = new grpc.Client(org.peer.endpoint, grpc.credentials.createSsl(fs.readFileSync(org.peer.tlsRootCertPath)), {
      'grpc.ssl_target_name_override': org.peer.hostAlias,
    });
    const user = org.users.admin;
    const gateway = connect({
      client,
      identity: { mspId: org.mspId, credentials: fs.readFileSync(user.certPath) },
      signer: signers.newPrivateKeySigner(createPrivateKey(fs.readFileSync(user.keyPath))),
      endorseOptions: () => ({ deadline: Date.now() + 15000 }),
    });
    try {
      for (const cc of net.chaincodes) {
        const contract = gateway.getNetwork(net.channel).getContract(cc.name);
        await contract.newProposal('org.hyperledger.fabric:GetMetadata').endorse();
      }
    } catch (err) {
      // A chaincode-level error (status 500 from the chaincode) still proves the point: the gateway
      // planned the endorsement and a peer ran the chaincode. GetMetadata of fabric-contract-api 2.5.8
      // fails inside some contracts ("classToPlain is not a function").
      if (err.details && err.details.length > 0 && err.details.every((d) => /^chaincode response \d+/.test(d.message))) continue;
      const details = (err.details || []).map((d) => `${d.address}: ${d.message}`).join('; ');
      throw new Error(`${org.name}: ${err.message}${details ? ` (${details})` : ''}`);
    } finally {
      gateway.close();
      client.close();
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`not ready: ${err.message}\n`);
    process.exit(1);
  },
);
