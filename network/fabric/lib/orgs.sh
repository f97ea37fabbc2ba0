# Sourced by network/fabric/network.sh (after lib/common.sh). Consortium membership: a utility joins
# the channel (add-org) or leaves it (remove-org). docs/operations.md §3.
#
# The membership lives in <home>/network.yaml (fabric.js org-add / org-remove write it; load_settings
# reads it instead of the network.yaml the network was created from). Adding or removing an application
# org changes the channel's Application group, whose mod_policy is its Admins policy: MAJORITY Admins of
# the application orgs (fabric.js render, configtx.yaml Application.Policies). So both commands collect
# the signatures of a majority of the member utilities' admins (peer channel signconfigtx, the last one
# signs by submitting). Both are idempotent: every step checks whether it is done, and a second run that
# finds everything in place says so.

# Fewer than three utilities would leave no fault tolerance: MAJORITY Endorsement of two orgs needs both
# (one utility down stops every transaction), and a committee of 3f+1 = 4 seats holds at most 2f = 2
# seats per utility (chaincode governance/domain/quorum.ts maxCustodianSeats), so needs members of at
# least two utilities besides any one that is down.
MIN_UTILITIES=3

org_known() { printf ' %s ' $PEER_ORGS | grep -q " $1 "; }

# The application orgs' MSP IDs in the channel config the orderers hold now (DIR/config.json after the call).
channel_member_msps() { # dir, runner org
  channel_fetch_config "$1" as_admin "$2"
  node "$HELPER" org-in-channel "$1/config.json"
}

# Picks the admins who sign: a majority of the n member orgs of the channel, never `exclude` (the org
# being added or removed). Prints their org names, or refuses.
majority_signers() { # n (members in the channel), exclude, what
  local n="$1" exclude="$2" what="$3" need org out=() missing=()
  need=$(( n / 2 + 1 ))
  for org in $PEER_ORGS; do
    [ "$org" = "$exclude" ] && continue
    if [ -s "$(v "PEER_${org}_ADMINMSP")/signcerts/cert.pem" ] && [ -s "$(v "PEER_${org}_ADMINMSP")/keystore/priv_sk" ]; then
      out+=("$org")
    else
      missing+=("$org")
    fi
  done
  [ "${#out[@]}" -ge "$need" ] ||
    die "refusing to $what: the channel's Admins policy (MAJORITY Admins of its $n utilities) needs $need admin signatures, but only ${#out[@]} admins' keys are here (${out[*]:-none}; missing: ${missing[*]:-none})"
  printf '%s\n' "${out[@]:0:$need}"
}

# Signs DIR/envelope.pb as every signer but the last, and submits it as the last (the update carries all
# signatures). Returns 3 when there is nothing to change.
channel_update_signed() { # dir, signer orgs...
  local dir="$1" rc=0 last org orderer=(); shift
  channel_prepare_envelope "$dir" || rc=$?
  [ "$rc" = 0 ] || return "$rc"
  last="${*: -1}"
  for org in "$@"; do
    [ "$org" = "$last" ] && break
    as_admin "$org" channel signconfigtx -f "$dir/envelope.pb" >>"$LOGS/channel.log" 2>&1 ||
      { tail -n 20 "$LOGS/channel.log" >&2; die "$(v "PEER_${org}_MSPID")'s admin could not sign the config update"; }
  done
  mapfile -t orderer < <(orderer_args)
  as_admin "$last" channel update -f "$dir/envelope.pb" -c "$CHANNEL" "${orderer[@]}" >>"$LOGS/channel.log" 2>&1 ||
    { tail -n 20 "$LOGS/channel.log" >&2; die "the channel config update was refused (signed by: $*)"; }
}

# True when the channel config the orderers hold lists (want=yes) or does not list (no) the MSP.
msp_in_channel_is() { # yes|no, runner org, mspId
  local tmp listed=no
  tmp="$(mktemp -d)"
  if (channel_member_msps "$tmp" "$2" 2>/dev/null | grep -qx "$3"); then listed=yes; fi
  rm -rf "$tmp"
  [ "$listed" = "$1" ]
}

# Waits until the config update is in a block (want: yes|no for the MSP), then until the orgs' peers
# have committed that block; prints its number.
wait_config_committed() { # dir, runner org, yes|no, mspId, orgs...
  local dir="$1" runner="$2" want="$3" msp="$4" cfgnum org; shift 4
  wait_for "channel config with$([ "$want" = yes ] || echo out) $msp" 60 msp_in_channel_is "$want" "$runner" "$msp" ||
    die "the config update for $msp did not reach a block in 60 s"
  cfgnum="$(channel_config_number "$dir" as_admin "$runner")" || die "cannot read the newest config block"
  for org in "$@"; do
    wait_for "$(v "PEER_${org}_NAME") at config block $cfgnum" 60 peer_caught_up "$org" $((cfgnum + 1)) ||
      fail_with_log "$(v "PEER_${org}_NAME")" "$(v "PEER_${org}_NAME") did not commit config block $cfgnum"
  done
  echo "$cfgnum"
}

