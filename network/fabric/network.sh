#!/usr/bin/env bash
# The real network: Hyperledger Fabric 3.1.5, run natively — 3 utility orgs (a peer and a Fabric CA
# each), an orderer org (its CA and 4 SmartBFT orderers), channel `energy` created with osnadmin (no
# system channel), chaincode as a service, the REST gateway. Reads test-network-config/network.yaml
# like the devnet and writes the same <home>/network.json, so the gateway and every test run unchanged.
#
#   network.sh up        start what is not running (CAs → identities → orderers → channel → peers →
#                        chaincode → one REST gateway per utility org), waiting on health endpoints and real readiness
#   network.sh down      stop everything these scripts started (pid files only), gateways first
#   network.sh deploy    (re)package, install, approve, commit every chaincode; a change bumps the sequence
#   network.sh status    every process, its health, and the channel height on each node
#   network.sh logs [-f] [NAME]   the logs (NAME: ca-utility1, orderer2, peer0.utility1..., chaincode-gridledger, gateway-utility1...)
#   network.sh clean     down, then delete the home directory
#   network.sh add-orderer [ordererN]   enrol a SmartBFT orderer, add it to the consenters (channel config
#                        update signed by the orderer org's admin), start it, join it with osnadmin, wait until active
#   network.sh remove-orderer ordererN  take it out of the consenters, leave the channel, stop it
#                        (both refuse fewer than 4 consenters, or a change the running orderers cannot order)
#   GRIDLEDGER_NETNS=1 network.sh up    each org in its own network namespace at its network.yaml `host:`,
#                        only the documented ports reachable from the others (lib/netns.sh; root); down removes them
#   network.sh add-org <name> [host]   a utility joins: its CA, identities, peer (joins, catches up), the channel
#                        config update signed by a majority of the members' admins, new chaincode definitions
#                        with its collection, its REST gateway; <home>/network.yaml and network.json updated
#   network.sh remove-org <name>       it leaves: channel config update (majority), its processes stopped,
#                        chaincode definitions without it (refuses the regulator's org and fewer than 3 utilities)
#   internal (named in network.json control.*): restart-ledger, apply-crl <mspId> <crlFile>
#   internal (the orderer watchdog, lib/watchdog.js, started by up): restart-orderer ordererN
#
#   GRIDLEDGER_HOME (default .runtime/fabric), GRIDLEDGER_PORT_BASE, GRIDLEDGER_NETWORK_CONFIG,
#   FABRIC_BIN / FABRIC_CA_BIN / FABRIC_CFG_TEMPLATE / FABRIC_CCAAS_BUILDER — see docs/operations.md.
#
# This file is the dispatcher: each concern lives in its own file under lib/ (in the spirit of
# fabric-samples' test-network-nano-bash): common.sh (settings, processes), cas.sh (CAs, identities),
# orderers.sh, channel.sh (genesis block, joins, config updates), peers.sh, chaincode.sh (lifecycle,
# chaincode servers), gateways.sh, status.sh, orgs.sh (add-org, remove-org); binaries.sh finds the release binaries, fabric.js
# renders the configuration and network.json.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
FABRIC_DIR="$REPO_ROOT/network/fabric"
HELPER="$FABRIC_DIR/lib/fabric.js"
NETWORK_SH="$FABRIC_DIR/network.sh"
for f in binaries common cas orderers channel peers chaincode gateways status netns orgs; do
  # shellcheck disable=SC1090
  source "$FABRIC_DIR/lib/$f.sh"
done

