#!/usr/bin/env bash
# Stops what start.sh started — by pid file only, never by process name — the community, then the gateway so it can
# drain in-flight work while the ledger is still up, then the ledger, then the chaincode servers.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop_home() {
  local home="$1" f
  [ -d "$home/pids" ] || return 0
  # the community first: it is a client of the gateways
  stop_pidfile "$home/pids/community.pid"
  if [ -f "$REPO_ROOT/network/fabric/network.sh" ] && [ -f "$home/.fabric-tier" ]; then
    GRIDLEDGER_HOME="$home" bash "$REPO_ROOT/network/fabric/network.sh" down
  fi
  # devnet.pid in the home is written by the devnet itself — also by one a test restarted (control.restartLedger).
  for f in "$home/pids/gateway.pid" "$home"/pids/gateway-*.pid "$home/pids/devnet.pid" "$home/devnet.pid" "$home"/pids/cc-*.pid; do
    stop_pidfile "$f"
  done
}

if [ -n "${GRIDLEDGER_HOME:-}" ]; then
  stop_home "$GRIDLEDGER_HOME"
else
  for h in "$REPO_ROOT"/.runtime/*/; do stop_home "${h%/}"; done
fi
