# Sourced by network/fabric/network.sh (after lib/common.sh). Channel `energy`: the genesis block
# (configtxgen), orderers joining it with osnadmin (no system channel), peers joining it, and channel
# configuration updates.

# The genesis block of the channel (configtxgen, profile EnergyChannel rendered by fabric.js), once.
create_channel_block() {
  [ -s "$H/channel-artifacts/$CHANNEL.block" ] && return 0
  mkdir -p "$H/channel-artifacts"
  "$FABRIC_BIN/configtxgen" -configPath "$H/config/configtx" -profile EnergyChannel -channelID "$CHANNEL" \
    -outputBlock "$H/channel-artifacts/$CHANNEL.block" >>"$LOGS/channel.log" 2>&1 ||
    { tail -n 20 "$LOGS/channel.log" >&2; die "configtxgen could not create the genesis block of $CHANNEL"; }
  # the batch settings the channel was created with (network.json reports these, not a later network.yaml)
  node -e 'const y=require(require.resolve("yaml",{paths:[process.argv[2]]}));const c=y.parse(require("fs").readFileSync(process.argv[1],"utf8"));const o=c.Profiles.EnergyChannel.Orderer;console.log(JSON.stringify({maxMessageCount:o.BatchSize.MaxMessageCount,timeoutMs:parseInt(o.BatchTimeout,10)}))' \
    "$H/config/configtx/configtx.yaml" "$REPO_ROOT/packages/protocol" > "$H/channel-artifacts/batch.json"
}

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

join_peers() {
  local org
  for org in $PEER_ORGS; do
    if ! as_admin "$org" channel list 2>/dev/null | grep -qx "$CHANNEL"; then
      as_admin "$org" channel join -b "$H/channel-artifacts/$CHANNEL.block" >>"$LOGS/channel.log" 2>&1 ||
        { tail -n 20 "$LOGS/channel.log" >&2; die "$(v "PEER_${org}_NAME") could not join channel $CHANNEL"; }
    fi
  done
  wait_peers_caught_up
  wait_gossip
}

# A channel configuration update in three steps, for every command that changes the channel:
#   channel_fetch_config DIR RUNNER...     DIR/config.json: the channel config the orderers hold now
#   (the caller writes DIR/modified.json)
#   channel_submit_update DIR RUNNER...    computes the update, wraps it, signs and submits it with RUNNER
#                                          (as_admin <org> or as_orderer_admin); returns 3 when there is nothing to change
# RUNNER is a command prefix that runs the peer CLI as an admin whose signature the update's mod_policy needs.
channel_fetch_config() {
  local dir="$1"; shift
  local orderer=(); mapfile -t orderer < <(orderer_args)
  "$@" channel fetch config "$dir/config_block.pb" "${orderer[@]}" -c "$CHANNEL" >>"$LOGS/channel.log" 2>&1 || die "fetching the config of $CHANNEL failed"
  "$FABRIC_BIN/configtxlator" proto_decode --input "$dir/config_block.pb" --type common.Block --output "$dir/block.json"
  node -e 'const b=require(process.argv[1]);require("fs").writeFileSync(process.argv[2],JSON.stringify(b.data.data[0].payload.data.config))' "$dir/block.json" "$dir/config.json"
}

channel_submit_update() {
  local dir="$1" rc=0; shift
  local orderer=(); mapfile -t orderer < <(orderer_args)
  channel_prepare_envelope "$dir" || rc=$?
  [ "$rc" = 0 ] || return "$rc"
  "$@" channel update -f "$dir/envelope.pb" -c "$CHANNEL" "${orderer[@]}" >>"$LOGS/channel.log" 2>&1 ||
    { tail -n 20 "$LOGS/channel.log" >&2; die "the channel config update was refused"; }
}

# DIR/config.json + DIR/modified.json → DIR/envelope.pb, the unsigned config update envelope (returns 3
# when there is nothing to change). Separate from the submission for updates that need several
# signatures (lib/orgs.sh channel_update_signed).
channel_prepare_envelope() {
  local dir="$1"
  "$FABRIC_BIN/configtxlator" proto_encode --input "$dir/config.json" --type common.Config --output "$dir/config.pb"
  "$FABRIC_BIN/configtxlator" proto_encode --input "$dir/modified.json" --type common.Config --output "$dir/modified.pb"
  if ! "$FABRIC_BIN/configtxlator" compute_update --channel_id "$CHANNEL" --original "$dir/config.pb" --updated "$dir/modified.pb" --output "$dir/update.pb" 2>"$dir/err"; then
    if grep -q "no differences" "$dir/err"; then return 3; fi
    cat "$dir/err" >&2; die "configtxlator compute_update failed"
  fi
  "$FABRIC_BIN/configtxlator" proto_decode --input "$dir/update.pb" --type common.ConfigUpdate --output "$dir/update.json"
  node "$HELPER" wrap-update "$dir/update.json" "$CHANNEL" "$dir/envelope.json"
  "$FABRIC_BIN/configtxlator" proto_encode --input "$dir/envelope.json" --type common.Envelope --output "$dir/envelope.pb"
}

# The number of the newest config block (the orderers' view), from a config block fetched into DIR/new.pb.
channel_config_number() { # dir, runner...
  local dir="$1"; shift
  local orderer=(); mapfile -t orderer < <(orderer_args)
  "$@" channel fetch config "$dir/new.pb" "${orderer[@]}" -c "$CHANNEL" >/dev/null 2>&1 &&
  "$FABRIC_BIN/configtxlator" proto_decode --input "$dir/new.pb" --type common.Block --output "$dir/new.json" &&
  node -e 'console.log(require(process.argv[1]).header.number)' "$dir/new.json"
}

# A channel config update that puts the CRL into the org's MSP (signed by that org's admin, whose
# Admins policy governs its MSP value), then waits until every peer has committed the config block.
cmd_apply_crl() {
  local msp="$1" crl="$2" org="" o tmp orderer=() cfgnum target rc=0
  [ -n "$msp" ] && [ -f "$crl" ] || die "usage: network.sh apply-crl <mspId> <crlPemFile>"
  load_settings
  for o in $PEER_ORGS; do [ "$(v "PEER_${o}_MSPID")" = "$msp" ] && org="$o"; done
  [ -n "$org" ] || die "$msp is not an application org of $CHANNEL"
  mapfile -t orderer < <(orderer_args)
  tmp="$(mktemp -d)"
  channel_fetch_config "$tmp" as_admin "$org"
  node "$HELPER" crl-update "$tmp/config.json" "$msp" "$crl" "$tmp/modified.json" || die "cannot add the CRL"
  channel_submit_update "$tmp" as_admin "$org" || rc=$?
  if [ "$rc" = 3 ]; then echo "CRL already in $msp"; rm -rf "$tmp"; return 0; fi
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

