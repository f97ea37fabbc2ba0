# Shared by start.sh, stop.sh and test.sh. Sourced, not run.
# Every process we start gets a pid file under $GRIDLEDGER_HOME/pids; stop.sh kills only those.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NETWORK_CONFIG="${GRIDLEDGER_NETWORK_CONFIG:-$REPO_ROOT/test-network-config/network.yaml}"
FABRIC_VERSION="3.1.5"
FABRIC_CA_VERSION="1.5.21"

log() { printf '%s\n' "[gridledger] $*" >&2; }
die() { printf '%s\n' "[gridledger] ERROR: $*" >&2; exit 1; }

# npm ci when node_modules is missing or older than the lockfile: a fresh clone needs nothing else.
ensure_dependencies() {
  command -v node >/dev/null || die "Node.js 20 is required (see README.md)"
  local major; major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js >= 20 is required, found $(node --version)"
  if [ ! -f "$REPO_ROOT/node_modules/.package-lock.json" ] ||
     [ "$REPO_ROOT/package-lock.json" -nt "$REPO_ROOT/node_modules/.package-lock.json" ]; then
    log "installing dependencies (npm ci)"
    (cd "$REPO_ROOT" && npm ci --no-audit --no-fund)
  fi
}

# Compiles chaincode, devnet and gateway (tsc). GRIDLEDGER_SKIP_BUILD=1 skips it when a caller already built.
build_all() {
  if [ "${GRIDLEDGER_SKIP_BUILD:-0}" = "1" ]; then return 0; fi
  log "building (tsc)"
  (cd "$REPO_ROOT" && npm run build --silent)
}

# Prints the directory holding Fabric's binaries, looking in FABRIC_BIN, on PATH, then in the per-user cache.
find_fabric_bin() {
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/gridledger/fabric-$FABRIC_VERSION/bin"
  local d
  for d in "${FABRIC_BIN:-}" "$(dirname "$(command -v peer 2>/dev/null || echo /nonexistent/peer)")" "$cache"; do
    if [ -n "$d" ] && [ -x "$d/peer" ] && [ -x "$d/orderer" ] && [ -x "$d/osnadmin" ]; then
      printf '%s\n' "$d"; return 0
    fi
  done
  return 1
}

# Chooses the tier: GRIDLEDGER_TIER=devnet|fabric forces one; auto uses Fabric when its binaries and
# the Fabric scripts are present, the devnet otherwise, and says why.
choose_tier() {
  local wanted="${GRIDLEDGER_TIER:-auto}"
  case "$wanted" in
    devnet) echo devnet; return 0 ;;
    fabric)
      [ -f "$REPO_ROOT/network/fabric/network.sh" ] || die "GRIDLEDGER_TIER=fabric, but the Fabric scripts (network/fabric) are not in this checkout yet"
      find_fabric_bin >/dev/null || die "GRIDLEDGER_TIER=fabric, but no Fabric $FABRIC_VERSION binaries were found in \$FABRIC_BIN, on PATH or in the cache"
      echo fabric; return 0 ;;
    auto)
      if [ -f "$REPO_ROOT/network/fabric/network.sh" ] && find_fabric_bin >/dev/null; then
        echo fabric
      else
        if [ ! -f "$REPO_ROOT/network/fabric/network.sh" ]; then
          log "tier: devnet (the real-network scripts are not part of this checkout yet)"
        else
          log "tier: devnet (no Fabric $FABRIC_VERSION binaries in \$FABRIC_BIN, on PATH, or in the cache)"
        fi
        echo devnet
      fi ;;
    *) die "GRIDLEDGER_TIER must be auto, devnet or fabric (got '$wanted')" ;;
  esac
}

# Reads one value out of the resolved network config (port offsets applied), e.g. net_get gateway.port
net_get() {
  node "$REPO_ROOT/network/scripts/netinfo.js" "$NETWORK_CONFIG" "${GRIDLEDGER_PORT_BASE:-}" "$1"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Waits (without fixed sleeps beyond a short poll) until a command succeeds or the deadline passes.
wait_for() {
  local what="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.25
  done
  log "$what is up"
}

tcp_open() { node -e "const s=require('net').connect(+process.argv[1],'127.0.0.1');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1))" "$1"; }
http_ok() { node -e "fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$1"; }
