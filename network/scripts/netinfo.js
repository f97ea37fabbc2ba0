#!/usr/bin/env node
// Prints one value of the resolved network config (network.yaml with port offsets applied) for
// the shell scripts, using the wire contract's validated loader (packages/protocol/src/network.ts)
// so the scripts, the devnet and the Fabric tier agree.
'use strict';
const path = require('node:path');
const [file, portBase, query] = process.argv.slice(2);
const { loadNetworkConfig } = require(path.join(__dirname, '../../packages/protocol/dist/index.js'));
const cfg = loadNetworkConfig(file, portBase ? Number(portBase) : undefined);
let v = cfg;
for (const part of query.split('.')) {
  if (Array.isArray(v) && !/^\d+$/.test(part)) v = v.find((x) => x.name === part);
  else v = v == null ? undefined : v[part];
}
if (v === undefined) { console.error(`netinfo: no value at ${query}`); process.exit(1); }
process.stdout.write(typeof v === 'object' ? JSON.stringify(v) : String(v));
