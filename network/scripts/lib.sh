# Shared by start.sh, stop.sh and test.sh. Sourced, not run.
# Every process we start gets a pid file under $GRIDLEDGER_HOME/pids; stop.sh kills only those.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NETWORK_CONFIG="${GRIDLEDGER_NETWORK_CONFIG:-$REPO_ROOT/test-network-config/network.yaml}"
FABRIC_VERSION="3.1.5"
FABRIC_CA_VERSION="1.5.21"

log() { printf '%s\n' "[gridledger] $*" >&2; }
die() { printf '%s\n' "[gridledger] ERROR: $*" >&2; exit 1; }

# Installs dependencies when node_modules is missing (npm ci) or the lockfile changed since our last
# install (npm install, which only fixes the difference). Serialised with flock: two starts at once
# (tests restart parts of the network) must not run npm in the same tree concurrently.
ensure_dependencies() {
  command -v node >/dev/null || die "Node.js 20 is required (see README.md)"
  local major; major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js >= 20 is required, found $(node --version)"
  local stamp="$REPO_ROOT/node_modules/.gridledger-lock.sha256" want
  want="$(sha256sum "$REPO_ROOT/package-lock.json" | cut -d' ' -f1)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  (
    flock 9
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && exit 0
    cd "$REPO_ROOT"
    if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ]; then
      log "installing dependencies (npm ci)"
      npm ci --no-audit --no-fund
    else
      log "package-lock.json changed: updating dependencies (npm install)"
      npm install --no-audit --no-fund
    fi
    printf '%s\n' "$want" > "$stamp"
  ) 9>"$REPO_ROOT/.npm-install.lock"
}

# Compiles chaincode, devnet and gateway (tsc) and bundles the dashboard (Vite → dashboard/dist, served
# by each gateway at /). GRIDLEDGER_SKIP_BUILD=1 skips it when a caller already built.
build_all() {
  if [ "${GRIDLEDGER_SKIP_BUILD:-0}" = "1" ]; then return 0; fi
  log "building (tsc, vite)"
  (cd "$REPO_ROOT" && npm run build --silent)
}

# The browser the dashboard tests drive (test/e2e/dashboard): Debian's chromium package, installed with
# apt when missing (as root, or with password-less sudo); never a browser download at run time.
# GRIDLEDGER_CHROMIUM points the tests at another Chromium binary.
ensure_chromium() {
  local bin="${GRIDLEDGER_CHROMIUM:-/usr/bin/chromium}"
  [ -x "$bin" ] && return 0
  local sudo=""
  [ "$(id -u)" = "0" ] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null && sudo="sudo -n"; } || true
  if command -v apt-get >/dev/null && { [ "$(id -u)" = "0" ] || [ -n "$sudo" ]; }; then
    log "installing Debian's chromium for the dashboard browser tests (apt-get install chromium)"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
  [ -x "$bin" ] || log "no Chromium at $bin: the dashboard browser tests will fail; install it (apt-get install -y chromium) or set GRIDLEDGER_CHROMIUM"
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

# A process killed but not reaped yet (a zombie) counts as dead, so a SIGKILLed gateway or devnet is restarted.
pid_alive() {
  [ -f "$1" ] || return 1
  local pid; pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)" != "Z" ]
}

# Stops the process named by a pid file we wrote: SIGTERM, up to 10 s to finish, then SIGKILL; removes the file.
stop_pidfile() {
  local f="$1" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.125; done
    if kill -0 "$pid" 2>/dev/null; then log "$(basename "$f" .pid) did not stop in 10 s; killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    log "stopped $(basename "$f" .pid) ($pid)"
  fi
  rm -f "$f"
}

