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
#   internal (named in network.json control.*): restart-ledger, apply-crl <mspId> <crlFile>
#
#   GRIDLEDGER_HOME (default .runtime/fabric), GRIDLEDGER_PORT_BASE, GRIDLEDGER_NETWORK_CONFIG,
#   FABRIC_BIN / FABRIC_CA_BIN / FABRIC_CFG_TEMPLATE / FABRIC_CCAAS_BUILDER — see docs/operations.md.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
FABRIC_DIR="$REPO_ROOT/network/fabric"
source "$FABRIC_DIR/lib/binaries.sh"
HELPER="$FABRIC_DIR/lib/fabric.js"
NETWORK_SH="$FABRIC_DIR/network.sh"

CMD="${1:-help}"; [ $# -gt 0 ] && shift
H="${GRIDLEDGER_HOME:-$REPO_ROOT/.runtime/fabric}"
mkdir -p "$H" && H="$(cd "$H" && pwd)"
export GRIDLEDGER_HOME="$H"
MARKER="$H/.fabric-tier"
PIDS="$H/pids"; LOGS="$H/logs"
export FABRIC_LOGGING_SPEC="${FABRIC_LOGGING_SPEC:-INFO}"

# ── configuration: binaries and ports are fixed at the first `up` and kept in the marker ──────────
load_settings() {
  if [ -f "$MARKER" ] && [ "$CMD" != "up" ]; then
    # shellcheck disable=SC1090
    source "$MARKER"
  else
    locate_fabric_binaries
    PORT_BASE_SETTING="${GRIDLEDGER_PORT_BASE:-}"
    if [ -f "$MARKER" ]; then
      local prev; prev="$(sed -n "s/^PORT_BASE_SETTING='\(.*\)'$/\1/p" "$MARKER")"
      if [ -n "$prev" ] && [ -n "$PORT_BASE_SETTING" ] && [ "$prev" != "$PORT_BASE_SETTING" ]; then
        die "$H was created with port base $prev, not $PORT_BASE_SETTING; use another GRIDLEDGER_HOME or clean it"
      fi
      [ -z "$PORT_BASE_SETTING" ] && PORT_BASE_SETTING="$prev"
    fi
    mkdir -p "$PIDS" "$LOGS"
    cat > "$MARKER" <<EOF
# written by network/fabric/network.sh up — this home holds a Fabric network (stop.sh looks for this file)
FABRIC_BIN='$FABRIC_BIN'
FABRIC_CA_BIN='$FABRIC_CA_BIN'
FABRIC_CFG_TEMPLATE='$FABRIC_CFG_TEMPLATE'
CCAAS_BUILDER='$CCAAS_BUILDER'
NETWORK_CONFIG='$NETWORK_CONFIG'
PORT_BASE_SETTING='$PORT_BASE_SETTING'
EOF
  fi
  local envfile
  envfile="$(node "$HELPER" env "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H")" || die "cannot read $NETWORK_CONFIG (run npm run build first)"
  eval "$envfile"
}

# Like lib.sh's pid_alive, but a killed process that is not reaped yet (a zombie) counts as dead:
# restart-ledger runs right after the tests SIGKILL the ledger processes.
alive() {
  [ -f "$1" ] || return 1
  local pid; pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)" != "Z" ]
}

v() { eval "printf '%s' \"\${$1}\""; }    # v CA_utility1_PORT → value

# ── processes ───────────────────────────────────────────────────────────────────────────────────
start_process() { # name, command... (env assignments allowed via env)
  local name="$1"; shift
  if alive "$PIDS/$name.pid"; then return 0; fi
  setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
  echo $! > "$PIDS/$name.pid"
}


fail_with_log() { # name, message
  log "tail of $LOGS/$1.log:"; tail -n 25 "$LOGS/$1.log" >&2 || true
  die "$2"
}

# ── Fabric CAs and identities ───────────────────────────────────────────────────────────────────
start_ca() {
  local c="$1" name port ops home domain addr
  addr="$(v "CA_${c}_ADDR")"; name="$(v "CA_${c}_NAME")"; port="$(v "CA_${c}_PORT")"; ops="$(v "CA_${c}_OPS")"; home="$(v "CA_${c}_HOME")"; domain="$(v "CA_${c}_DOMAIN")"
  mkdir -p "$home"
  # operations/metrics have no command-line flags in fabric-ca-server: environment only
  start_process "$name" env FABRIC_CA_SERVER_HOME="$home" FABRIC_CA_SERVER_OPERATIONS_LISTENADDRESS="$addr:$ops" \
    FABRIC_CA_SERVER_METRICS_PROVIDER=prometheus "$FABRIC_CA_BIN/fabric-ca-server" start \
    -b admin:adminpw --address "$addr" --port "$port" --ca.name "$name" \
    --tls.enabled --csr.hosts "$(tls_hosts "ca.$domain" "$addr")" \
    --registry.maxenrollments -1 --crl.expiry 24h
}

wait_ca() {
  local c="$1" name ops cert
  name="$(v "CA_${c}_NAME")"; ops="$(v "CA_${c}_OPS")"; cert="$(v "CA_${c}_CERT")"
  wait_for "$name ($(ca_url "$c"))" 60 bash -c "[ -s '$cert' ] && node -e \"fetch('http://$(v "CA_${c}_ADDR"):$ops/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))\"" ||
    fail_with_log "$name" "$name did not become healthy in 60 s"
}

