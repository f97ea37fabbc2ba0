# Sourced by network/fabric/network.sh (after lib/common.sh). Peers: the admin CLI of an org, start,
# readiness, height, gossip membership.

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
  start_process "$name" $(in_netns "$(v "PEER_${org}_ADDR")") env FABRIC_CFG_PATH="$(v "PEER_${org}_CFG")" CORE_PEER_TLS_ENABLED=true "$FABRIC_BIN/peer" node start
}

wait_peer() {
  local org="$1" name; name="$(v "PEER_${org}_NAME")"
  wait_for "$name ($(v "PEER_${org}_ADDR"):$(v "PEER_${org}_PORT"))" 60 http_ok "http://$(v "PEER_${org}_ADDR"):$(v "PEER_${org}_OPS")/healthz" ||
    fail_with_log "$name" "$name did not become healthy in 60 s"
}

peer_height() { as_admin "$1" channel getinfo -c "$CHANNEL" 2>/dev/null | sed -n 's/.*"height":\([0-9]*\).*/\1/p'; }

peer_caught_up() { # org, height
  local h; h="$(peer_height "$1")"; [ -n "$h" ] && [ "$h" -ge "$2" ]
}

# Waits until every peer holds the orderers' current height (after a channel join or a restart).
wait_peers_caught_up() {
  local org target; target="$(orderer_height)"
  for org in $PEER_ORGS; do
    wait_for "$(v "PEER_${org}_NAME") at height $target" 120 peer_caught_up "$org" "$target" ||
      fail_with_log "$(v "PEER_${org}_NAME")" "$(v "PEER_${org}_NAME") did not reach height $target"
  done
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