# The ledger side yields the CPU to the REST gateways' acknowledgements: GRIDLEDGER_LEDGER_NICE (0-19;
# 0 leaves it alone) becomes the nice value of the autogroup of each ledger process (network.json
# control.ledgerPidFiles: the devnet, or Fabric's peers) and chaincode server (pids/cc-*.pid); Fabric's
# orderers get GRIDLEDGER_ORDERER_NICE. Every process here is started with setsid, so each is its own
# autogroup, and the kernel shares the CPUs between autogroups before it looks at a thread's own nice
# (sched(7), "The autogroup feature"); `nice` on a process would not reach across them. Because the share
# goes per autogroup, what competes with a gateway is the SUM of the busy ledger groups' weights
# (kernel/sched/core.c sched_prio_to_weight: nice 0 = 1024, 5 = 335, 15 = 36): the devnet is one process,
# Fabric three peers and four orderers that all work on every block. Hence per tier: the devnet at 5;
# on Fabric the peers and chaincode servers at 15 and the orderers at 5 — SmartBFT runs on timers
# (leader heartbeats, request-forward timeouts: orderer.yaml SmartBFT section), and orderers starved of
# CPU under load trip them (a whole-cluster stall after a consenter change was seen with them at 15).
# Measured in docs/benchmarks.md ("Fabric's ledger weight and the steady ack p99").
# The values in force are kept in <home>/ledger.nice ("<ledger> <orderer>"): with `keep` (a process
# restarted or added later: network.sh restart-ledger, the orderer watchdog's restart-orderer,
# add-orderer, add-org) they are applied again, whatever the caller's environment says.
# Raising an autogroup's nice needs no privilege. The kernel refuses an unprivileged change within 100 ms
# of the last one (EAGAIN, kernel/sched/autogroup.c), hence the retries. A production deployment does the
# same with systemd's CPUWeight= (docs/operations.md §2).
nice_value() { # name value
  case "$2" in ''|*[!0-9]*) die "$1 must be a whole number 0-19, got '$2'" ;; esac
  [ "$2" -le 19 ] || die "$1 must be 0-19, got $2"
}
set_autogroup_nice() { # pid nice
  [ "$2" -gt 0 ] || return 0
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    if (echo "$2" > "/proc/$1/autogroup") 2>/dev/null; then return 0; fi
    sleep 0.11
  done
}
deprioritise_ledger() { # home [keep]
  local home="$1" nice="" onice="" f pid tier kept=""
  tier="$(node -e 'console.log(require(process.argv[1]).tier || "")' "$home/network.json" 2>/dev/null || true)"
  [ "${2:-}" = keep ] && kept="$(cat "$home/ledger.nice" 2>/dev/null || true)"
  if [ -n "$kept" ]; then read -r nice onice <<<"$kept"; fi
  nice="${nice:-${GRIDLEDGER_LEDGER_NICE:-}}"
  onice="${onice:-${GRIDLEDGER_ORDERER_NICE:-}}"
  if [ -z "$nice" ]; then if [ "$tier" = fabric ]; then nice=15; else nice=5; fi; fi
  onice="${onice:-$(( nice < 5 ? nice : 5 ))}"
  nice_value GRIDLEDGER_LEDGER_NICE "$nice"
  nice_value GRIDLEDGER_ORDERER_NICE "$onice"
  echo "$nice $onice" > "$home/ledger.nice"
  [ -e /proc/self/autogroup ] || return 0
  for f in $(node -e 'for (const f of require(process.argv[1]).control.ledgerPidFiles) console.log(f)' "$home/network.json") "$home"/pids/cc-*.pid; do
    pid_alive "$f" || continue
    pid="$(cat "$f")"
    case "$(basename "$f")" in orderer*) set_autogroup_nice "$pid" "$onice" ;; *) set_autogroup_nice "$pid" "$nice" ;; esac
  done
  if [ "$tier" = fabric ]; then
    log "peers and chaincode servers at autogroup nice $nice, orderers at $onice (GRIDLEDGER_LEDGER_NICE, default 15 on Fabric; GRIDLEDGER_ORDERER_NICE, default 5; 0 = off)"
  else
    log "ledger processes and chaincode servers at autogroup nice $nice (GRIDLEDGER_LEDGER_NICE; default 5 on the devnet; 0 turns it off)"
  fi
}

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

# Separate hosts on one machine (network/fabric/lib/netns.sh, <home>/netns/hosts): an org's gateway
# runs in its org's namespace and listens on its host; otherwise on 127.0.0.1.
gateway_host() { # home, org → address the org's gateway listens on
  local addr
  [ -s "$1/netns/hosts" ] && addr="$(awk -v o="$2" '$3 == o { print $1 }' "$1/netns/hosts")" && [ -n "$addr" ] &&
    { printf '%s' "$addr"; return 0; }
  printf '127.0.0.1'
}