ca_client() { "$FABRIC_CA_BIN/fabric-ca-client" "$@"; }
ca_url() { printf 'https://%s:%s' "$(v "CA_${1}_ADDR")" "$(v "CA_${1}_PORT")"; }
# TLS certificate names of a node: its host name, the address it is reached at (network.yaml
# `host`), and the loopback names the local CLIs use.
tls_hosts() {
  local out="" h
  for h in "$@" 127.0.0.1 localhost; do case ",$out," in *",$h,"*) ;; *) out="${out:+$out,}$h" ;; esac; done
  printf '%s' "$out"
}

secret_of() { # ca, id → persistent random enrolment secret
  local f; f="$(v "CA_${1}_HOME")/secrets/$2"
  if [ ! -s "$f" ]; then
    mkdir -p "$(dirname "$f")"; (umask 077; node -e 'process.stdout.write(require("crypto").randomBytes(18).toString("hex"))' > "$f")
  fi
  cat "$f"
}

register_identity() { # ca, id, type, attrs
  local c="$1" id="$2" type="$3" attrs="$4" out args
  args=(register -H "$(v "CA_${c}_HOME")/registrar" -u "$(ca_url "$c")" --caname "$(v "CA_${c}_NAME")"
        --tls.certfiles "$(v "CA_${c}_CERT")" --id.name "$id" --id.secret "$(secret_of "$c" "$id")" --id.type "$type" --id.maxenrollments -1)
  [ -n "$attrs" ] && args+=(--id.attrs "$attrs")
  if ! out="$(ca_client "${args[@]}" 2>&1)"; then
    printf '%s' "$out" | grep -qi "already registered" || { printf '%s\n' "$out" >&2; die "registering $id at $(v "CA_${c}_NAME") failed"; }
  fi
}

# Puts the org's CA cert where MSPs expect it (cacerts/ca-cert.pem, tlscacerts/ca-cert.pem), renames the key.
normalise_msp() { # ca, mspdir
  local c="$1" msp="$2"
  rm -rf "$msp/cacerts" "$msp/tlscacerts" "$msp/intermediatecerts" "$msp/IssuerPublicKey" "$msp/IssuerRevocationPublicKey" "$msp/user"
  mkdir -p "$msp/cacerts" "$msp/tlscacerts"
  cp "$(v "CA_${c}_CERT")" "$msp/cacerts/ca-cert.pem"; cp "$(v "CA_${c}_CERT")" "$msp/tlscacerts/ca-cert.pem"
  local k; k="$(ls "$msp/keystore/" | grep -v '^priv_sk$' | head -n1 || true)"   # a fresh enrolment holds one key
  if [ -n "$k" ]; then mv "$msp/keystore/$k" "$msp/keystore/priv_sk"; fi
}

enroll_msp() { # ca, id, mspdir
  local c="$1" id="$2" msp="$3"
  [ -s "$msp/signcerts/cert.pem" ] && [ -s "$msp/keystore/priv_sk" ] && return 0
  rm -rf "$msp"; mkdir -p "$msp"
  ca_client enroll -u "https://$id:$(secret_of "$c" "$id")@$(v "CA_${c}_ADDR"):$(v "CA_${c}_PORT")" --caname "$(v "CA_${c}_NAME")" \
    --tls.certfiles "$(v "CA_${c}_CERT")" -M "$msp" >>"$LOGS/enroll.log" 2>&1 || die "enrolling $id at $(v "CA_${c}_NAME") failed; see $LOGS/enroll.log"
  normalise_msp "$c" "$msp"
}

