#!/usr/bin/env bash
# Starts everything: installs what is missing, builds, brings up the ledger (Fabric when its
# binaries are present, else the embedded devnet), the chaincode servers and the REST gateway,
# waits until the gateway reports ready, and prints where each listens.
#
#   GRIDLEDGER_TIER=auto|devnet|fabric   which ledger (default auto)
#   GRIDLEDGER_HOME=DIR                   runtime dir: keys, ledger, logs, pid files (default .runtime/<tier>)
#   GRIDLEDGER_PORT_BASE=N                move every port (default: portBase in network.yaml)
#   GRIDLEDGER_COMMUNITY=0|1              a simulated community of households (default: 1 on the devnet,
#                                         0 on Fabric); COMMUNITY_* settings in community/README.md
#   GRIDLEDGER_LEDGER_NICE=0-19           autogroup nice of the ledger and chaincode processes, so the
#                                         gateways' acknowledgements get a CPU first (default 5 on the
#                                         devnet, 15 for Fabric's peers and chaincode servers; 0 = off)
#   GRIDLEDGER_ORDERER_NICE=0-19          the same for Fabric's orderers (default 5: SmartBFT's timers)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_dependencies
build_all
TIER="$(choose_tier)"
export GRIDLEDGER_HOME="${GRIDLEDGER_HOME:-$REPO_ROOT/.runtime/$TIER}"
mkdir -p "$GRIDLEDGER_HOME/pids" "$GRIDLEDGER_HOME/logs"
PIDS="$GRIDLEDGER_HOME/pids"
LOGS="$GRIDLEDGER_HOME/logs"
PORT_BASE="${GRIDLEDGER_PORT_BASE:-$(net_get portBase)}"
export GRIDLEDGER_PORT_BASE="$PORT_BASE"

if [ "$TIER" = "fabric" ]; then
  bash "$REPO_ROOT/network/fabric/network.sh" up
  if community_wanted fabric; then start_community; print_community_summary; fi
  exit 0
fi

if pid_alive "$PIDS/devnet.pid" || pid_alive "$GRIDLEDGER_HOME/devnet.pid"; then
  log "already running (devnet pid $(cat "$PIDS/devnet.pid"), home $GRIDLEDGER_HOME); stop it with: npm run stop"
  if community_wanted devnet; then start_community; print_community_summary; fi
  exit 0
fi

# The chaincode servers of chaincode $1, one line each: "<org> <mspId> <host:port>" per org when each org
# has its own (network.yaml addressPortOffsets), else one line "- - <host:port>" for the server every org dials.
devnet_chaincode_servers() {
  node -e '
    const [cc, orgs] = process.argv.slice(1).map((s) => JSON.parse(s));
    if (!cc.perOrg) console.log(`- - ${Object.values(cc.addresses)[0]}`);
    else for (const o of orgs) console.log(`${o.name} ${o.mspId} ${cc.addresses[o.name]}`);
  ' "$(net_get "chaincodes.$1")" "$(net_get organizations)"
}

# Chaincode servers first (chaincode-as-a-service): the ledger dials them on first invocation,
# exactly as a Fabric peer does with the ccaas builder. Supervised: fabric-shim exits on a stray message.
# One server per org (network.yaml addressPortOffsets), run with that org's CORE_PEER_LOCALMSPID so that
# stub.getMspID() names the org whose peer dialled it, as when each Fabric org runs its own; or one
# server that every org dials (addressPortOffset), without an MSP id. All start at once, then we wait.
start_chaincode() {
  local name="$1" dir="$2" org msp addr tag
  while read -r org msp addr; do
    tag="$name"; [ "$org" = "-" ] || tag="$name-$org"
    pid_alive "$PIDS/cc-$tag.pid" && continue
    # exec: the subshell becomes the supervisor, so nothing of ours keeps the caller's stdout open.
    # fabric-shim logs one info line per invocation (lib/handler.js "Calling chaincode Invoke() succeeded"):
    # ~8% of a chaincode server's CPU under bench:market (docs/benchmarks.md "Market"); warnings and the
    # refusals' error lines stay. CORE_CHAINCODE_LOGGING_LEVEL=INFO brings them back.
    (cd "$dir" && export CHAINCODE_SERVER_ADDRESS="$addr" CHAINCODE_ID="${name}:devnet" \
        CORE_CHAINCODE_LOGGING_LEVEL="${CORE_CHAINCODE_LOGGING_LEVEL:-WARNING}" &&
      { [ "$msp" = "-" ] || export CORE_PEER_LOCALMSPID="$msp"; } &&
      exec setsid node "$REPO_ROOT/network/scripts/supervise.js" --name "chaincode-$tag" \
        --pid-file "$PIDS/cc-$tag.pid" --log-file "$LOGS/chaincode-$tag.log" \
        -- node "$REPO_ROOT/node_modules/.bin/fabric-chaincode-node" server \
           --chaincode-address "$addr" --chaincode-id "${name}:devnet") </dev/null >/dev/null 2>&1 &
    CC_STARTED+=("$tag $addr")
  done < <(devnet_chaincode_servers "$name")
}
CC_STARTED=()
start_chaincode gridledger "$REPO_ROOT/chaincode"
if [ -d "$REPO_ROOT/test/conformance-chaincode" ]; then
  start_chaincode conformance "$REPO_ROOT/test/conformance-chaincode"
fi
for started in "${CC_STARTED[@]}"; do
  read -r tag addr <<<"$started"
  wait_for "chaincode $tag ($addr)" 30 tcp_open "${addr##*:}" || die "chaincode $tag did not start; see $LOGS/chaincode-$tag.log"
done

rm -f "$GRIDLEDGER_HOME/network.json"
setsid node "$REPO_ROOT/network/devnet/dist/cli.js" start --config "$NETWORK_CONFIG" \
  --home "$GRIDLEDGER_HOME" --port-base "$PORT_BASE" </dev/null >>"$LOGS/devnet.log" 2>&1 &
echo $! > "$PIDS/devnet.pid"
wait_for "devnet" 60 test -s "$GRIDLEDGER_HOME/network.json" ||
  die "the devnet did not become ready in 60 s; see $LOGS/devnet.log"

start_gateways
deprioritise_ledger "$GRIDLEDGER_HOME"
apply_development_settings
COMMUNITY=0
if community_wanted devnet; then start_community; COMMUNITY=1; fi

node "$REPO_ROOT/network/scripts/summary.js" "$GRIDLEDGER_HOME" "the devnet" "$LOGS" \
  "$(if [ "$COMMUNITY" = 1 ]; then print_community_summary; else echo "  community        not started (GRIDLEDGER_COMMUNITY=0): an empty network"; fi)"
