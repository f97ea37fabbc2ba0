// @ts-check
/**
 * Where Fabric's binaries are, found the way the project finds them: network/scripts/lib.sh
 * `find_fabric_bin` ($FABRIC_BIN, then PATH, then the per-user cache), called rather than copied.
 * CommonJS so that jest.config.js can decide with it which suites can run (conformance/peercli).
 */
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const LIB_SH = path.resolve(__dirname, '..', '..', '..', 'network', 'scripts', 'lib.sh');

/** @returns {string | undefined} the directory holding peer, orderer and osnadmin, if any */
function findFabricBin() {
  try {
    const out = execFileSync('bash', ['-c', 'source "$1" && find_fabric_bin', 'bash', LIB_SH], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** What a run without the binaries says instead of running the `peer` CLI suite. */
const PEER_CLI_NOT_RUN =
  'conformance/peercli.test.ts NOT RUN: no Fabric peer binary in $FABRIC_BIN, on PATH or in ' +
  '~/.cache/gridledger/fabric-3.1.5/bin (network/scripts/lib.sh find_fabric_bin); set FABRIC_BIN to run it';

module.exports = { findFabricBin, PEER_CLI_NOT_RUN };