enroll_tls() { # ca, id, tlsdir, hosts
  local c="$1" id="$2" dir="$3" hosts="$4" tmp
  [ -s "$dir/server.crt" ] && [ -s "$dir/server.key" ] && return 0
  tmp="$dir.enroll"; rm -rf "$tmp"; mkdir -p "$tmp"
  ca_client enroll -u "https://$id:$(secret_of "$c" "$id")@$(v "CA_${c}_ADDR"):$(v "CA_${c}_PORT")" --caname "$(v "CA_${c}_NAME")" \
    --tls.certfiles "$(v "CA_${c}_CERT")" --enrollment.profile tls --csr.hosts "$hosts" -M "$tmp" >>"$LOGS/enroll.log" 2>&1 ||
    die "TLS enrolment of $id at $(v "CA_${c}_NAME") failed; see $LOGS/enroll.log"
  mkdir -p "$dir"
  cp "$tmp"/signcerts/*.pem "$dir/server.crt"; cp "$tmp"/keystore/*_sk "$dir/server.key"; cp "$(v "CA_${c}_CERT")" "$dir/ca.crt"
  rm -rf "$tmp"
}

enroll_identities() {
  local c dir domain org o id type attrs
  for c in $CAS; do
    dir="$(v "CA_${c}_ORGDIR")"; domain="$(v "CA_${c}_DOMAIN")"
    if [ ! -s "$(v "CA_${c}_HOME")/registrar/msp/signcerts/cert.pem" ]; then
      ca_client enroll -u "https://admin:adminpw@$(v "CA_${c}_ADDR"):$(v "CA_${c}_PORT")" --caname "$(v "CA_${c}_NAME")" \
        --tls.certfiles "$(v "CA_${c}_CERT")" -H "$(v "CA_${c}_HOME")/registrar" >>"$LOGS/enroll.log" 2>&1 ||
        die "enrolling the registrar of $(v "CA_${c}_NAME") failed; see $LOGS/enroll.log"
    fi
    # org MSP (what the channel config holds)
    mkdir -p "$dir/msp/cacerts" "$dir/msp/tlscacerts"
    cp "$(v "CA_${c}_CERT")" "$dir/msp/cacerts/ca-cert.pem"; cp "$(v "CA_${c}_CERT")" "$dir/msp/tlscacerts/ca-cert.pem"
    org="$(v "CA_${c}_ORG")"
    register_identity "$c" "${org}admin" admin ""
    enroll_msp "$c" "${org}admin" "$dir/users/Admin@$domain/msp"
    if [ "$c" = "$ORDERER_ORG" ]; then
      enroll_tls "$c" "${org}admin" "$dir/users/Admin@$domain/tls" "$(tls_hosts "$(v "CA_${c}_ADDR")")"   # osnadmin client cert
      for o in $ORDERERS; do
        register_identity "$c" "$o" orderer ""
        enroll_msp "$c" "$o" "$(v "ORD_${o}_DIR")/msp"
        enroll_tls "$c" "$o" "$(v "ORD_${o}_DIR")/tls" "$(tls_hosts "$(v "ORD_${o}_HOST")" "$(v "ORD_${o}_ADDR")")"
      done
    else
      register_identity "$c" "peer0" peer ""
      enroll_msp "$c" "peer0" "$(v "PEER_${c}_DIR")/msp"
      enroll_tls "$c" "peer0" "$(v "PEER_${c}_DIR")/tls" "$(tls_hosts "$(v "PEER_${c}_NAME")" "$(v "PEER_${c}_ADDR")")"
    fi
  done
  for entry in $IDENTITIES; do
    IFS='|' read -r c id type attrs <<<"$entry"
    register_identity "$c" "$id" "$type" "$attrs"
    enroll_msp "$c" "$id" "$(v "CA_${c}_ORGDIR")/users/$id@$(v "CA_${c}_DOMAIN")/msp"
  done
}

# ── orderers and the channel ────────────────────────────────────────────────────────────────────
osnadmin_() { # orderer, args...
  local o="$1"; shift
  "$FABRIC_BIN/osnadmin" "$@" -o "$(v "ORD_${o}_ADDR"):$(v "ORD_${o}_ADMIN")" --ca-file "$ORDERER_CA_CERT" \
    --client-cert "$ORDERER_ADMIN_TLS/server.crt" --client-key "$ORDERER_ADMIN_TLS/server.key"
}

start_orderer() {
  local o="$1"
  mkdir -p "$(v "ORD_${o}_DATA")"
  start_process "$o" env FABRIC_CFG_PATH="$(v "ORD_${o}_CFG")" "$FABRIC_BIN/orderer"
}

# /healthz answers as soon as the operations server runs; the admin (and client) listeners open only
# after the orderer has loaded its channels (SmartBFT may first try to sync), so wait for osnadmin too.
wait_orderer() {
  local o="$1"
  wait_for "$o ($(v "ORD_${o}_ADDR"):$(v "ORD_${o}_PORT"))" 90 bash -c "
    node -e \"fetch('http://$(v "ORD_${o}_ADDR"):$(v "ORD_${o}_OPS")/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))\" &&
    '$FABRIC_BIN/osnadmin' channel list -o $(v "ORD_${o}_ADDR"):$(v "ORD_${o}_ADMIN") --ca-file '$ORDERER_CA_CERT' \
      --client-cert '$ORDERER_ADMIN_TLS/server.crt' --client-key '$ORDERER_ADMIN_TLS/server.key' | grep -q '^Status: 200'" ||
    fail_with_log "$o" "$o did not become healthy (operations /healthz and admin endpoint) in 90 s"
}

orderer_channel_active() { osnadmin_ "$1" channel list --channelID "$CHANNEL" 2>/dev/null | grep -q '"status": *"active"'; }

join_orderers() {
  local o
  for o in $ORDERERS; do
    if ! osnadmin_ "$o" channel list --channelID "$CHANNEL" 2>/dev/null | grep -q '"name"'; then
      osnadmin_ "$o" channel join --channelID "$CHANNEL" --config-block "$H/channel-artifacts/$CHANNEL.block" >>"$LOGS/channel.log" 2>&1 ||
        { tail -n 20 "$LOGS/channel.log" >&2; die "$o could not join channel $CHANNEL"; }
    fi
  done
  for o in $ORDERERS; do
    wait_for "$o channel $CHANNEL" 60 orderer_channel_active "$o" || fail_with_log "$o" "$o: channel $CHANNEL not active in 60 s"
  done
}

# first orderer whose process is alive (the fault tests kill some)
live_orderer() {
  local o
  for o in $ORDERERS; do alive "$PIDS/$o.pid" && { printf '%s' "$o"; return 0; }; done
  return 1
}
orderer_args() {
  local o; o="$(live_orderer)" || die "no orderer is running"
  printf '%s\n' -o "$(v "ORD_${o}_ADDR"):$(v "ORD_${o}_PORT")" --tls --cafile "$ORDERER_CA_CERT"
}

# ── peers ───────────────────────────────────────────────────────────────────────────────────────
as_admin() { # org, peer CLI args...
  local org="$1"; shift
  FABRIC_CFG_PATH="$(v "PEER_${org}_CFG")" CORE_PEER_LOCALMSPID="$(v "PEER_${org}_MSPID")" \
  CORE_PEER_MSPCONFIGPATH="$(v "PEER_${org}_ADMINMSP")" CORE_PEER_ADDRESS="$(v "PEER_${org}_ADDR"):$(v "PEER_${org}_PORT")" \
  CORE_PEER_TLS_ENABLED=true CORE_PEER_TLS_ROOTCERT_FILE="$(v "PEER_${org}_TLSROOT")" \
    "$FABRIC_BIN/peer" "$@"
}

start_peer() {
  local org="$1" name; name="$(v "PEER_${org}_NAME")"
  mkdir -p "$(v "PEER_${org}_DATA")"
  start_process "$name" env FABRIC_CFG_PATH="$(v "PEER_${org}_CFG")" CORE_PEER_TLS_ENABLED=true "$FABRIC_BIN/peer" node start
}

wait_peer() {
  local org="$1" name; name="$(v "PEER_${org}_NAME")"
  wait_for "$name ($(v "PEER_${org}_ADDR"):$(v "PEER_${org}_PORT"))" 60 http_ok "http://$(v "PEER_${org}_ADDR"):$(v "PEER_${org}_OPS")/healthz" ||
    fail_with_log "$name" "$name did not become healthy in 60 s"
}

peer_height() { as_admin "$1" channel getinfo -c "$CHANNEL" 2>/dev/null | sed -n 's/.*"height":\([0-9]*\).*/\1/p'; }

orderer_height() {
  local o h best=0
  for o in $ORDERERS; do
    alive "$PIDS/$o.pid" || continue
    h="$(osnadmin_ "$o" channel list --channelID "$CHANNEL" 2>/dev/null | sed -n 's/.*"height": *\([0-9]*\).*/\1/p')"
    [ -n "$h" ] && [ "$h" -gt "$best" ] && best="$h"
  done
  printf '%s' "$best"
}

peer_caught_up() { # org, height
  local h; h="$(peer_height "$1")"; [ -n "$h" ] && [ "$h" -ge "$2" ]
}

# Real readiness of the gateway's endorsement planning: every peer sees every other peer of the
# channel through gossip (the discovery service answers from that view).
gossip_complete() {
  local org want n; want=$(( $(set -- $PEER_ORGS; echo $#) - 1 ))
  for org in $PEER_ORGS; do
    n="$(node -e "fetch(process.argv[1]).then(r=>r.text()).then(t=>{const l=t.split('\\n').find(x=>x.startsWith('gossip_membership_total_peers_known')&&x.includes('channel=\"'+process.argv[2]+'\"'));console.log(l?l.trim().split(/\\s+/).pop():0)},()=>console.log(0))" "http://$(v "PEER_${org}_ADDR"):$(v "PEER_${org}_OPS")/metrics" "$CHANNEL")"
    [ "${n%.*}" -ge "$want" ] || return 1
  done
}

wait_gossip() {
  wait_for "gossip membership of channel $CHANNEL on every peer" 120 gossip_complete ||
    die "peers do not see each other through gossip after 120 s (anchor peers, TLS, peer.gossip.externalEndpoint); see $LOGS/peer0.*.log"
}

join_peers() {
  local org target
  for org in $PEER_ORGS; do
    if ! as_admin "$org" channel list 2>/dev/null | grep -qx "$CHANNEL"; then
      as_admin "$org" channel join -b "$H/channel-artifacts/$CHANNEL.block" >>"$LOGS/channel.log" 2>&1 ||
        { tail -n 20 "$LOGS/channel.log" >&2; die "$(v "PEER_${org}_NAME") could not join channel $CHANNEL"; }
    fi
  done
  target="$(orderer_height)"
  for org in $PEER_ORGS; do
    wait_for "$(v "PEER_${org}_NAME") at height $target" 120 peer_caught_up "$org" "$target" ||
      fail_with_log "$(v "PEER_${org}_NAME")" "$(v "PEER_${org}_NAME") did not reach height $target"
  done
  wait_gossip
}

# ── chaincode as a service ──────────────────────────────────────────────────────────────────────
chaincode_source_dir() {
  case "$1" in
    gridledger) echo "$REPO_ROOT/chaincode" ;;
    conformance) echo "$REPO_ROOT/test/conformance-chaincode" ;;
    *) [ -d "$REPO_ROOT/test/$1-chaincode" ] && echo "$REPO_ROOT/test/$1-chaincode" || echo "" ;;
  esac
}

deterministic_tgz() { # out, dir, files... (same inputs → same bytes → same package id)
  local out="$1" dir="$2"; shift 2
  (cd "$dir" && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' -cf - "$@" | gzip -n -9) > "$out"
}

policy_args() { # network.yaml endorsementPolicy → peer lifecycle flags
  case "$1" in
    "MAJORITY Endorsement") printf '%s\n' --channel-config-policy /Channel/Application/Endorsement ;;
    "ANY Endorsement") die "ANY Endorsement needs a channel policy of that name; use a signature policy" ;;
    *) printf '%s\n' --signature-policy "$1" ;;
  esac
}

