# Sourced by network/fabric/network.sh (after lib/common.sh). Chaincode as a service: deterministic
# packages, the lifecycle (install, approve, commit; a change bumps the sequence), the chaincode
# servers, and the end-to-end endorsement probe.

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
  local name="$1" dir odir pkg pkgid pkgids="" seq want org policy=() peers=() orderer=() fingerprint version
  dir="$(v "CC_${name}_DIR")"
  mapfile -t policy < <(policy_args "$(v "CC_${name}_POLICY")")
  mapfile -t orderer < <(orderer_args)
  # One ccaas package per org: its connection.json names that org's chaincode server, so the package,
  # and with it the package id, is the org's own. Each org installs its package on its peer and
  # approves the definition with its own package id (approveformyorg: only the definition must agree
  # across orgs, the package is each org's choice). When every org dials one server the packages are
  # byte-identical (deterministic_tgz), hence one package id.
  for org in $PEER_ORGS; do
    odir="$dir/$org"
    deterministic_tgz "$odir/code.tar.gz" "$odir/src" connection.json
    cp "$odir/src/metadata.json" "$odir/metadata.json"
    pkg="$odir/$name.tar.gz"
    deterministic_tgz "$pkg" "$odir" code.tar.gz metadata.json
    pkgid="$(as_admin "$org" lifecycle chaincode calculatepackageid "$pkg" 2>/dev/null)" || die "cannot compute the package id of $pkg"
    if ! as_admin "$org" lifecycle chaincode queryinstalled 2>/dev/null | grep -q "Package ID: $pkgid,"; then
      if ! as_admin "$org" lifecycle chaincode install "$pkg" >"$LOGS/install.out" 2>&1; then
        cat "$LOGS/install.out" >>"$LOGS/deploy.log"
        grep -q "chaincode already successfully installed" "$LOGS/install.out" ||
          { tail -n 20 "$LOGS/install.out" >&2; die "installing $name on $(v "PEER_${org}_NAME") failed"; }
      fi
      cat "$LOGS/install.out" >>"$LOGS/deploy.log"; rm -f "$LOGS/install.out"
    fi
    printf '%s\n' "$pkgid" > "$odir/package-id"
    pkgids="$pkgids $pkgid"
  done
  version="$(chaincode_version "$name")"
  fingerprint="${pkgids# } $version $(sha256sum "$dir/collections_config.json" | cut -d' ' -f1) $(v "CC_${name}_POLICY")"

  seq="$(committed_sequence "$(set -- $PEER_ORGS; echo "$1")" "$name")"
  if [ "$seq" -gt 0 ] && [ -f "$dir/deployed" ] && [ "$(cat "$dir/deployed")" = "$seq $fingerprint" ]; then
    log "chaincode $name is committed (sequence $seq, packages${pkgids})"
    return 0
  fi
  want=$((seq + 1))
  log "chaincode $name: approving and committing version $version, sequence $want (packages${pkgids})"
  for org in $PEER_ORGS; do
    as_admin "$org" lifecycle chaincode approveformyorg "${orderer[@]}" -C "$CHANNEL" -n "$name" -v "$version" \
      --package-id "$(cat "$dir/$org/package-id")" --sequence "$want" --collections-config "$dir/collections_config.json" "${policy[@]}" \
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

# The chaincode servers of a chaincode, one line each: "<pid-file tag> <org>". Each org's own
# (network.yaml addressPortOffsets: tag <name>-<org>), or the one every org dials (tag <name>; its
# package, and so its CHAINCODE_ID, is the same for every org: the first org's is used).
chaincode_servers() { # name
  local org
  # In netns mode (lib/netns.sh) each utility's host runs its own server even when the servers are
  # identical: the ccaas address is the namespace's own 127.0.0.1, reachable only by that org's peer.
  if [ "$(v "CC_${1}_PERORG")" = 1 ] || netns_enabled; then
    for org in $PEER_ORGS; do printf '%s %s\n' "$1-$org" "$org"; done
  else
    printf '%s %s\n' "$1" "$(set -- $PEER_ORGS; echo "$1")"
  fi
}

# The chaincode servers: the devnet's process and command (network/scripts/supervise.js restarts them
# when fabric-shim exits), with CHAINCODE_ID = the package id the org's peer launched and, for an
# org's own server, CORE_PEER_LOCALMSPID = the org's MSP id (what stub.getMspID() answers, as in the
# environment a Fabric peer gives the chaincode it launches itself). All start, then we wait for each.
start_chaincode_servers() {
  local name="$1" src tag org addr pkgid running msp ns
  src="$(chaincode_source_dir "$name")"
  [ -n "$src" ] && [ -d "$src" ] || die "no source directory for chaincode $name"
  while read -r tag org; do
    addr="$(v "CC_${name}_${org}_ADDRESS")"; pkgid="$(cat "$(v "CC_${name}_DIR")/$org/package-id")"
    msp=""; [ "$tag" = "$name" ] || msp="$(v "PEER_${org}_MSPID")"
    ns="$(in_netns "$(v "PEER_${org}_ADDR")")"
    running="$(cat "$PIDS/cc-$tag.id" 2>/dev/null || true)"
    if alive "$PIDS/cc-$tag.pid" && [ "$running" != "$pkgid" ]; then
      log "chaincode $tag: package changed ($running → $pkgid); restarting its server"
      stop_pidfile "$PIDS/cc-$tag.pid"
    fi
    if ! alive "$PIDS/cc-$tag.pid"; then
      # `cd; cmd &` (not `cd && cmd &`): the subshell must not wait for the server, or it holds our stdout
      (cd "$src" || exit 1; CHAINCODE_SERVER_ADDRESS="$addr" CHAINCODE_ID="$pkgid" \
        setsid $ns env ${msp:+CORE_PEER_LOCALMSPID="$msp"} node "$REPO_ROOT/network/scripts/supervise.js" --name "chaincode-$tag" \
          --pid-file "$PIDS/cc-$tag.pid" --log-file "$LOGS/chaincode-$tag.log" \
          -- node "$REPO_ROOT/node_modules/.bin/fabric-chaincode-node" server \
             --chaincode-address "$addr" --chaincode-id "$pkgid" </dev/null >/dev/null 2>&1 &)
      printf '%s\n' "$pkgid" > "$PIDS/cc-$tag.id"
    fi
  done < <(chaincode_servers "$name")
  while read -r tag org; do
    addr="$(v "CC_${name}_${org}_ADDRESS")"; ns="$(in_netns "$(v "PEER_${org}_ADDR")")"
    # probed from inside the org's namespace in netns mode (its chaincode port is closed to others)
    wait_for "chaincode $tag ($addr)" 30 $ns bash -c "$(declare -f tcp_open); tcp_open ${addr##*:}" ||
      fail_with_log "chaincode-$tag" "chaincode $tag did not start"
  done < <(chaincode_servers "$name")
}

deploy_all() {
  local name
  for name in $CHAINCODES; do
    [ -n "$(chaincode_source_dir "$name")" ] && [ -d "$(chaincode_source_dir "$name")" ] || { log "chaincode $name: no source in this checkout; skipped"; continue; }
    deploy_chaincode "$name"
    start_chaincode_servers "$name"
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
