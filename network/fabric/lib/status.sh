# Sourced by network/fabric/network.sh (after lib/common.sh). status, logs and the summary printed by up.

# The start summary is the devnet's too: one printer, network/scripts/summary.js.
print_summary() {
  node "$REPO_ROOT/network/scripts/summary.js" "$H" "Fabric $FABRIC_VERSION" "$LOGS   (network/fabric/network.sh logs)"
}

cmd_status() {
  load_settings
  local n health url h org o f
  printf '%-34s %-8s %-8s %s\n' PROCESS PID STATE HEALTH
  for c in $CAS; do
    n="$(v "CA_${c}_NAME")"; url="http://$(v "CA_${c}_ADDR"):$(v "CA_${c}_OPS")/healthz"
    status_line "$n" "$url"
  done
  for o in $ORDERERS; do status_line "$o" "http://$(v "ORD_${o}_ADDR"):$(v "ORD_${o}_OPS")/healthz"; done
  for org in $PEER_ORGS; do status_line "$(v "PEER_${org}_NAME")" "http://$(v "PEER_${org}_ADDR"):$(v "PEER_${org}_OPS")/healthz"; done
  status_line watchdog ""   # the orderer watchdog (lib/watchdog.js; GRIDLEDGER_ORDERER_WATCHDOG=0 turns it off)
  for n in $CHAINCODES; do while read -r c _; do status_line "cc-$c" ""; done < <(chaincode_servers "$n"); done
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

