# Sourced by network/fabric/network.sh (after lib/common.sh). Separate hosts on one machine: each
# organisation's `host:` (network.yaml) becomes a Linux network namespace holding that address, joined to
# the others by a bridge, with a firewall that lets other hosts reach only the ports docs/operations.md §3
# says to open. Every process of an org is started inside its namespace (`ip netns exec`), so it binds
# and is reached only there. Opt-in (GRIDLEDGER_NETNS=1 on the first `up`; needs root, iproute2 and
# nftables); the namespaces, bridge, veths and rules are created by `up` and removed by `down`.
#
# Layout (one network per port base, so two can run side by side):
#   namespace gl<PORT_BASE>-<org> per distinct host, veth gl<PORT_BASE>v<i> on bridge gl<PORT_BASE>br,
#   the bridge holds <prefix>.1 (the hosts must share one /24 and not use .1): the root namespace is
#   the clients' and operators' network (test runner, peer/osnadmin CLIs, monitoring).
#   <home>/netns/hosts: "<address> <namespace> <org>" per host — the mode's on-switch for later commands
#   (restart-ledger, add-orderer, start_gateways) and for `down`.
#
# Firewall (nftables, table inet gridledger, chain input policy drop, in every namespace): loopback and
# established traffic pass; from any host on the bridge: the inter-org ports (orderers' listen ports
# 20+N, N = 1..9, on the orderer host; the peer port K·100+1 on utility K's host); from the bridge
# address only (clients/operators): the CAs, the REST gateways, the orderers' admin ports 30+N and every
# operations endpoint. Any other port (e.g. the peer's chaincode listener) answers "administratively
# prohibited" (EHOSTUNREACH), which test/e2e/netns/isolation.test.ts checks.

netns_prefix() { printf 'gl%s' "$PORT_BASE"; }
netns_enabled() { [ -s "$H/netns/hosts" ]; }

# `ip netns exec <ns>` for the namespace holding <address>, nothing outside netns mode: callers put
# $(in_netns "$addr") in front of the command they start.
in_netns() { # address
  netns_enabled || return 0
  local ns; ns="$(awk -v a="$1" '$1 == a { print $2 }' "$H/netns/hosts")"
  [ -z "$ns" ] || printf 'ip netns exec %s' "$ns"
}

netns_require() {
  [ "$(id -u)" = 0 ] || die "GRIDLEDGER_NETNS=1 needs root (network namespaces, veth pairs, nftables)"
  command -v ip >/dev/null || die "GRIDLEDGER_NETNS=1 needs iproute2 (apt-get install iproute2)"
  if ! command -v nft >/dev/null; then
    command -v apt-get >/dev/null || die "GRIDLEDGER_NETNS=1 needs nftables (nft)"
    log "installing nftables for the namespace firewall (apt-get install nftables)"
    { apt-get install -y -qq nftables || { apt-get update -qq && apt-get install -y -qq nftables; }; } >/dev/null ||
      die "could not install nftables"
  fi
}

# "<address> <org> <public ports> <operator ports>" per org (ports as nft sets), from the layout.
netns_plan() {
  local c org addr pub ops i=0
  for c in $CAS; do
    org="$(v "CA_${c}_ORG")"; addr="$(v "CA_${c}_ADDR")"
    ops="$(v "CA_${c}_PORT"), $(v "CA_${c}_OPS")"
    if [ "$c" = "$ORDERER_ORG" ]; then
      pub="$((PORT_BASE + 21))-$((PORT_BASE + 29))"
      ops="$ops, $((PORT_BASE + 31))-$((PORT_BASE + 39)), $((PORT_BASE + 41))-$((PORT_BASE + 49))"
    else
      pub="$(v "PEER_${c}_PORT")"
      # its gateway: the port it keeps (<home>/gateway-<org>/port), else gateway.port + index (lib.sh start_gateways)
      ops="$ops, $(v "PEER_${c}_OPS"), $(cat "$H/gateway-$org/port" 2>/dev/null || echo $((GATEWAY_PORT + i)))"
      i=$((i + 1))
    fi
    printf '%s %s {%s} {%s}\n' "$addr" "$org" "$pub" "$ops"
  done
}

