#!/usr/bin/env node
// The summary both tiers print once everything runs (network/scripts/start.sh for the devnet,
// network/fabric/network.sh up through lib/status.sh for Fabric): the gateways and their dashboards,
// where the API keys are, every node of network.json, the logs, and how to stop. One printer, so the
// two tiers cannot drift; the Fabric lines add what only that tier has (operations endpoints, the
// SmartBFT orderer nodes, the installed chaincode package ids).
//
//   summary.js <home> <headline> <logs line> [<lines before the stop hint>]
'use strict';
const path = require('node:path');

const [home, headline, logs, extra] = process.argv.slice(2);
if (!home || !headline || !logs) {
  console.error('usage: summary.js <home> <headline> <logs line> [<lines before the stop hint>]');
  process.exit(2);
}
const gateways = require(path.resolve(home, 'gateways.json')).gateways;
const net = require(path.resolve(home, 'network.json'));
const fabric = net.tier === 'fabric';

const out = ['', `GridLedger is running on ${headline} (home: ${home})`];
for (const g of gateways) {
  out.push(`  REST gateway     ${g.url}   (${g.org}; API docs: /openapi.json, readiness: /ready)`);
  out.push(`  dashboard        ${g.url}/  (open in a browser; sign in with an API key of ${g.org}, e.g. its operator key)`);
}
out.push(`  API keys         ${home}/gateway-<org>/credentials.json`);
for (const o of net.organizations) out.push(`  ${o.name.padEnd(16)} peer ${o.peer.endpoint}   CA ${o.ca.url}${fabric ? `   ops ${o.operations}` : ''}`);
if (fabric) for (const o of net.orderer.nodes) out.push(`  ${o.name.padEnd(16)} ${o.endpoint}   admin ${o.admin}   ops ${o.operations}   (SmartBFT)`);
// One chaincode server per peer org (network.yaml addressPortOffsets): a line per org, or one line when
// every org dials the same server (addressPortOffset). Fabric adds each org's installed package id.
for (const c of net.chaincodes || []) {
  const addrs = Object.entries(c.addresses || {});
  if (!fabric && new Set(addrs.map(([, a]) => a)).size === 1) out.push(`  chaincode ${c.name.padEnd(7)}  ${addrs[0][1]} (every org)`);
  else for (const [org, a] of addrs) out.push(`  chaincode ${c.name.padEnd(7)}  ${a} (${org})${fabric ? `   ${(c.packageIds || {})[org] || ''}` : ''}`);
}
out.push(`  logs             ${logs}`);
if (extra) out.push(extra.replace(/\n+$/, ''));
out.push('Stop everything with: npm run stop');
console.log(out.join('\n'));