# Starts the REST gateway of every utility org (each utility runs its own gateway, acting with its own
# operator identity and CA) for the network described by $GRIDLEDGER_HOME/network.json, on both tiers.
# Secrets are generated once per home and never leave it: each gateway's wallet encryption key and the
# operator API key, plus the regulator key at the org holding the regulator identity (stored hashed for
# the gateway; plaintext only in gateways.json, mode 600,
# for local clients and the end-to-end tests).
start_gateways() {
  local home="$GRIDLEDGER_HOME" base_port orgs i=0 org port dir host ns hosts=""
  base_port="$(net_get gateway.port)"
  orgs="$(node -e 'for (const o of require(process.argv[1]).organizations) console.log(o.name)' "$home/network.json")"
  # Each org's gateway keeps the port it first got (<dir>/port): gateway.port + its index at the time,
  # or the next one no other member holds. A utility leaving the Fabric network (network.sh remove-org)
  # must not move the others' gateways.
  for org in $orgs; do
    dir="$home/gateway-$org"
    mkdir -p "$dir"; chmod 700 "$dir"
    port="$(cat "$dir/port" 2>/dev/null || true)"
    # a port from another port base (a devnet home restarted with another GRIDLEDGER_PORT_BASE) is assigned anew
    if [ -z "$port" ] || [ "$port" -lt "$base_port" ] || [ "$port" -ge $((base_port + 10)) ]; then
      rm -f "$dir/port"
      port=$((base_port + i))
      while cat $(for o in $orgs; do echo "$home/gateway-$o/port"; done) 2>/dev/null | grep -qx "$port"; do port=$((port + 1)); done
      echo "$port" > "$dir/port"
    fi
    i=$((i + 1))
  done
  for org in $orgs; do
    dir="$home/gateway-$org"; port="$(cat "$dir/port")"
    if [ ! -s "$dir/credentials.json" ]; then
      (umask 077; node -e '
        const c = require("crypto");
        const key = () => "glk_" + c.randomBytes(32).toString("base64url");
        const sha = (k) => c.createHash("sha256").update(k).digest("hex");
        const fs = require("fs"), [d, netFile, orgName] = process.argv.slice(1);
        // A regulator key only at the gateway of the org that holds the regulator identity (a user
        // named regulator*): anywhere else it could never act (gateway/src/gateway.ts regulatorHolder).
        const o = require(netFile).organizations.find((x) => x.name === orgName);
        const hasRegulator = Object.keys(o.users || {}).some((u) => u.startsWith("regulator"));
        const operator = key(), regulator = hasRegulator ? key() : undefined;
        fs.writeFileSync(d + "/wallet.key", c.randomBytes(32).toString("hex") + "\n");
        const apiKeys = [{ id: "operator", sha256: sha(operator), roles: ["operator"] }];
        if (regulator) apiKeys.push({ id: "regulator", sha256: sha(regulator), roles: ["regulator"] });
        fs.writeFileSync(d + "/api-keys.json", JSON.stringify({ apiKeys }, null, 2) + "\n");
        fs.writeFileSync(d + "/credentials.json", JSON.stringify(regulator ? { operator, regulator } : { operator }, null, 2) + "\n");
      ' "$dir" "$home/network.json" "$org")
    fi
    host="$(gateway_host "$home" "$org")"; hosts="$hosts $org=$host"
    ns=""; [ "$host" = 127.0.0.1 ] || ns="ip netns exec $(awk -v o="$org" '$3 == o { print $2 }' "$home/netns/hosts")"
    if ! pid_alive "$home/pids/gateway-$org.pid"; then
      GATEWAY_ORG="$org" GATEWAY_PORT="$port" GATEWAY_HOST="$host" GATEWAY_DATA_DIR="$dir" \
      GATEWAY_WALLET_KEY="${GATEWAY_WALLET_KEY:-$(cat "$dir/wallet.key")}" \
      GATEWAY_API_KEYS_FILE="${GATEWAY_API_KEYS_FILE:-$dir/api-keys.json}" \
        setsid $ns node "$REPO_ROOT/gateway/dist/main.js" </dev/null >>"$home/logs/gateway-$org.log" 2>&1 &
      echo $! > "$home/pids/gateway-$org.pid"
    fi
  done
  for org in $orgs; do
    port="$(cat "$home/gateway-$org/port")"
    host="$(gateway_host "$home" "$org")"
    wait_for "gateway of $org ($host:$port)" 90 http_ok "http://$host:$port/ready" ||
      die "the gateway of $org did not become ready in 90 s; see $home/logs/gateway-$org.log"
  done
  # One descriptor for clients and tests, whatever the tier.
  (umask 077; node -e '
    const fs = require("fs"); const [home, hostList] = process.argv.slice(1);
    const net = require(home + "/network.json");
    const hosts = Object.fromEntries(hostList.trim().split(/\s+/).filter(Boolean).map((h) => h.split("=")));
    const gateways = net.organizations.map((o) => ({
      org: o.name, mspId: o.mspId,
      url: `http://${hosts[o.name] || "127.0.0.1"}:${+fs.readFileSync(`${home}/gateway-${o.name}/port`, "utf8")}`,
      apiKeys: JSON.parse(fs.readFileSync(`${home}/gateway-${o.name}/credentials.json`, "utf8")) }));
    fs.writeFileSync(home + "/gateways.json", JSON.stringify({ gateways }, null, 2) + "\n");
  ' "$home" "$hosts")
}

# network.yaml `development.intervalSeconds: 60` (devnet only): as the regulator, allow 60 s metering
# intervals and scale Eq. (1) slots, the clock guard and the auction claim window to match
# (docs/operations.md "Short intervals on development networks"). Parameters live on the ledger (the
# chaincode reads no configuration), so this is an ordinary regulator call; re-applying is a no-op.
apply_development_settings() {
  local secs
  secs="$(net_get development.intervalSeconds 2>/dev/null)" || return 0
  [ "$secs" = 60 ] || return 0
  node -e '
    const [home] = process.argv.slice(1);
    const gw = require(home + "/gateways.json").gateways.find((g) => g.apiKeys.regulator);
    if (!gw) { console.error("no gateway holds the regulator key"); process.exit(1); }
    const settings = [
      ["/api/v1/governance/parameters", { slotSeconds: 30, clockToleranceSeconds: 15 }],
      ["/api/v1/market/parameters", { minIntervalSeconds: 60, auctionClaimSeconds: 60 }],
    ];
    (async () => {
      const headers = { authorization: `Bearer ${gw.apiKeys.regulator}`, "content-type": "application/json" };
      for (const [path, want] of settings) {
        const cur = await (await fetch(gw.url + path, { headers })).json();
        if (Object.entries(want).every(([k, v]) => cur[k] === v)) continue;
        const res = await fetch(gw.url + path, { method: "POST", headers, body: JSON.stringify(want) });
        if (res.status !== 201) { console.error(`POST ${path}: ${res.status} ${await res.text()}`); process.exit(1); }
      }
    })().catch((e) => { console.error(e.message); process.exit(1); });
  ' "$GRIDLEDGER_HOME" || die "could not apply network.yaml development settings as the regulator"
  log "development settings applied: 60 s metering intervals, 30 s slots (network.yaml development)"
}

# The simulated community (community/, see community/README.md): households whose meters post readings
# and trade through the gateways of $GRIDLEDGER_HOME. On by default on the devnet, opt-in on Fabric;
# GRIDLEDGER_COMMUNITY=0|1 decides either way. test.sh sets 0: the end-to-end suites need a quiet ledger.
community_wanted() { # tier
  local want="${GRIDLEDGER_COMMUNITY:-}"
  if [ -z "$want" ]; then [ "$1" = "devnet" ] && want=1 || want=0; fi
  case "$want" in
    1) return 0 ;;
    0) return 1 ;;
    *) die "GRIDLEDGER_COMMUNITY must be 0 or 1 (got '$want')" ;;
  esac
}