write_addresses() { node_addresses > "$H/addresses"; }

render_config() {
  node "$HELPER" render "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$FABRIC_CFG_TEMPLATE" "$(dirname "$CCAAS_BUILDER")" ||
    die "rendering the node configuration failed"
}

cmd_add_org() {
  local name="${1:-}" host="${2:-}" tmp msp members n org cfgnum signers=() did=()
  [[ "$name" =~ ^[a-z][a-z0-9]{0,30}$ ]] || die "usage: network.sh add-org <name> [host] (name: lower-case letters and digits, e.g. utility4)"
  load_settings
  [ -s "$H/network.json" ] || die "no network in $H (run network.sh up first)"
  if grep -qx "$name" "$H/orgs.removed" 2>/dev/null; then
    die "$name left $CHANNEL (network.sh remove-org); a name is never reused (its CA, certificates and retired collection remain): choose another name"
  fi
  org="$name"
  # each org on its own host (lib/netns.sh): the new utility needs its own address in the bridge's /24;
  # without one it gets the next free one after the highest in use (e.g. 10.77.0.14 after .13)
  if netns_enabled && [ -z "$host" ] && ! org_known "$org"; then
    host="$(awk '{ split($1, a, "."); if (a[4] > m) { m = a[4]; p = a[1] "." a[2] "." a[3] } } END { if (m < 254) print p "." (m + 1) }' "$H/netns/hosts")"
    [ -n "$host" ] || die "no free address left in the bridge's /24 for $name: give it one (network.sh add-org $name <address>)"
    log "$name: host $host (the next free address on the namespaces' bridge)"
  fi
  tmp="$(mktemp -d)"
  local first; first="$(for o in $PEER_ORGS; do [ "$o" != "$org" ] && { echo "$o"; break; }; done)"
  members="$(channel_member_msps "$tmp" "$first")"
  n="$(printf '%s\n' "$members" | grep -c .)"
  if ! org_known "$org"; then
    mapfile -t signers < <(majority_signers "$n" "$org" "add $name")
    [ "${#signers[@]}" -gt 0 ] || exit 1
    log "adding $name: $n → $((n + 1)) utilities (config update signed by ${signers[*]})"
    node "$HELPER" org-add "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$name" "$host" "$H/network.yaml.tmp" >&2 ||
      die "cannot add $name to the network definition"
    mv "$H/network.yaml.tmp" "$H/network.yaml"
    load_settings
    did+=("network.yaml")
  fi
  msp="$(v "PEER_${org}_MSPID")"
  if netns_enabled; then netns_up; fi   # its namespace and firewall, beside the others' (idempotent)
  # its CA and identities (admin, peer, operator), then the node configuration (core.yaml, configtx.yaml
  # with its org, collections with its private collection)
  start_ca "$org"; wait_ca "$org"
  enroll_identities
  render_config
  # the org definition (configtxgen -printOrg) into the channel config, signed by a majority of the members
  if ! printf '%s\n' "$members" | grep -qx "$msp"; then
    [ "${#signers[@]}" -gt 0 ] || mapfile -t signers < <(majority_signers "$n" "$org" "add $name")
    [ "${#signers[@]}" -gt 0 ] || exit 1
    "$FABRIC_BIN/configtxgen" -configPath "$H/config/configtx" -printOrg "$msp" > "$tmp/org.json" 2>>"$LOGS/channel.log" ||
      { tail -n 20 "$LOGS/channel.log" >&2; die "configtxgen -printOrg $msp failed"; }
    node "$HELPER" org-join-update "$tmp/config.json" "$msp" "$tmp/org.json" "$(v "PEER_${org}_ADDR")" "$(v "PEER_${org}_PORT")" "$tmp/modified.json"
    channel_update_signed "$tmp" "${signers[@]}" || true
    cfgnum="$(wait_config_committed "$tmp" "${signers[0]}" yes "$msp" $(printf '%s\n' $PEER_ORGS | grep -vx "$org"))" || exit 1
    log "$msp is in the channel config (block $cfgnum)"
    did+=("channel config")
  fi
  write_addresses
  # its peer joins from the genesis block and catches up (it validates every block, the config updates included)
  start_peer "$org"; wait_peer "$org"
  if ! as_admin "$org" channel list 2>/dev/null | grep -qx "$CHANNEL"; then
    as_admin "$org" channel join -b "$H/channel-artifacts/$CHANNEL.block" >>"$LOGS/channel.log" 2>&1 ||
      { tail -n 20 "$LOGS/channel.log" >&2; die "$(v "PEER_${org}_NAME") could not join channel $CHANNEL"; }
    did+=("peer joined")
  fi
  wait_peers_caught_up
  wait_gossip
  # the chaincode definitions: the new member's collection (and maxPeerCount) change them, so a new
  # sequence that every member approves, the new one included (deploy_chaincode: install, approve, commit)
  local before after; before="$(cat "$H"/chaincode/*/deployed 2>/dev/null | md5sum)"
  deploy_all
  after="$(cat "$H"/chaincode/*/deployed 2>/dev/null | md5sum)"
  [ "$before" = "$after" ] || did+=("chaincode definitions")
  wait_endorsable
  alive "$PIDS/gateway-$org.pid" || did+=("gateway")
  run_gateways
  deprioritise_ledger "$H" keep   # the new peer and chaincode servers at the weight of the others
  rm -rf "$tmp"
  if [ "${#did[@]}" -eq 0 ]; then
    echo "$name ($msp) is already a member of $CHANNEL; nothing changed"
  else
    echo "$name ($msp) is a member of $CHANNEL: $(printf '%s ' $PEER_ORGS)($(set -- $PEER_ORGS; echo $#) utilities; done: ${did[*]})"
  fi
}