# The lifecycle version label of a chaincode: its package.json version (chaincode/package.json for
# gridledger, so health:ping and `querycommitted` agree). A new version is a new definition, so it
# is part of the deploy fingerprint and bumps the sequence even when the ccaas package is unchanged.
chaincode_version() { # name → version label
  local src; src="$(chaincode_source_dir "$1")"
  node -e 'try{console.log(require(process.argv[1]).version||"1.0")}catch{console.log("1.0")}' "$src/package.json"
}

committed_sequence() { # org, name → sequence or 0
  local out; out="$(as_admin "$1" lifecycle chaincode querycommitted -C "$CHANNEL" -n "$2" -O json 2>/dev/null)" || { echo 0; return; }
  printf '%s' "$out" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).sequence||0)}catch{console.log(0)}})'
}

commit_ready() { # org, name, seq, policy args...
  local org="$1" name="$2" seq="$3"; shift 3
  as_admin "$org" lifecycle chaincode checkcommitreadiness -C "$CHANNEL" -n "$name" -v "$(chaincode_version "$name")" --sequence "$seq" \
    --collections-config "$(v "CC_${name}_DIR")/collections_config.json" "$@" -O json 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const a=JSON.parse(s).approvals||{};process.exit(Object.values(a).length&&Object.values(a).every(Boolean)?0:1)})'
}

sequence_committed_everywhere() { # name, seq
  local org
  for org in $PEER_ORGS; do [ "$(committed_sequence "$org" "$1")" -ge "$2" ] || return 1; done
}