# Starts the community supervised (restarted if it dies, like the chaincode servers) with a pid file that
# stop.sh stops; its settings come from the environment (COMMUNITY_*, community/README.md).
start_community() {
  local home="$GRIDLEDGER_HOME"
  if pid_alive "$home/pids/community.pid"; then return 0; fi
  [ -f "$REPO_ROOT/community/dist/main.js" ] || die "the community is not built (npm run build)"
  mkdir -p "$home/pids" "$home/logs"
  (exec setsid node "$REPO_ROOT/network/scripts/supervise.js" --name community \
    --pid-file "$home/pids/community.pid" --log-file "$home/logs/community.log" \
    -- node "$REPO_ROOT/community/dist/main.js" --home "$home") </dev/null >/dev/null 2>&1 &
  wait_for "community" 15 test -s "$home/pids/community.pid" || die "the community did not start; see $home/logs/community.log"
}

# How to watch the community, for start.sh's summary.
print_community_summary() {
  local home="$GRIDLEDGER_HOME" url
  url="$(node -p 'require(process.argv[1]).gateways[0].url' "$home/gateways.json")"
  cat <<WATCH
  community        ${COMMUNITY_HOUSEHOLDS:-12} households trading (community/README.md)
                   log $home/logs/community.log, status $home/community/status.json
Watch the market (the first readings and offers come after one metering interval: 60 s on the development
devnet, 300 s on Fabric; the first trades settle a few minutes later), or open a dashboard above:
  KEY=\$(node -p 'require("$home/gateways.json").gateways[0].apiKeys.operator')
  curl -N -H "Authorization: Bearer \$KEY" $url/api/v1/events                  # every ledger event, live
  curl -s -H "Authorization: Bearer \$KEY" $url/api/v1/offers                  # the open offers
  curl -s -H "Authorization: Bearer \$KEY" $url/api/v1/auctions                # the open sealed-bid auctions
  curl -s -H "Authorization: Bearer \$KEY" $url/api/v1/participants/leaderboard  # members by Q-score
  node -p 'require("$home/community/status.json").counters'                    # what the community did
WATCH
}
