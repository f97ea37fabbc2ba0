# Sourced by network/fabric/network.sh (after lib/common.sh). The SmartBFT orderers: start, readiness,
# osnadmin, the live orderer the CLIs talk to, and the channel height they report.

osnadmin_() { # orderer, args... (bounded: a frozen orderer accepts the connection but never answers)
  local o="$1"; shift
  timeout 20 "$FABRIC_BIN/osnadmin" "$@" -o "$(v "ORD_${o}_ADDR"):$(v "ORD_${o}_ADMIN")" --ca-file "$ORDERER_CA_CERT" \
    --client-cert "$ORDERER_ADMIN_TLS/server.crt" --client-key "$ORDERER_ADMIN_TLS/server.key"
}

start_orderer() {
  local o="$1"
  mkdir -p "$(v "ORD_${o}_DATA")"
  start_process "$o" $(in_netns "$(v "ORD_${o}_ADDR")") env FABRIC_CFG_PATH="$(v "ORD_${o}_CFG")" "$FABRIC_BIN/orderer"
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

# Starting and stopping ledger processes from two places at once (restart-ledger from a test, the
# watchdog's restart-orderer) could start one orderer twice on the same ports and ledger: both take this
# lock around their stop/start steps.
with_ledger_lock() { ( flock -w 120 9 || die "another network.sh holds $H/.ledger.lock for 120 s"; "$@" ) 9>"$H/.ledger.lock"; }

# internal (the orderer watchdog, lib/watchdog.js): stop one running orderer that stopped following the
# channel, start it again and wait until it answers; it then catches up from the others.
cmd_restart_orderer() {
  local o="${1:-}"
  load_settings
  printf ' %s ' $ORDERERS | grep -q " $o " || die "usage: network.sh restart-orderer ordererN (one of: $ORDERERS)"
  alive "$PIDS/$o.pid" || die "$o is not running; restart-ledger starts what is not running"
  log "restarting $o (it stopped following $CHANNEL; docs/operations.md §4)"
  with_ledger_lock eval 'stop_pidfile "$PIDS/$o.pid"; start_orderer "$o"'
  wait_orderer "$o"
  deprioritise_ledger "$H" keep
}

# The watchdog runs beside the orderers from `up` (and `restart-ledger`) until `down`;
# GRIDLEDGER_ORDERER_WATCHDOG=0 leaves it off.
start_watchdog() {
  [ "${GRIDLEDGER_ORDERER_WATCHDOG:-1}" = 0 ] && { log "orderer watchdog off (GRIDLEDGER_ORDERER_WATCHDOG=0)"; return 0; }
  start_process watchdog node "$FABRIC_DIR/lib/watchdog.js" "$H" "$NETWORK_SH"
}


# The live orderer (the fault tests kill some) with the greatest channel height: the first of them on a
# tie, the first live one when none answers. An orderer that is alive but behind is a poor place to
# submit to: in a Fabric 3.1.5 suite run under load, orderer1, restarted by fabric/faults.test.ts,
# caught up once and then stopped following the cluster (its SmartBFT log ends at "Seen 2 votes ...
# but I am in view 2 and seq 1607"), and the `add-org` config update sent to it never reached a block.
freshest_orderer() {
  local o h best="" best_h=-1
  for o in $ORDERERS; do
    alive "$PIDS/$o.pid" || continue
    h="$(osnadmin_ "$o" channel list --channelID "$CHANNEL" 2>/dev/null | sed -n 's/.*"height": *\([0-9]*\).*/\1/p')"
    [ -n "$best" ] || best="$o"
    [ -n "$h" ] && [ "$h" -gt "$best_h" ] && { best="$o"; best_h="$h"; }
  done
  [ -n "$best" ] && printf '%s' "$best"
}
orderer_args() {
  local o; o="$(freshest_orderer)" || die "no orderer is running"
  printf '%s\n' -o "$(v "ORD_${o}_ADDR"):$(v "ORD_${o}_PORT")" --tls --cafile "$ORDERER_CA_CERT"
}
orderer_height() {
  local o h best=0
  for o in $ORDERERS; do
    alive "$PIDS/$o.pid" || continue
    h="$(osnadmin_ "$o" channel list --channelID "$CHANNEL" 2>/dev/null | sed -n 's/.*"height": *\([0-9]*\).*/\1/p')"
    [ -n "$h" ] && [ "$h" -gt "$best" ] && best="$h"
  done
  printf '%s' "$best"
}


# The peer CLI as the orderer org's admin: the signer the Orderer group's Admins policy needs
# (MAJORITY Admins of the orderer orgs; one orderer org here). FABRIC_CFG_PATH only supplies core.yaml.
as_orderer_admin() {
  local first; first="$(set -- $PEER_ORGS; echo "$1")"
  FABRIC_CFG_PATH="$(v "PEER_${first}_CFG")" CORE_PEER_LOCALMSPID="$(v "CA_${ORDERER_ORG}_MSPID")" \
  CORE_PEER_MSPCONFIGPATH="$ORDERER_ADMIN_MSP" CORE_PEER_TLS_ENABLED=true CORE_PEER_TLS_ROOTCERT_FILE="$ORDERER_CA_CERT" \
    "$FABRIC_BIN/peer" "$@"
}

# ── changing the consenter set (add-orderer / remove-orderer) ──────────────────────────────────────
# SmartBFT with n consenters tolerates f = ⌊(n−1)/3⌋ faults and orders with a quorum of
# ⌈(n+f+1)/2⌉ (Fabric common/policies ComputeBFTQuorum). Both commands refuse a change that would
# leave fewer than 4 consenters (n ≥ 3f+1 with f ≥ 1), and one that the live orderers could not
# order: the config block itself needs a quorum of the *new* set among the consenters running now
# (a node being added is not running yet). Both are idempotent: a step already done is skipped.
bft_f() { echo $(( ($1 - 1) / 3 )); }
bft_quorum() { local n="$1" f; f="$(bft_f "$1")"; echo $(( (n + f + 1 + 1) / 2 )); }

live_consenters() { # orderer names... → how many are running with the channel active
  local o n=0
  for o in "$@"; do alive "$PIDS/$o.pid" && orderer_channel_active "$o" && n=$((n + 1)); done
  echo "$n"
}

write_orderer_ids() { # ids... → <home>/orderers, then re-read the layout
  printf '%s\n' "$*" > "$H/orderers.tmp" && mv "$H/orderers.tmp" "$H/orderers"
  eval "$(node "$HELPER" env "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H")"
}

# Puts the consenter set of <home>/orderers into the channel config (signed by the orderer org's
# admin), then waits until every running orderer of the new set has the config block.
update_consenters() {
  local tmp rc=0 cfgnum o
  tmp="$(mktemp -d)"
  channel_fetch_config "$tmp" as_orderer_admin
  node "$HELPER" consenters-update "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$tmp/config.json" "$tmp/modified.json" >&2 ||
    die "cannot compute the new consenter set"
  channel_submit_update "$tmp" as_orderer_admin || rc=$?
  if [ "$rc" = 3 ]; then log "the channel config already names these consenters: $ORDERERS"; fi
  cfgnum="$(channel_config_number "$tmp" as_orderer_admin)" || die "cannot read the newest config block"
  cp "$tmp/new.pb" "$H/channel-artifacts/latest-config.block"
  for o in $ORDERERS; do
    alive "$PIDS/$o.pid" || continue
    # 180 s: an orderer that stopped following the channel is restarted by the watchdog (lib/watchdog.js,
    # after GRIDLEDGER_ORDERER_WATCHDOG_STALL_S) and then catches up to this block
    wait_for "$o at config block $cfgnum" 180 orderer_at_height "$o" $((cfgnum + 1)) ||
      fail_with_log "$o" "$o did not commit config block $cfgnum in 180 s (network.sh logs watchdog says whether it was restarted)"
  done
  rm -rf "$tmp"
  CONFIG_BLOCK_NUMBER="$cfgnum"
}

orderer_at_height() { # orderer, height
  local h; h="$(osnadmin_ "$1" channel list --channelID "$CHANNEL" 2>/dev/null | sed -n 's/.*"height": *\([0-9]*\).*/\1/p')"
  [ -n "$h" ] && [ "$h" -ge "$2" ]
}

cmd_add_orderer() {
  local want="${1:-}" ids id n quorum live c before
  load_settings
  c="$ORDERER_ORG"
  ids="$(printf '%s\n' $ORDERERS | sed 's/^orderer//' | tr '\n' ' ')"
  if [ -n "$want" ]; then
    [[ "$want" =~ ^orderer([1-9])$ ]] || die "usage: network.sh add-orderer [ordererN] (N = 1..9)"
    id="${BASH_REMATCH[1]}"
  else
    id=1  # one more than any id used so far, in the set or removed
    for n in $ids $(cat "$H/orderers.removed" 2>/dev/null || true); do if [ "$n" -ge "$id" ]; then id=$((n + 1)); fi; done
    [ "$id" -le 9 ] || die "no free orderer id: ids 1..9 are used or were used (an id is never reused)"
  fi
  if grep -qw "$id" "$H/orderers.removed" 2>/dev/null; then die "orderer$id was removed from $CHANNEL; SmartBFT consenter ids are never reused: add a new one (network.sh add-orderer)"; fi
  before="$ORDERERS"
  if ! printf ' %s ' $ids | grep -q " $id "; then
    n=$(( $(set -- $ids; echo $#) + 1 )); quorum="$(bft_quorum "$n")"
    live="$(live_consenters $ORDERERS)"
    [ "$live" -ge "$quorum" ] || die "refusing to add orderer$id: $n consenters need a quorum of $quorum to order the config block, but only $live of the current $(set -- $ids; echo $#) are running with $CHANNEL active; start them first (network.sh status)"
    log "adding orderer$id: $((n - 1)) → $n consenters (f = $(bft_f "$n"), quorum $quorum)"
    write_orderer_ids $ids "$id"
  else
    log "orderer$id is in the orderer set; checking every step (idempotent)"
  fi
  local o="orderer$id"
  register_identity "$c" "$o" orderer ""
  enroll_msp "$c" "$o" "$(v "ORD_${o}_DIR")/msp"
  enroll_tls "$c" "$o" "$(v "ORD_${o}_DIR")/tls" "$(tls_hosts "$(v "ORD_${o}_HOST")" "$(v "ORD_${o}_ADDR")")"
  node "$HELPER" render "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$FABRIC_CFG_TEMPLATE" "$(dirname "$CCAAS_BUILDER")" ||
    die "rendering the node configuration failed"
  # The config update is ordered by the orderers that run now (the new one is not started yet).
  ORDERERS="$before" update_consenters
  start_orderer "$o"
  wait_orderer "$o"
  if ! osnadmin_ "$o" channel list --channelID "$CHANNEL" 2>/dev/null | grep -q '"name"'; then
    # joined with the config block that names it: it onboards (pulls the blocks before it from the others), then turns active
    osnadmin_ "$o" channel join --channelID "$CHANNEL" --config-block "$H/channel-artifacts/latest-config.block" >>"$LOGS/channel.log" 2>&1 ||
      { tail -n 20 "$LOGS/channel.log" >&2; die "$o could not join channel $CHANNEL"; }
  fi
  wait_for "$o onboarded (channel $CHANNEL active)" 180 orderer_channel_active "$o" || fail_with_log "$o" "$o did not become active in $CHANNEL within 180 s"
  node "$HELPER" network-json "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$NETWORK_SH" >/dev/null
  deprioritise_ledger "$H" keep
  echo "$o is a consenter of $CHANNEL: $ORDERERS ($(set -- $ORDERERS; echo $#) consenters, f = $(bft_f "$(set -- $ORDERERS; echo $#)"))"
}

cmd_remove_orderer() {
  local o="${1:-}" ids rest n quorum live
  [[ "$o" =~ ^orderer[1-9]$ ]] || die "usage: network.sh remove-orderer ordererN"
  load_settings
  ids="$(printf '%s\n' $ORDERERS | sed 's/^orderer//' | tr '\n' ' ')"
  if ! printf ' %s ' $ids | grep -q " ${o#orderer} "; then
    log "$o is not in the orderer set ($ORDERERS); nothing to remove"
  else
    rest="$(printf '%s\n' $ids | grep -vx "${o#orderer}" | tr '\n' ' ')"
    n="$(set -- $rest; echo $#)"
    [ "$n" -ge 4 ] || die "refusing to remove $o: $n consenters would remain, and SmartBFT needs n ≥ 3f+1 = 4 to tolerate one faulty orderer (add one first: network.sh add-orderer)"
    quorum="$(bft_quorum "$n")"
    live="$(live_consenters $(printf 'orderer%s ' $rest))"
    [ "$live" -ge "$quorum" ] || die "refusing to remove $o: the remaining $n consenters need a quorum of $quorum, but only $live of them are running with $CHANNEL active"
    log "removing $o: $((n + 1)) → $n consenters (f = $(bft_f "$n"), quorum $quorum)"
    local keep_pid="$PIDS/$o.pid" keep_addr="$(v "ORD_${o}_ADDR"):$(v "ORD_${o}_ADMIN")"
    write_orderer_ids $rest
    printf '%s\n' "$(cat "$H/orderers.removed" 2>/dev/null) ${o#orderer}" | tr -s ' ' | sed 's/^ //' > "$H/orderers.removed.tmp" && mv "$H/orderers.removed.tmp" "$H/orderers.removed"
    update_consenters
    # the removed node: leave the channel (it no longer receives blocks), then stop it
    if alive "$keep_pid"; then
      "$FABRIC_BIN/osnadmin" channel remove --channelID "$CHANNEL" -o "$keep_addr" --ca-file "$ORDERER_CA_CERT" \
        --client-cert "$ORDERER_ADMIN_TLS/server.crt" --client-key "$ORDERER_ADMIN_TLS/server.key" >>"$LOGS/channel.log" 2>&1 || true
    fi
  fi
  stop_pidfile "$PIDS/$o.pid"
  node "$HELPER" network-json "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$NETWORK_SH" >/dev/null
  echo "$o is not a consenter of $CHANNEL: $ORDERERS ($(set -- $ORDERERS; echo $#) consenters, f = $(bft_f "$(set -- $ORDERERS; echo $#)"))"
}