deploy_chaincode() {
  local name="$1" dir pkg pkgid seq want org policy=() peers=() orderer=() fingerprint version
  dir="$(v "CC_${name}_DIR")"
  mapfile -t policy < <(policy_args "$(v "CC_${name}_POLICY")")
  mapfile -t orderer < <(orderer_args)
  deterministic_tgz "$dir/code.tar.gz" "$dir/src" connection.json
  cp "$dir/src/metadata.json" "$dir/metadata.json"
  pkg="$dir/$name.tar.gz"
  deterministic_tgz "$pkg" "$dir" code.tar.gz metadata.json
  pkgid="$(as_admin "$(set -- $PEER_ORGS; echo "$1")" lifecycle chaincode calculatepackageid "$pkg" 2>/dev/null)" || die "cannot compute the package id of $pkg"
  version="$(chaincode_version "$name")"
  fingerprint="$pkgid $version $(sha256sum "$dir/collections_config.json" | cut -d' ' -f1) $(v "CC_${name}_POLICY")"

  for org in $PEER_ORGS; do
    if ! as_admin "$org" lifecycle chaincode queryinstalled 2>/dev/null | grep -q "Package ID: $pkgid,"; then
      if ! as_admin "$org" lifecycle chaincode install "$pkg" >"$LOGS/install.out" 2>&1; then
        cat "$LOGS/install.out" >>"$LOGS/deploy.log"
        grep -q "chaincode already successfully installed" "$LOGS/install.out" ||
          { tail -n 20 "$LOGS/install.out" >&2; die "installing $name on $(v "PEER_${org}_NAME") failed"; }
      fi
      cat "$LOGS/install.out" >>"$LOGS/deploy.log"; rm -f "$LOGS/install.out"
    fi
  done
  printf '%s\n' "$pkgid" > "$dir/package-id"

  seq="$(committed_sequence "$(set -- $PEER_ORGS; echo "$1")" "$name")"
  if [ "$seq" -gt 0 ] && [ -f "$dir/deployed" ] && [ "$(cat "$dir/deployed")" = "$seq $fingerprint" ]; then
    log "chaincode $name is committed (sequence $seq, package $pkgid)"
    return 0
  fi
  want=$((seq + 1))
  log "chaincode $name: approving and committing version $version, sequence $want (package $pkgid)"
  for org in $PEER_ORGS; do
    as_admin "$org" lifecycle chaincode approveformyorg "${orderer[@]}" -C "$CHANNEL" -n "$name" -v "$version" \
      --package-id "$pkgid" --sequence "$want" --collections-config "$dir/collections_config.json" "${policy[@]}" \
      --waitForEventTimeout 60s >>"$LOGS/deploy.log" 2>&1 ||
      { tail -n 20 "$LOGS/deploy.log" >&2; die "approving $name for $(v "PEER_${org}_MSPID") failed"; }
  done
  wait_for "approvals of $name sequence $want" 60 commit_ready "$(set -- $PEER_ORGS; echo "$1")" "$name" "$want" "${policy[@]}" ||
    die "$name sequence $want is not approved by every org"
  for org in $PEER_ORGS; do
    peers+=(--peerAddresses "$(v "PEER_${org}_ADDR"):$(v "PEER_${org}_PORT")" --tlsRootCertFiles "$(v "PEER_${org}_TLSROOT")")
  done
  as_admin "$(set -- $PEER_ORGS; echo "$1")" lifecycle chaincode commit "${orderer[@]}" -C "$CHANNEL" -n "$name" -v "$version" \
    --sequence "$want" --collections-config "$dir/collections_config.json" "${policy[@]}" "${peers[@]}" \
    --waitForEventTimeout 60s >>"$LOGS/deploy.log" 2>&1 ||
    { tail -n 20 "$LOGS/deploy.log" >&2; die "committing $name sequence $want failed"; }
  wait_for "$name sequence $want on every peer" 60 sequence_committed_everywhere "$name" "$want" ||
    die "$name sequence $want is not committed on every peer"
  printf '%s\n' "$want $fingerprint" > "$dir/deployed"
}

# The chaincode server: the devnet's process and command (network/scripts/supervise.js restarts it
# when fabric-shim exits), with CHAINCODE_ID = the package id the peers launched.
start_chaincode_server() {
  local name="$1" src addr pkgid running
  src="$(chaincode_source_dir "$name")"; addr="$(v "CC_${name}_ADDRESS")"; pkgid="$(cat "$(v "CC_${name}_DIR")/package-id")"
  [ -n "$src" ] && [ -d "$src" ] || die "no source directory for chaincode $name"
  running="$(cat "$PIDS/cc-$name.id" 2>/dev/null || true)"
  if alive "$PIDS/cc-$name.pid" && [ "$running" != "$pkgid" ]; then
    log "chaincode $name: package changed ($running → $pkgid); restarting its server"
    stop_pidfile "$PIDS/cc-$name.pid"
  fi
  if ! alive "$PIDS/cc-$name.pid"; then
    # `cd; cmd &` (not `cd && cmd &`): the subshell must not wait for the server, or it holds our stdout
    (cd "$src" || exit 1; CHAINCODE_SERVER_ADDRESS="$addr" CHAINCODE_ID="$pkgid" \
      setsid node "$REPO_ROOT/network/scripts/supervise.js" --name "chaincode-$name" \
        --pid-file "$PIDS/cc-$name.pid" --log-file "$LOGS/chaincode-$name.log" \
        -- node "$REPO_ROOT/node_modules/.bin/fabric-chaincode-node" server \
           --chaincode-address "$addr" --chaincode-id "$pkgid" </dev/null >/dev/null 2>&1 &)
    printf '%s\n' "$pkgid" > "$PIDS/cc-$name.id"
  fi
  wait_for "chaincode $name ($addr)" 30 tcp_open "${addr##*:}" || fail_with_log "chaincode-$name" "chaincode $name did not start"
}