# Creates what is missing (never deletes: processes may run in an existing namespace) and (re)loads
# every namespace's firewall.
netns_up() {
  netns_require
  local p br prefix a addr org pub ops ns i=0 veth plan seen=""
  p="$(netns_prefix)"; br="${p}br"
  plan="$(netns_plan)"
  prefix=""
  while read -r addr _ _ _; do
    [[ "$addr" =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.([0-9]+)$ ]] ||
      die "GRIDLEDGER_NETNS=1: host $addr in $NETWORK_CONFIG is not an IPv4 address; give every org a host: in one /24 (e.g. 10.77.0.10, .11, ...)"
    case "$addr" in 127.*) die "GRIDLEDGER_NETNS=1: host $addr is a loopback address; give every org a host: in one /24 (network/scripts/test.sh writes such a network.yaml)" ;; esac
    [ "${BASH_REMATCH[2]}" != 1 ] || die "GRIDLEDGER_NETNS=1: $addr is the bridge's address (.1); use another"
    [ -z "$prefix" ] || [ "$prefix" = "${BASH_REMATCH[1]}" ] || die "GRIDLEDGER_NETNS=1: the hosts must share one /24 ($prefix.x and $addr)"
    prefix="${BASH_REMATCH[1]}"
  done <<<"$plan"
  if ! ip link show "$br" >/dev/null 2>&1; then
    ip link add "$br" type bridge || die "cannot create bridge $br"
  fi
  ip addr replace "$prefix.1/24" dev "$br"
  ip link set "$br" up
  mkdir -p "$H/netns"; : > "$H/netns/hosts.tmp"
  while read -r addr org pub ops; do
    case " $seen " in *" $addr "*) continue ;; esac   # orgs sharing a host share its namespace
    seen="$seen $addr"
    ns="$p-$org"; veth="${p}v$i"; i=$((i + 1))
    ip netns list | grep -qx "$ns\( (id: [0-9]*)\)\{0,1\}" || ip netns add "$ns" || die "cannot create namespace $ns"
    ip -n "$ns" link set lo up
    if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
      ip link del "$veth" 2>/dev/null || true
      ip link add "$veth" type veth peer name "${veth}n" && ip link set "${veth}n" netns "$ns" &&
        ip -n "$ns" link set "${veth}n" name eth0 || die "cannot link namespace $ns to $br"
    fi
    ip link set "$veth" master "$br" up
    ip -n "$ns" addr replace "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    # the firewall: replaced as a whole, atomically (nft -f)
    ip netns exec "$ns" nft -f - <<NFT || die "cannot load the firewall of $ns"
table inet gridledger
delete table inet gridledger
table inet gridledger {
  chain input {
    type filter hook input priority 0; policy drop;
    iif lo accept
    ct state established,related accept
    meta l4proto icmp accept
    tcp dport $pub accept
    ip saddr $prefix.1 tcp dport $ops accept
    reject with icmpx type admin-prohibited
  }
}
NFT
    printf '%s %s %s\n' "$addr" "$ns" "$org" >> "$H/netns/hosts.tmp"
  done <<<"$plan"
  mv "$H/netns/hosts.tmp" "$H/netns/hosts"
  log "network namespaces on bridge $br ($prefix.1/24): $(awk '{ printf "%s%s=%s", (NR > 1 ? ", " : ""), $3, $1 }' "$H/netns/hosts")"
}

# Removes every namespace, veth and the bridge of this port base (also what a crashed run left behind);
# safe to repeat. The caller stops the processes first.
netns_down() {
  local p ns
  p="$(netns_prefix)"
  for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^$p-" || true); do
    ip netns del "$ns" && log "removed network namespace $ns"   # its end of the veth goes with it, and the pair
  done
  if ip link show "${p}br" >/dev/null 2>&1; then ip link del "${p}br" && log "removed bridge ${p}br"; fi
}
