# Sourced by network/fabric/network.sh (after lib/common.sh). The Fabric CAs (one per org) and every
# identity enrolled from them: registrar, org admins, node MSP and TLS certificates, network.yaml identities.

start_ca() {
  local c="$1" name port ops home domain addr
  addr="$(v "CA_${c}_ADDR")"; name="$(v "CA_${c}_NAME")"; port="$(v "CA_${c}_PORT")"; ops="$(v "CA_${c}_OPS")"; home="$(v "CA_${c}_HOME")"; domain="$(v "CA_${c}_DOMAIN")"
  mkdir -p "$home"
  # operations/metrics have no command-line flags in fabric-ca-server: environment only
  start_process "$name" $(in_netns "$addr") env FABRIC_CA_SERVER_HOME="$home" FABRIC_CA_SERVER_OPERATIONS_LISTENADDRESS="$addr:$ops" \
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