deploy_all() {
  local name
  for name in $CHAINCODES; do
    [ -n "$(chaincode_source_dir "$name")" ] && [ -d "$(chaincode_source_dir "$name")" ] || { log "chaincode $name: no source in this checkout; skipped"; continue; }
    deploy_chaincode "$name"
    start_chaincode_server "$name"
  done
  node "$HELPER" network-json "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$NETWORK_SH" >/dev/null
}

# Real readiness for clients: every org's gateway can plan and run an endorsement of every chaincode.
wait_endorsable() {
  wait_for "endorsement across orgs (every org's peer gateway, every chaincode)" 120 node "$FABRIC_DIR/lib/probe.js" "$H" || {
    node "$FABRIC_DIR/lib/probe.js" "$H" || true
    die "the peer gateways cannot plan endorsements after 120 s"
  }
}

# ── gateways ────────────────────────────────────────────────────────────────────────────────────
# One REST gateway per utility org, started by lib.sh's start_gateways exactly as on the devnet
# (ports gateway.port+i, secrets per home, pids/gateway-<org>.pid, <home>/gateways.json).
gateway_orgs() { # org names from network.json (empty before the first deploy wrote it)
  [ -s "$H/network.json" ] || return 0
  node -e 'for (const o of require(process.argv[1]).organizations) console.log(o.name)' "$H/network.json"
}

run_gateways() {
  GRIDLEDGER_PORT_BASE="${PORT_BASE_SETTING:-}" NETWORK_CONFIG="$NETWORK_CONFIG" start_gateways
}

all_names() { # every process name, in start order
  local c o org
  for c in $CAS; do v "CA_${c}_NAME"; echo; done
  for o in $ORDERERS; do echo "$o"; done
  for org in $PEER_ORGS; do v "PEER_${org}_NAME"; echo; done
}

# ── commands ────────────────────────────────────────────────────────────────────────────────────
cmd_up() {
  local c o org running=1 n
  load_settings
  for n in $(all_names); do alive "$PIDS/$n.pid" || running=0; done
  [ -n "$(gateway_orgs)" ] || running=0
  for n in $(gateway_orgs); do alive "$PIDS/gateway-$n.pid" || running=0; done
  for n in $CHAINCODES; do [ -z "$(chaincode_source_dir "$n")" ] || alive "$PIDS/cc-$n.pid" || running=0; done
  if [ "$running" = 1 ] && [ -s "$H/network.json" ]; then
    log "already running (Fabric, home $H); stop it with: npm run stop"
    print_summary; return 0
  fi
  log "tier: Fabric $FABRIC_VERSION (binaries: $FABRIC_BIN, CA: $FABRIC_CA_BIN; home $H, port base $PORT_BASE)"
  check_addresses
  rm -f "$H/network.json"
  for c in $CAS; do start_ca "$c"; done
  for c in $CAS; do wait_ca "$c"; done
  enroll_identities
  node "$HELPER" render "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$FABRIC_CFG_TEMPLATE" "$(dirname "$CCAAS_BUILDER")" ||
    die "rendering the node configuration failed"
  if [ ! -s "$H/channel-artifacts/$CHANNEL.block" ]; then
    mkdir -p "$H/channel-artifacts"
    "$FABRIC_BIN/configtxgen" -configPath "$H/config/configtx" -profile EnergyChannel -channelID "$CHANNEL" \
      -outputBlock "$H/channel-artifacts/$CHANNEL.block" >>"$LOGS/channel.log" 2>&1 ||
      { tail -n 20 "$LOGS/channel.log" >&2; die "configtxgen could not create the genesis block of $CHANNEL"; }
    # the batch settings the channel was created with (network.json reports these, not a later network.yaml)
    node -e 'const y=require(require.resolve("yaml",{paths:[process.argv[2]]}));const c=y.parse(require("fs").readFileSync(process.argv[1],"utf8"));const o=c.Profiles.EnergyChannel.Orderer;console.log(JSON.stringify({maxMessageCount:o.BatchSize.MaxMessageCount,timeoutMs:parseInt(o.BatchTimeout,10)}))' \
      "$H/config/configtx/configtx.yaml" "$REPO_ROOT/packages/protocol" > "$H/channel-artifacts/batch.json"
  fi
  for o in $ORDERERS; do start_orderer "$o"; done
  for o in $ORDERERS; do wait_orderer "$o"; done
  join_orderers
  for org in $PEER_ORGS; do start_peer "$org"; done
  for org in $PEER_ORGS; do wait_peer "$org"; done
  join_peers
  deploy_all
  wait_endorsable
  run_gateways
  print_summary
}

# The nodes' addresses (network.yaml `host`) are in their TLS certificates and in the channel's
# genesis block (consenters, orderer endpoints, anchor peers): they cannot change under an existing
# network without re-enrolment and a channel config update, so `up` refuses instead of half-working.
check_addresses() {
  local now c o org
  now="$(for c in $CAS; do printf 'ca %s %s\n' "$c" "$(v "CA_${c}_ADDR")"; done
         for o in $ORDERERS; do printf 'orderer %s %s\n' "$o" "$(v "ORD_${o}_ADDR")"; done
         for org in $PEER_ORGS; do printf 'peer %s %s\n' "$org" "$(v "PEER_${org}_ADDR")"; done)"
  if [ -s "$H/addresses" ]; then
    [ "$(cat "$H/addresses")" = "$now" ] ||
      die "the node addresses in $NETWORK_CONFIG (host:) changed since the network in $H was created:
