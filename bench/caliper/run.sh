#!/usr/bin/env bash
# Runs Hyperledger Caliper 0.6.0 (fabric-gateway binding: @hyperledger/fabric-gateway 1.5 on
# @grpc/grpc-js 1.10.3) against the network of $GRIDLEDGER_HOME — the devnet or Fabric: it reads only
# network.json. Report and figures: docs/benchmarks.md "Caliper".
#
#   GRIDLEDGER_HOME=<home> bash bench/caliper/run.sh
#
# Caliper is installed on first use, OUTSIDE the repository, in $GRIDLEDGER_CALIPER_DIR (default
# ${XDG_CACHE_HOME:-~/.cache}/gridledger-caliper/0.6.0; ~130 MB, 4 minutes): from this folder's
# package.json, then `caliper bind --caliper-bind-sut fabric:fabric-gateway`. Not inside the repo
# because Caliper refuses to run when it can resolve both fabric-gateway and fabric-network (the
# e2e suites' legacy SDK, in the root node_modules): "Multiple bindings for fabric have been detected".
# The workload modules and configs are copied next to it for each run.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
NET_HOME="${GRIDLEDGER_HOME:-$REPO_ROOT/.runtime/devnet}"
CALIPER_DIR="${GRIDLEDGER_CALIPER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gridledger-caliper/0.6.0}"
[ -s "$NET_HOME/network.json" ] || { echo "no network at $NET_HOME (start one: npm start, or set GRIDLEDGER_HOME)" >&2; exit 1; }
mkdir -p "$CALIPER_DIR"
cp "$HERE/package.json" "$CALIPER_DIR/package.json"
cd "$CALIPER_DIR"
if [ ! -x node_modules/.bin/caliper ]; then
  echo "[caliper] installing @hyperledger/caliper-cli 0.6.0 into $CALIPER_DIR" >&2
  npm install --no-audit --no-fund --no-package-lock
fi
if [ ! -d node_modules/@hyperledger/fabric-gateway ]; then
  echo "[caliper] binding the fabric:fabric-gateway SUT" >&2
  npx --no-install caliper bind --caliper-bind-sut fabric:fabric-gateway
fi
WS="$CALIPER_DIR/workspace"
rm -rf "$WS"; mkdir -p "$WS"
cp -r "$HERE/workload" "$WS/"
node "$HERE/networkconfig.js" "$NET_HOME/network.json" "$WS" >/dev/null
RUN_ID="r$(date +%s)"
sed "s/RUN_ID/$RUN_ID/g" "$HERE/benchconfig.yaml" > "$WS/benchconfig.yaml"
npx --no-install caliper launch manager --caliper-workspace "$WS" \
  --caliper-networkconfig "$WS/networkconfig.yaml" --caliper-benchconfig "$WS/benchconfig.yaml" \
  --caliper-flow-only-test --caliper-report-path "$WS/report.html"
echo "[caliper] report: $WS/report.html" >&2
