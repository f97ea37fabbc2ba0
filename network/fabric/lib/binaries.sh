# Sourced by network/fabric/network.sh (after network/scripts/lib.sh). Finds Fabric's and Fabric CA's
# release binaries — never builds them. Order: $FABRIC_BIN / $FABRIC_CA_BIN, PATH, the per-user cache
# (~/.cache/gridledger/fabric-<v>/ and fabric-ca-<v>/, release archive layout), and finally, where the
# internet is reachable, the official release archives from GitHub, checked against a SHA-256 before
# they fill the cache.
#
# Sets: FABRIC_BIN (peer, orderer, osnadmin, configtxgen, configtxlator), FABRIC_CA_BIN
# (fabric-ca-server, fabric-ca-client), FABRIC_CFG_TEMPLATE (core.yaml, orderer.yaml of the release)
# and CCAAS_BUILDER (the release's builders/ccaas, holding bin/{detect,build,release}).

FABRIC_CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/gridledger"
FABRIC_RELEASE_URL="https://github.com/hyperledger/fabric/releases/download/v$FABRIC_VERSION/hyperledger-fabric-linux-amd64-$FABRIC_VERSION.tar.gz"
FABRIC_CA_RELEASE_URL="https://github.com/hyperledger/fabric-ca/releases/download/v$FABRIC_CA_VERSION/hyperledger-fabric-ca-linux-amd64-$FABRIC_CA_VERSION.tar.gz"
# Pinned SHA-256 of the release archives. The machine these scripts were written on reaches package
# registries only, so the archives could not be hashed here: the Fabric 3.1.5 value is the one two
# independent public pins agree on (a Homebrew formula and a release-download script, both for
# hyperledger-fabric-linux-amd64-3.1.5.tar.gz). No public pin of the Fabric CA 1.5.21 archive was found:
# its download needs a checksum file published next to the archive, or GRIDLEDGER_FABRIC_CA_SHA256 set
# by the operator from a source they trust. Either may be overridden with GRIDLEDGER_FABRIC(_CA)_SHA256.
FABRIC_ARCHIVE_SHA256="${GRIDLEDGER_FABRIC_SHA256:-b9c31fd490991e76f8acb1835dee09fc19fee5428cb13e190ee6e0bdd2c37858}"
FABRIC_CA_ARCHIVE_SHA256="${GRIDLEDGER_FABRIC_CA_SHA256:-}"

binaries_help() {
  cat >&2 <<EOF
[gridledger] Fabric $FABRIC_VERSION / Fabric CA $FABRIC_CA_VERSION binaries are needed for the real network. Either
  - unpack the official release archives yourself and point at them:
      $FABRIC_RELEASE_URL
      $FABRIC_CA_RELEASE_URL
    into one directory D (so that D/bin, D/config, D/builders exist), then: export FABRIC_BIN=D/bin
  - or put that bin directory on PATH,
  - or unpack them into $FABRIC_CACHE_ROOT/fabric-$FABRIC_VERSION and $FABRIC_CACHE_ROOT/fabric-ca-$FABRIC_CA_VERSION,
  - or run where github.com is reachable and let the scripts download and verify them
    (GRIDLEDGER_FABRIC_SHA256 / GRIDLEDGER_FABRIC_CA_SHA256 when the release publishes no checksum file).
Without them, use the devnet: GRIDLEDGER_TIER=devnet npm start
EOF
}

# sha256 of a file
file_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# download_release URL DEST_DIR PINNED_SHA — downloads, verifies, unpacks into DEST_DIR (atomically).
download_release() {
  local url="$1" dest="$2" pinned="$3" tmp archive expected="" sumurl
  command -v curl >/dev/null || { log "curl is not installed: cannot download $url"; return 1; }
  if ! curl -fsIL --max-time 15 -o /dev/null "$url" 2>/dev/null; then
    log "cannot reach $url (no internet access from this machine?)"
    return 1
  fi
  tmp="$(mktemp -d)"; archive="$tmp/$(basename "$url")"
  log "downloading $url"
  curl -fL --retry 3 --max-time 600 -o "$archive" "$url" || { rm -rf "$tmp"; log "download failed: $url"; return 1; }
  if [ -n "$pinned" ]; then
    expected="$pinned"
  else
    for sumurl in "$url.sha256" "$url.sha256sum" "$(dirname "$url")/checksums.txt" "$(dirname "$url")/SHA256SUMS"; do
      if curl -fsL --max-time 30 -o "$tmp/sums" "$sumurl" 2>/dev/null; then
        expected="$(grep -E "$(basename "$url")|^[0-9a-f]{64}\s*$" "$tmp/sums" | grep -oE '^[0-9a-f]{64}' | head -n1 || true)"
        [ -n "$expected" ] && { log "checksum from $sumurl"; break; }
      fi
    done
  fi
  if [ -z "$expected" ]; then
    log "no SHA-256 to verify $(basename "$url") against: the release publishes no checksum file this script knows and none is pinned."
    log "its SHA-256 is $(file_sha256 "$archive"); if that matches the value you trust, re-run with GRIDLEDGER_FABRIC_SHA256 / GRIDLEDGER_FABRIC_CA_SHA256 set to it."
    rm -rf "$tmp"; return 1
  fi
  if [ "$(file_sha256 "$archive")" != "$expected" ]; then
    log "SHA-256 mismatch for $(basename "$url"): got $(file_sha256 "$archive"), expected $expected — not using it"
    rm -rf "$tmp"; return 1
  fi
  mkdir -p "$tmp/unpacked" && tar -xzf "$archive" -C "$tmp/unpacked" || { rm -rf "$tmp"; return 1; }
  mkdir -p "$(dirname "$dest")" && rm -rf "$dest" && mv "$tmp/unpacked" "$dest"
  rm -rf "$tmp"
  log "installed into $dest"
}

