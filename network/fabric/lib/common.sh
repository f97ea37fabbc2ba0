# Sourced by network/fabric/network.sh (after lib/common.sh). Settings and process handling shared by every
# concern: the per-home marker that pins binaries and ports, pid-file liveness, starting a logged process.

# Binaries and ports are fixed at the first `up` and kept in the marker.
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
  # the consortium's current membership, once add-org / remove-org changed it (lib/orgs.sh)
  if [ -s "$H/network.yaml" ]; then NETWORK_CONFIG="$H/network.yaml"; fi
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

start_process() { # name, command... (env assignments allowed via env)
  local name="$1"; shift
  if alive "$PIDS/$name.pid"; then return 0; fi
  # 9>&-: the process must not inherit the ledger lock's descriptor (lib/orderers.sh with_ledger_lock),
  # or it would hold the lock for as long as it runs
  setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 9>&- &
  echo $! > "$PIDS/$name.pid"
}


fail_with_log() { # name, message
  log "tail of $LOGS/$1.log:"; tail -n 25 "$LOGS/$1.log" >&2 || true
  die "$2"
}