cmd_remove_org() {
  local name="${1:-}" org tmp msp members n first cfgnum signers=() rest did=() entry c id type attrs
  [[ "$name" =~ ^[a-z][a-z0-9]{0,30}$ ]] || die "usage: network.sh remove-org <name>"
  load_settings
  org="$name"
  tmp="$(mktemp -d)"
  first="$(for o in $PEER_ORGS; do [ "$o" != "$org" ] && { echo "$o"; break; }; done)"
  members="$(channel_member_msps "$tmp" "$first")"
  n="$(printf '%s\n' "$members" | grep -c .)"
  if ! org_known "$org"; then
    grep -qx "$name" "$H/orgs.removed" 2>/dev/null ||
      die "$name is not a utility of this network (members: $PEER_ORGS)"
    log "$name is not a member of $CHANNEL (removed earlier); checking that its processes are stopped"
  else
    msp="$(v "PEER_${org}_MSPID")"
    for entry in $IDENTITIES; do
      IFS='|' read -r c id type attrs <<<"$entry"
      if [ "$c" = "$org" ] && [[ "$attrs" == *role=regulator* ]]; then
        die "refusing to remove $name: it holds the regulator identity ($id); the regulator role must move to another utility first"
      fi
    done
    rest="$(printf '%s\n' $PEER_ORGS | grep -vx "$org" | tr '\n' ' ')"
    [ "$(set -- $rest; echo $#)" -ge "$MIN_UTILITIES" ] ||
      die "refusing to remove $name: $(set -- $rest; echo $#) utilities would remain, fewer than $MIN_UTILITIES (MAJORITY Endorsement of two needs both; committees need members of several utilities; lib/orgs.sh)"
    if printf '%s\n' "$members" | grep -qx "$msp"; then
      mapfile -t signers < <(majority_signers "$n" "$org" "remove $name")
      [ "${#signers[@]}" -gt 0 ] || exit 1
      log "removing $name: $n → $((n - 1)) utilities (config update signed by ${signers[*]})"
      # its gateway first: no client of it submits while its org leaves
      stop_pidfile "$PIDS/gateway-$org.pid"
      node "$HELPER" org-leave-update "$tmp/config.json" "$msp" "$tmp/modified.json"
      channel_update_signed "$tmp" "${signers[@]}" || true
      cfgnum="$(wait_config_committed "$tmp" "${signers[0]}" no "$msp" $rest)" || exit 1
      log "$msp left the channel config (block $cfgnum)"
      did+=("channel config")
    fi
    node "$HELPER" org-remove "$NETWORK_CONFIG" "${PORT_BASE_SETTING:-}" "$H" "$name" "$H/network.yaml.tmp" >&2 ||
      die "cannot remove $name from the network definition"
    mv "$H/network.yaml.tmp" "$H/network.yaml"
    printf '%s\n' "$name" >> "$H/orgs.removed"
    did+=("network.yaml")
  fi
  # its processes, then the rest of the network without it
  local p
  # (its own chaincode servers too: cc-<chaincode>-<org>.pid, lib/chaincode.sh chaincode_servers)
  for p in "$PIDS/gateway-$org.pid" "$PIDS/peer0.$org".*.pid "$PIDS"/cc-*-"$org".pid "$PIDS/ca-$org.pid"; do
    if alive "$p"; then stop_pidfile "$p"; did+=("stopped $(basename "$p" .pid)"); fi
  done
  load_settings
  render_config
  local before after; before="$(cat "$H"/chaincode/*/deployed 2>/dev/null | md5sum)"
  deploy_all
  after="$(cat "$H"/chaincode/*/deployed 2>/dev/null | md5sum)"
  [ "$before" = "$after" ] || did+=("chaincode definitions")
  write_addresses
  wait_endorsable
  run_gateways
  rm -rf "$tmp"
  if [ "${#did[@]}" -eq 0 ]; then
    echo "$name is not a member of $CHANNEL; nothing changed"
  else
    echo "$name left $CHANNEL: $(printf '%s ' $PEER_ORGS)($(set -- $PEER_ORGS; echo $#) utilities; done: ${did[*]})"
  fi
}