# Checks that a binary reports the pinned version (GRIDLEDGER_FABRIC_ANY_VERSION=1 only warns).
check_version() { # binary, expected version, version args...
  local bin="$1" want="$2"; shift 2
  local out; out="$(FABRIC_CFG_PATH="${FABRIC_CFG_TEMPLATE:-}" "$bin" "$@" 2>&1 || true)"
  if ! printf '%s' "$out" | grep -Eq "Version: v?$want\b|\bv?$want\b"; then
    if [ "${GRIDLEDGER_FABRIC_ANY_VERSION:-0}" = "1" ]; then
      log "warning: $bin does not report version $want: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-120)"
    else
      die "$bin does not report version $want (it says: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-160)). Use the $want release or set GRIDLEDGER_FABRIC_ANY_VERSION=1 to try anyway."
    fi
  fi
}

locate_fabric_binaries() {
  local d cadir
  if ! FABRIC_BIN="$(find_fabric_bin)"; then
    download_release "$FABRIC_RELEASE_URL" "$FABRIC_CACHE_ROOT/fabric-$FABRIC_VERSION" "$FABRIC_ARCHIVE_SHA256" || { binaries_help; exit 1; }
    FABRIC_BIN="$(find_fabric_bin)" || { binaries_help; exit 1; }
  fi
  FABRIC_BIN="$(cd "$FABRIC_BIN" && pwd)"
  for d in peer orderer osnadmin configtxgen configtxlator; do
    [ -x "$FABRIC_BIN/$d" ] || die "$FABRIC_BIN has no '$d' (a Fabric $FABRIC_VERSION release bin/ directory has it)"
  done

  local wanted_ca="${FABRIC_CA_BIN:-}"
  FABRIC_CA_BIN=""
  for cadir in "$wanted_ca" "$FABRIC_BIN" \
               "$(dirname "$(command -v fabric-ca-server 2>/dev/null || echo /nonexistent/x)")" \
               "$FABRIC_CACHE_ROOT/fabric-ca-$FABRIC_CA_VERSION/bin"; do
    if [ -n "$cadir" ] && [ -x "$cadir/fabric-ca-server" ] && [ -x "$cadir/fabric-ca-client" ]; then FABRIC_CA_BIN="$cadir"; break; fi
  done
  if [ -z "$FABRIC_CA_BIN" ]; then
    download_release "$FABRIC_CA_RELEASE_URL" "$FABRIC_CACHE_ROOT/fabric-ca-$FABRIC_CA_VERSION" "$FABRIC_CA_ARCHIVE_SHA256" || { binaries_help; exit 1; }
    FABRIC_CA_BIN="$FABRIC_CACHE_ROOT/fabric-ca-$FABRIC_CA_VERSION/bin"
  fi
  FABRIC_CA_BIN="$(cd "$FABRIC_CA_BIN" && pwd)"

  # core.yaml / orderer.yaml templates and the ccaas builder ship beside bin/ in the release archive
  FABRIC_CFG_TEMPLATE="${FABRIC_CFG_TEMPLATE:-$(dirname "$FABRIC_BIN")/config}"
  [ -f "$FABRIC_CFG_TEMPLATE/core.yaml" ] && [ -f "$FABRIC_CFG_TEMPLATE/orderer.yaml" ] ||
    die "no core.yaml/orderer.yaml in $FABRIC_CFG_TEMPLATE (the release archive's config/ directory); set FABRIC_CFG_TEMPLATE"
  CCAAS_BUILDER="${FABRIC_CCAAS_BUILDER:-$(dirname "$FABRIC_BIN")/builders/ccaas}"
  for d in detect build release; do
    [ -x "$CCAAS_BUILDER/bin/$d" ] || die "no ccaas external builder at $CCAAS_BUILDER/bin/$d (the release archive's builders/ccaas); set FABRIC_CCAAS_BUILDER"
  done

  check_version "$FABRIC_BIN/peer" "$FABRIC_VERSION" version
  check_version "$FABRIC_BIN/orderer" "$FABRIC_VERSION" version
  check_version "$FABRIC_BIN/configtxgen" "$FABRIC_VERSION" -version
  check_version "$FABRIC_BIN/configtxlator" "$FABRIC_VERSION" version
  # osnadmin has no version flag; it is taken from the same release bin/ as the binaries checked above
  check_version "$FABRIC_CA_BIN/fabric-ca-server" "$FABRIC_CA_VERSION" version
  check_version "$FABRIC_CA_BIN/fabric-ca-client" "$FABRIC_CA_VERSION" version
}
