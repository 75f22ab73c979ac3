#!/usr/bin/env bash
# `npm test`: the one test command. Steps, in order, each under its own time limit:
#   deps         `npm ci` when node_modules is missing or does not match package-lock.json
#   typecheck    `tsc -p .` (strict; also emits out/ for the tests)
#   lint         `eslint .`
#   build        esbuild bundles (out/extension.js is the extension's entry point)
#   unit         `node --test` over out/test/unit/ (plain Node, no VS Code)
#   integration  the mocha suite in a real VS Code extension host (test/integration/runTest.ts picks the route)
# A failing step does not stop the later ones (except deps); each failed non-test step counts as one failure.
# The very last line is always `N passed, N failed`; the exit code is non-zero if anything failed.
# Logs of every step: test-artifacts/logs/. Environment variables: docs/testing.md.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT="$PWD"
ARTIFACTS="${SPACETIME_ARTIFACTS_DIR:-$ROOT/test-artifacts}"
LOG_DIR="$ARTIFACTS/logs"
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*.log "$LOG_DIR"/*.tap "$LOG_DIR"/*.json

# Every test's temporary files (os.tmpdir() in Node, mktemp, code-server's sockets, the browser's profile, and the
# empty mat-debug-PID.log files onnxruntime leaves in it) go into one folder of this run, removed at the end;
# SPACETIME_KEEP_TEST_TMP=1 keeps it for a look. Only where its path is short: a Unix socket's path has at most
# 104–108 bytes, and macOS's own TMPDIR is already ~50.
TEST_TMP="$(mktemp -d "${TMPDIR:-/tmp}/spacetime-probe-test.XXXXXX")"
if [[ ${#TEST_TMP} -le 40 ]]; then
  export TMPDIR="$TEST_TMP"
else
  rmdir "$TEST_TMP"
  TEST_TMP=""
fi
cleanup_test_tmp() {
  if [[ -n "$TEST_TMP" && "${SPACETIME_KEEP_TEST_TMP:-0}" != 1 ]]; then rm -rf "$TEST_TMP"; fi
}
trap cleanup_test_tmp EXIT

# onnxruntime-node's postinstall downloads CUDA provider libraries, which fails offline. Skip it unless the
# user chose otherwise (ONNXRUNTIME_NODE_INSTALL=cuda12 npm test downloads them on a machine with internet).
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"

PASSED=0
FAILED=0
FAILED_STEPS=()
STEP_LINES=()
CURRENT_STEP=""

summary() {
  echo
  echo "=== summary ==="
  local line
  for line in "${STEP_LINES[@]}"; do echo "$line"; done
  if [[ ${#FAILED_STEPS[@]} -gt 0 ]]; then
    echo "failed steps: ${FAILED_STEPS[*]} (logs in ${LOG_DIR#"$ROOT"/})"
  fi
  echo "$PASSED passed, $FAILED failed"
}

on_signal() {
  trap - INT TERM
  FAILED=$((FAILED + 1))
  FAILED_STEPS+=("${CURRENT_STEP:-?} (interrupted)")
  summary
  exit 130
}
trap on_signal INT TERM

record() { # name status seconds [detail]
  STEP_LINES+=("$(printf '%-12s %-6s %4ss  %s' "$1" "$2" "$3" "${4:-}")")
  if [[ "$2" != ok ]]; then FAILED_STEPS+=("$1"); fi
}

# run_step NAME SECONDS COMMAND...: output to the terminal and to $LOG_DIR/NAME.log; returns the exit code.
run_step() {
  local name="$1" limit="$2"
  shift 2
  CURRENT_STEP="$name"
  echo
  echo "=== $name: $* ==="
  timeout --kill-after=30 "$limit" "$@" </dev/null 2>&1 | tee "$LOG_DIR/$name.log"
  local rc=${PIPESTATUS[0]}
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "[test] $name timed out after ${limit}s" | tee -a "$LOG_DIR/$name.log"
  fi
  return "$rc"
}

# A plain (non-test) step: one failure if it fails.
plain_step() {
  local name="$1" limit="$2" start=$SECONDS
  shift 2
  if run_step "$name" "$limit" "$@"; then
    record "$name" ok $((SECONDS - start))
  else
    FAILED=$((FAILED + 1))
    record "$name" FAILED $((SECONDS - start))
  fi
}

# --- deps -------------------------------------------------------------------------------------------------
start=$SECONDS
if node scripts/setup-check-deps.mjs; then
  record deps ok $((SECONDS - start)) "node_modules matches package-lock.json"
elif run_step deps 1800 npm ci --no-audit --no-fund; then
  record deps ok $((SECONDS - start)) "npm ci"
else
  FAILED=$((FAILED + 1))
  record deps FAILED $((SECONDS - start)) "npm ci failed; nothing else can run"
  summary
  exit 1
fi

# --- typecheck, lint, build -------------------------------------------------------------------------------
# Compiled tests whose source was deleted or renamed would still be discovered; drop them first.
node -e '
  const fs = require("fs"), path = require("path");
  const walk = (dir) => fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]) : [];
  for (const file of walk("out/test").filter((f) => f.endsWith(".js"))) {
    const source = file.replace(/^out[\\/]/, "").replace(/\.js$/, ".ts");
    if (!fs.existsSync(source)) { fs.rmSync(file); fs.rmSync(file + ".map", { force: true }); }
  }'

plain_step typecheck 900 npx tsc -p .
plain_step lint 900 npx eslint .
plain_step build 600 node scripts/build.mjs

# --- unit tests -------------------------------------------------------------------------------------------
start=$SECONDS
UNIT_TAP="$LOG_DIR/unit.tap"
run_step unit "${SPACETIME_UNIT_TIMEOUT_S:-1200}" node --test \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$UNIT_TAP" \
  out/test/unit/
unit_rc=$?
tap_count() { # last "# <key> N" line of the TAP summary
  [[ -f "$UNIT_TAP" ]] && grep -E "^# $1 [0-9]+$" "$UNIT_TAP" | tail -1 | awk '{print $3}'
}
unit_pass="$(tap_count pass)"
unit_fail="$(tap_count fail)"
unit_cancelled="$(tap_count cancelled)"
if [[ -z "$unit_pass" || -z "$unit_fail" ]]; then
  FAILED=$((FAILED + 1))
  record unit FAILED $((SECONDS - start)) "no test summary (exit $unit_rc)"
else
  unit_fail=$((unit_fail + ${unit_cancelled:-0}))
  PASSED=$((PASSED + unit_pass))
  FAILED=$((FAILED + unit_fail))
  if [[ $unit_rc -ne 0 && $unit_fail -eq 0 ]]; then
    FAILED=$((FAILED + 1))
    record unit FAILED $((SECONDS - start)) "$unit_pass passed, but node --test exited $unit_rc"
  else
    record unit "$([[ $unit_fail -eq 0 ]] && echo ok || echo FAILED)" $((SECONDS - start)) "$unit_pass passed, $unit_fail failed"
  fi
fi

# --- integration tests ------------------------------------------------------------------------------------
start=$SECONDS
SUMMARY_FILE="$LOG_DIR/integration-summary.json"
SPACETIME_TEST_SUMMARY="$SUMMARY_FILE" run_step integration "${SPACETIME_INTEGRATION_TIMEOUT_S:-2400}" \
  node out/test/integration/runTest.js
integration_rc=$?
if [[ -f "$SUMMARY_FILE" ]]; then
  read -r int_pass int_fail int_skip < <(node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${s.passed | 0} ${s.failed | 0} ${s.skipped | 0}`);' "$SUMMARY_FILE")
  PASSED=$((PASSED + int_pass))
  FAILED=$((FAILED + int_fail))
  detail="$int_pass passed, $int_fail failed, $int_skip skipped"
  if [[ $integration_rc -ne 0 && $int_fail -eq 0 ]]; then
    FAILED=$((FAILED + 1))
    record integration FAILED $((SECONDS - start)) "$detail, but the run exited $integration_rc"
  else
    record integration "$([[ $int_fail -eq 0 && $integration_rc -eq 0 ]] && echo ok || echo FAILED)" $((SECONDS - start)) "$detail"
  fi
else
  # No summary: the host crashed or never started the suite.
  FAILED=$((FAILED + 1))
  record integration FAILED $((SECONDS - start)) "no summary from the extension host (exit $integration_rc)"
fi

trap - INT TERM
summary
[[ $FAILED -eq 0 && ${#FAILED_STEPS[@]} -eq 0 ]]