CMD="${1:-help}"; [ $# -gt 0 ] && shift
H="${GRIDLEDGER_HOME:-$REPO_ROOT/.runtime/fabric}"
mkdir -p "$H" && H="$(cd "$H" && pwd)"
export GRIDLEDGER_HOME="$H"
MARKER="$H/.fabric-tier"
PIDS="$H/pids"; LOGS="$H/logs"
export FABRIC_LOGGING_SPEC="${FABRIC_LOGGING_SPEC:-INFO}"

all_names() { # every process name, in start order
  local c o org
  for c in $CAS; do v "CA_${c}_NAME"; echo; done
  for o in $ORDERERS; do echo "$o"; done
  for org in $PEER_ORGS; do v "PEER_${org}_NAME"; echo; done
}

cmd_up() {
  local c o org running=1 n
  load_settings
  for n in $(all_names); do alive "$PIDS/$n.pid" || running=0; done
  [ -n "$(gateway_orgs)" ] || running=0
  for n in $(gateway_orgs); do alive "$PIDS/gateway-$n.pid" || running=0; done
  for n in $CHAINCODES; do
    [ -n "$(chaincode_source_dir "$n")" ] || continue
    while read -r c _; do alive "$PIDS/cc-$c.pid" || running=0; done < <(chaincode_servers "$n")
  done
  if [ "$running" = 1 ] && [ -s "$H/network.json" ]; then
    log "already running (Fabric, home $H); stop it with: npm run stop"
    start_watchdog   # if it was stopped (start_process does nothing when it runs)
    print_summary; return 0
  fi
  log "tier: Fabric $FABRIC_VERSION (binaries: $FABRIC_BIN, CA: $FABRIC_CA_BIN; home $H, port base $PORT_BASE)"
  check_addresses
  if [ "${GRIDLEDGER_NETNS:-0}" = 1 ] || netns_enabled; then netns_up; fi   # each org in its own namespace (lib/netns.sh)
  rm -f "$H/network.json"
  for c in $CAS; do start_ca "$c"; done
  for c in $CAS; do wait_ca "$c"; done
  enroll_identities
  node "$HELPER" render "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$FABRIC_CFG_TEMPLATE" "$(dirname "$CCAAS_BUILDER")" ||
    die "rendering the node configuration failed"
  create_channel_block
  for o in $ORDERERS; do start_orderer "$o"; done
  for o in $ORDERERS; do wait_orderer "$o"; done
  join_orderers
  for org in $PEER_ORGS; do start_peer "$org"; done
  for org in $PEER_ORGS; do wait_peer "$org"; done
  join_peers
  deploy_all
  wait_endorsable
  run_gateways
  deprioritise_ledger "$H"
  start_watchdog
  print_summary
}

# The nodes' addresses (network.yaml `host`) are in their TLS certificates and in the channel's
# genesis block (consenters, orderer endpoints, anchor peers): they cannot change under an existing
# network without re-enrolment and a channel config update, so `up` refuses instead of half-working.
# (add-org / remove-org rewrite the list: lib/orgs.sh)
node_addresses() {
  local c o org
  for c in $CAS; do printf 'ca %s %s\n' "$c" "$(v "CA_${c}_ADDR")"; done
  for o in $ORDERERS; do printf 'orderer %s %s\n' "$o" "$(v "ORD_${o}_ADDR")"; done
  for org in $PEER_ORGS; do printf 'peer %s %s\n' "$org" "$(v "PEER_${org}_ADDR")"; done
}

check_addresses() {
  local now
  now="$(node_addresses)"
  if [ -s "$H/addresses" ]; then
    [ "$(cat "$H/addresses")" = "$now" ] ||
      die "the node addresses in $NETWORK_CONFIG (host:) changed since the network in $H was created:
$(diff <(cat "$H/addresses") <(printf '%s\n' "$now") | sed -n -e 's/^</  was:/p' -e 's/^>/  now:/p')
  certificates and the channel configuration name the old ones; run 'network/fabric/network.sh clean' (deletes this network) or restore them"
  else
    printf '%s\n' "$now" > "$H/addresses"
  fi
}


cmd_down() {
  [ -d "$PIDS" ] || { log "nothing to stop in $H"; return 0; }
  local f
  stop_pidfile "$PIDS/watchdog.pid"   # first: it must not restart an orderer being stopped
  for f in "$PIDS"/gateway-*.pid "$PIDS/gateway.pid"; do stop_pidfile "$f"; done   # gateway.pid: homes from before start_gateways
  for f in "$PIDS"/cc-*.pid; do stop_pidfile "$f"; done
  rm -f "$PIDS"/cc-*.id
  for f in "$PIDS"/peer*.pid; do stop_pidfile "$f"; done
  for f in "$PIDS"/orderer*.pid; do stop_pidfile "$f"; done
  for f in "$PIDS"/ca-*.pid; do stop_pidfile "$f"; done
  if [ -d "$H/netns" ]; then load_settings; netns_down; fi
}

cmd_restart_ledger() {
  load_settings
  local o org
  with_ledger_lock eval 'for o in $ORDERERS; do start_orderer "$o"; done'
  for o in $ORDERERS; do wait_orderer "$o"; done
  for o in $ORDERERS; do wait_for "$o channel $CHANNEL" 60 orderer_channel_active "$o" || fail_with_log "$o" "$o: channel not active"; done
  for org in $PEER_ORGS; do start_peer "$org"; done
  for org in $PEER_ORGS; do wait_peer "$org"; done
  wait_peers_caught_up
  wait_gossip
  node "$HELPER" network-json "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$NETWORK_SH" >/dev/null
  wait_endorsable
  deprioritise_ledger "$H" keep
  start_watchdog
}

cmd_clean() {
  cmd_down
  case "$H" in
    /|"$HOME"|"$REPO_ROOT") die "refusing to delete $H" ;;
  esac
  if [ -f "$MARKER" ] || [ -z "$(ls -A "$H")" ]; then rm -rf "$H"; log "deleted $H"
  else die "$H has no .fabric-tier marker; not deleting it"; fi
}

case "$CMD" in
  up) cmd_up ;;
  down) cmd_down ;;
  deploy) load_settings; deploy_all; wait_endorsable; log "deployed: $(node -e 'console.log(require(process.argv[1]).chaincodes.map(c=>c.name+"="+[...new Set(Object.values(c.packageIds||{}))].join(",")).join(" "))' "$H/network.json")" ;;
  status) cmd_status ;;
  logs) cmd_logs "$@" ;;
  clean) cmd_clean ;;
  restart-ledger) cmd_restart_ledger ;;
  restart-orderer) cmd_restart_orderer "${1:-}" ;;
  apply-crl) cmd_apply_crl "${1:-}" "${2:-}" ;;
  add-orderer) cmd_add_orderer "${1:-}" ;;
  remove-orderer) cmd_remove_orderer "${1:-}" ;;
  add-org) cmd_add_org "${1:-}" "${2:-}" ;;
  remove-org) cmd_remove_org "${1:-}" ;;
  help|-h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command $CMD (up|down|deploy|status|logs|clean|add-orderer|remove-orderer|add-org|remove-org)" ;;
esac
