#!/usr/bin/env bash
# Property-based fuzz test of the REST API, driven by the OpenAPI document the gateway serves
# (schemathesis): every generated request — valid and invalid — must get an answer that is not a 5xx
# and matches its documented response schema (checks not_a_server_error, response_schema_conformance).
# Runs as the operator, the regulator and a meter against the regulator's utility gateway of the
# running network ($GRIDLEDGER_HOME/gateways.json). Bounded and reproducible: a fixed seed, a fixed
# number of examples per operation, no example database; each identity's run is capped in time.
#
#   test/fuzz/run.sh [RESULT.json]   RESULT.json gets jest-style counts for test.sh's summary line
#
#   GRIDLEDGER_FUZZ_EXAMPLES=N  examples per operation and identity (default 6)
#   GRIDLEDGER_FUZZ_SEED=N      seed (default 16)
#   GRIDLEDGER_FUZZ_VENV=DIR    where the pinned Python environment lives (default .runtime/fuzz-venv)
#   GRIDLEDGER_FUZZ_EXCLUDE="id …"  operation ids not fuzzed (default: see KNOWN below)
# Writes operations commit real transactions: run it on a private network, after the suites it could
# disturb (network/scripts/test.sh runs it last).
source "$(dirname "${BASH_SOURCE[0]}")/../../network/scripts/lib.sh"

RESULT="${1:-}"
HOME_DIR="${GRIDLEDGER_HOME:?GRIDLEDGER_HOME must name the home of the running network}"
EXAMPLES="${GRIDLEDGER_FUZZ_EXAMPLES:-6}"
SEED="${GRIDLEDGER_FUZZ_SEED:-16}"
VENV="${GRIDLEDGER_FUZZ_VENV:-$REPO_ROOT/.runtime/fuzz-venv}"
REQS="$REPO_ROOT/test/fuzz/requirements.txt"
# streamEvents never ends (Server-Sent Events): a stream that a timeout cuts has nothing to check.
# KNOWN: operation ids with a known server error, fuzzed again once fixed (none today).
KNOWN=""
EXCLUDE="streamEvents ${GRIDLEDGER_FUZZ_EXCLUDE-$KNOWN}"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/gridledger-fuzz.XXXXXX")"

# The pinned environment, (re)created when requirements.txt changes.
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/schemathesis" ] || [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  command -v python3 >/dev/null || die "python3 is required for the API fuzz test (.ci/run installs it)"
  log "installing the API fuzzer (schemathesis, pinned in test/fuzz/requirements.txt) into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed: install python3-venv (.ci/run does)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$REQS" || die "pip install -r $REQS failed"
  printf '%s\n' "$want" > "$VENV/.requirements.sha256"
fi

# Who fuzzes: the gateway holding the regulator identity has the operator and regulator keys; a meter
# key comes from enrolling a fresh meter there.
read -r URL OPERATOR REGULATOR < <(node -e '
  const g = require(process.argv[1]).gateways.find((x) => x.apiKeys.regulator);
  if (!g) { console.error("no gateway in gateways.json has a regulator key"); process.exit(1); }
  console.log(g.url, g.apiKeys.operator, g.apiKeys.regulator);
' "$HOME_DIR/gateways.json") || die "cannot read $HOME_DIR/gateways.json"
# The enrolment carries an Idempotency-Key and is sent again with the same key while the gateway answers
# 503/504 (e.g. commit-status-unknown while an orderer catches up): the problem+json says to retry that way,
# and a new request would enrol a second meter (docs/api.md "Idempotency").
METER="$(node -e '
  const [url, key] = process.argv.slice(1);
  const meterId = `fuzz-${Date.now().toString(36)}`;
  const idempotencyKey = `enrol-${meterId}`;
  const deadline = Date.now() + 180_000;
  const attempt = async () => {
    const r = await fetch(`${url}/api/v1/meters`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "idempotency-key": idempotencyKey }, body: JSON.stringify({ meterId, zone: "fuzz" }) });
    const b = await r.json();
    if (r.status === 201) return b.apiKey;
    if ((r.status === 503 || r.status === 504) && Date.now() < deadline) {
      console.error(`enrol ${meterId}: ${r.status} ${b.type ?? ""}, sending again with the same Idempotency-Key`);
      await new Promise((res) => setTimeout(res, 5000));
      return attempt();
    }
    throw new Error(`enrol ${meterId}: ${r.status} ${JSON.stringify(b)}`);
  };
  attempt().then((k) => console.log(k)).catch((e) => { console.error(e.message); process.exit(1); });
' "$URL" "$OPERATOR")" || die "could not enrol the fuzzing meter"

failed=0
for who in operator regulator meter; do
  case "$who" in operator) key="$OPERATOR" ;; regulator) key="$REGULATOR" ;; meter) key="$METER" ;; esac
  log "API fuzz as $who: $EXAMPLES examples per operation, seed $SEED, against $URL"
  excludes=()
  for id in $EXCLUDE; do excludes+=(--exclude-operation-id "$id"); done
  # Run in the scratch directory: schemathesis keeps a crash cache (.schemathesis/) in its working
  # directory and replays it next time — a run must depend on the seed only.
  if ! (cd "$OUT" && timeout 240 "$VENV/bin/schemathesis" run "$URL/openapi.json" \
    --checks not_a_server_error,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$EXAMPLES" --seed "$SEED" --generation-database none --workers 1 \
    "${excludes[@]}" \
    --generation-with-security-parameters false \
    --header "Authorization: Bearer $key" \
    --request-timeout 60 --no-color --output-truncate true \
    --report junit --report-junit-path "$OUT/$who.xml"); then
    failed=1
  fi
  if [ ! -s "$OUT/$who.xml" ]; then # timed out or crashed: one failed case says so
    printf '<testsuites><testsuite name="%s"><testcase name="schemathesis as %s"><failure message="no report"/></testcase></testsuite></testsuites>\n' "$who" "$who" > "$OUT/$who.xml"
    failed=1
  fi
done

# One test per operation and identity: failed if schemathesis recorded a failure or an error for it.
"$VENV/bin/python" - "$OUT" "$RESULT" <<'PY'
import json, pathlib, sys
import xml.etree.ElementTree as ET
out, result = pathlib.Path(sys.argv[1]), sys.argv[2]
passed = failed = 0
for f in sorted(out.glob('*.xml')):
    for case in ET.parse(f).getroot().iter('testcase'):
        bad = case.find('failure') is not None or case.find('error') is not None
        if bad:
            failed += 1
            print(f"  FAILED {f.stem}: {case.get('name')}")
        elif case.find('skipped') is None:
            passed += 1
print(f"  API fuzz: {passed} passed, {failed} failed")
if result:
    pathlib.Path(result).write_text(json.dumps({'numPassedTests': passed, 'numFailedTests': failed, 'numTotalTestSuites': 3}) + '\n')
sys.exit(1 if failed else 0)
PY
summary=$?
rm -rf "$OUT"
[ "$summary" -eq 0 ] && [ "$failed" -eq 0 ]