$(diff <(cat "$H/addresses") <(printf '%s\n' "$now") | sed -n -e 's/^</  was:/p' -e 's/^>/  now:/p')
  certificates and the channel configuration name the old ones; run 'network/fabric/network.sh clean' (deletes this network) or restore them"
  else
    printf '%s\n' "$now" > "$H/addresses"
  fi
}

print_summary() {
  cat <<SUMMARY

GridLedger is running on Fabric $FABRIC_VERSION (home: $H)
$(node -e '
  for (const g of require(process.argv[1]).gateways) {
    console.log(`  REST gateway     ${g.url}   (${g.org}; API docs: /openapi.json, readiness: /ready)`);
    console.log(`  dashboard        ${g.url}/  (open in a browser; sign in with an API key of ${g.org}, e.g. its operator key)`);
  }
' "$H/gateways.json")
  API keys         $H/gateway-<org>/credentials.json
$(node -e '
  const n = require(process.argv[1]);
  for (const o of n.organizations) console.log(`  ${o.name.padEnd(16)} peer ${o.peer.endpoint}   CA ${o.ca.url}   ops ${o.operations}`);
  for (const o of n.orderer.nodes) console.log(`  ${o.name.padEnd(16)} ${o.endpoint}   admin ${o.admin}   ops ${o.operations}   (SmartBFT)`);
  for (const c of n.chaincodes || []) console.log(`  chaincode ${c.name.padEnd(7)}  ${c.address}   ${c.packageId || ""}`);
' "$H/network.json")
  logs             $LOGS   (network/fabric/network.sh logs)
Stop everything with: npm run stop
SUMMARY
}

cmd_down() {
  [ -d "$PIDS" ] || { log "nothing to stop in $H"; return 0; }
  local f
  for f in "$PIDS"/gateway-*.pid "$PIDS/gateway.pid"; do stop_pidfile "$f"; done   # gateway.pid: homes from before start_gateways
  for f in "$PIDS"/cc-*.pid; do stop_pidfile "$f"; done
  rm -f "$PIDS"/cc-*.id
  for f in "$PIDS"/peer*.pid; do stop_pidfile "$f"; done
  for f in "$PIDS"/orderer*.pid; do stop_pidfile "$f"; done
  for f in "$PIDS"/ca-*.pid; do stop_pidfile "$f"; done
}

cmd_restart_ledger() {
  load_settings
  local o org target
  for o in $ORDERERS; do start_orderer "$o"; done
  for o in $ORDERERS; do wait_orderer "$o"; done
  for o in $ORDERERS; do wait_for "$o channel $CHANNEL" 60 orderer_channel_active "$o" || fail_with_log "$o" "$o: channel not active"; done
  for org in $PEER_ORGS; do start_peer "$org"; done
  for org in $PEER_ORGS; do wait_peer "$org"; done
  target="$(orderer_height)"
  for org in $PEER_ORGS; do
    wait_for "$(v "PEER_${org}_NAME") at height $target" 120 peer_caught_up "$org" "$target" ||
      fail_with_log "$(v "PEER_${org}_NAME")" "$(v "PEER_${org}_NAME") did not catch up to height $target"
  done
  wait_gossip
  node "$HELPER" network-json "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$NETWORK_SH" >/dev/null
  wait_endorsable
}

# A channel config update that puts the CRL into the org's MSP (signed by that org's admin, whose
# Admins policy governs its MSP value), then waits until every peer has committed the config block.
cmd_apply_crl() {
  local msp="$1" crl="$2" org="" o tmp orderer=() cfgnum target
  [ -n "$msp" ] && [ -f "$crl" ] || die "usage: network.sh apply-crl <mspId> <crlPemFile>"
  load_settings
  for o in $PEER_ORGS; do [ "$(v "PEER_${o}_MSPID")" = "$msp" ] && org="$o"; done
  [ -n "$org" ] || die "$msp is not an application org of $CHANNEL"
  mapfile -t orderer < <(orderer_args)
  tmp="$(mktemp -d)"
  as_admin "$org" channel fetch config "$tmp/config_block.pb" "${orderer[@]}" -c "$CHANNEL" >>"$LOGS/channel.log" 2>&1 || die "fetching the config of $CHANNEL failed"
  "$FABRIC_BIN/configtxlator" proto_decode --input "$tmp/config_block.pb" --type common.Block --output "$tmp/block.json"
  node -e 'const b=require(process.argv[1]);require("fs").writeFileSync(process.argv[2],JSON.stringify(b.data.data[0].payload.data.config))' "$tmp/block.json" "$tmp/config.json"
  node "$HELPER" crl-update "$tmp/config.json" "$msp" "$crl" "$tmp/modified.json" || die "cannot add the CRL"
  "$FABRIC_BIN/configtxlator" proto_encode --input "$tmp/config.json" --type common.Config --output "$tmp/config.pb"
  "$FABRIC_BIN/configtxlator" proto_encode --input "$tmp/modified.json" --type common.Config --output "$tmp/modified.pb"
  if ! "$FABRIC_BIN/configtxlator" compute_update --channel_id "$CHANNEL" --original "$tmp/config.pb" --updated "$tmp/modified.pb" --output "$tmp/update.pb" 2>"$tmp/err"; then
    if grep -q "no differences" "$tmp/err"; then echo "CRL already in $msp"; rm -rf "$tmp"; return 0; fi
    cat "$tmp/err" >&2; die "configtxlator compute_update failed"
  fi
  "$FABRIC_BIN/configtxlator" proto_decode --input "$tmp/update.pb" --type common.ConfigUpdate --output "$tmp/update.json"
  node "$HELPER" wrap-update "$tmp/update.json" "$CHANNEL" "$tmp/envelope.json"
  "$FABRIC_BIN/configtxlator" proto_encode --input "$tmp/envelope.json" --type common.Envelope --output "$tmp/envelope.pb"
  as_admin "$org" channel update -f "$tmp/envelope.pb" -c "$CHANNEL" "${orderer[@]}" >>"$LOGS/channel.log" 2>&1 ||
    { tail -n 20 "$LOGS/channel.log" >&2; die "the channel config update was refused"; }
  # the config block that carries the CRL: poll the orderer's latest config until it has it
  local has_crl='const b=require(process.argv[1]);const c=b.data.data[0].payload.data.config;const g=c.channel_group.groups.Application.groups;const m=Object.values(g).find(x=>x.values.MSP.value.config.name===process.argv[2]);const l=m.values.MSP.value.config.revocation_list||[];const want=require("fs").readFileSync(process.argv[3],"utf8").match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g).map(p=>Buffer.from(p.trim()+"\n").toString("base64"));process.exit(want.every(w=>l.includes(w))?0:1)'
  crl_config_block() {
    as_admin "$org" channel fetch config "$tmp/new.pb" "${orderer[@]}" -c "$CHANNEL" >/dev/null 2>&1 &&
    "$FABRIC_BIN/configtxlator" proto_decode --input "$tmp/new.pb" --type common.Block --output "$tmp/new.json" &&
    node -e "$has_crl" "$tmp/new.json" "$msp" "$crl"
  }
  wait_for "config block with the CRL of $msp" 60 crl_config_block || die "the CRL did not reach the channel config"
  cfgnum="$(node -e 'console.log(require(process.argv[1]).header.number)' "$tmp/new.json")"
  target=$((cfgnum + 1))
  for o in $PEER_ORGS; do
    wait_for "$(v "PEER_${o}_NAME") at config block $cfgnum" 60 peer_caught_up "$o" "$target" || die "$(v "PEER_${o}_NAME") did not commit config block $cfgnum"
  done
  rm -rf "$tmp"
  echo "CRL applied to $msp in channel $CHANNEL (config block $cfgnum)"
}

cmd_status() {
  load_settings
  local n health url h org o
  printf '%-34s %-8s %-8s %s\n' PROCESS PID STATE HEALTH
  for c in $CAS; do
    n="$(v "CA_${c}_NAME")"; url="http://$(v "CA_${c}_ADDR"):$(v "CA_${c}_OPS")/healthz"
    status_line "$n" "$url"
  done
  for o in $ORDERERS; do status_line "$o" "http://$(v "ORD_${o}_ADDR"):$(v "ORD_${o}_OPS")/healthz"; done
  for org in $PEER_ORGS; do status_line "$(v "PEER_${org}_NAME")" "http://$(v "PEER_${org}_ADDR"):$(v "PEER_${org}_OPS")/healthz"; done
  for n in $CHAINCODES; do status_line "cc-$n" ""; done
  if [ -s "$H/gateways.json" ]; then
    while read -r n url; do status_line "gateway-$n" "$url/ready"; done < <(node -e 'for (const g of require(process.argv[1]).gateways) console.log(g.org, g.url)' "$H/gateways.json")
  else
    for n in $(gateway_orgs); do status_line "gateway-$n" ""; done
  fi
  echo
  echo "channel $CHANNEL heights:"
  for o in $ORDERERS; do
    alive "$PIDS/$o.pid" || { printf '  %-34s down\n' "$o"; continue; }
    h="$(osnadmin_ "$o" channel list --channelID "$CHANNEL" 2>/dev/null | sed -n 's/.*"height": *\([0-9]*\).*/\1/p')"
    printf '  %-34s %s\n' "$o" "${h:-?}"
  done
  for org in $PEER_ORGS; do
    alive "$PIDS/$(v "PEER_${org}_NAME").pid" || { printf '  %-34s down\n' "$(v "PEER_${org}_NAME")"; continue; }
    printf '  %-34s %s\n' "$(v "PEER_${org}_NAME")" "$(peer_height "$org" || echo '?')"
  done
}

status_line() { # name, health url
  local name="$1" url="$2" pid="-" state=down health="-"
  if alive "$PIDS/$name.pid"; then
    pid="$(cat "$PIDS/$name.pid")"; state=up
    if [ -n "$url" ]; then http_ok "$url" && health=ok || health=failing; fi
  fi
  printf '%-34s %-8s %-8s %s\n' "$name" "$pid" "$state" "$health"
}

cmd_logs() {
  local follow=0
  [ "${1:-}" = "-f" ] && { follow=1; shift; }
  [ -d "$LOGS" ] || die "no logs in $H"
  if [ -n "${1:-}" ]; then
    [ -f "$LOGS/$1.log" ] || die "no log $LOGS/$1.log (have: $(cd "$LOGS" && ls | sed 's/\.log$//' | tr '\n' ' '))"
    if [ "$follow" = 1 ]; then exec tail -n 100 -F "$LOGS/$1.log"; else tail -n 100 "$LOGS/$1.log"; fi
  else
    for f in "$LOGS"/*.log; do echo "== $f"; tail -n 15 "$f"; done
  fi
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
  deploy) load_settings; deploy_all; wait_endorsable; log "deployed: $(node -e 'console.log(require(process.argv[1]).chaincodes.map(c=>c.name+"="+c.packageId).join(" "))' "$H/network.json")" ;;
  status) cmd_status ;;
  logs) cmd_logs "$@" ;;
  clean) cmd_clean ;;
  restart-ledger) cmd_restart_ledger ;;
  apply-crl) cmd_apply_crl "${1:-}" "${2:-}" ;;
  help|-h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command $CMD (up|down|deploy|status|logs|clean)" ;;
esac
