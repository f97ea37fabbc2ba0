# Sourced by network/fabric/network.sh (after lib/common.sh). The REST gateways (one per utility org),
# started by lib.sh's start_gateways exactly as on the devnet.

# One REST gateway per utility org, started by lib.sh's start_gateways exactly as on the devnet
# (ports gateway.port+i, each kept in <home>/gateway-<org>/port; secrets per home, pids/gateway-<org>.pid, <home>/gateways.json).
gateway_orgs() { # org names from network.json (empty before the first deploy wrote it)
  [ -s "$H/network.json" ] || return 0
  node -e 'for (const o of require(process.argv[1]).organizations) console.log(o.name)' "$H/network.json"
}

run_gateways() {
  GRIDLEDGER_PORT_BASE="${PORT_BASE_SETTING:-}" NETWORK_CONFIG="$NETWORK_CONFIG" start_gateways
}
