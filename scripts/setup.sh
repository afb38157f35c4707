#!/usr/bin/env bash
# Idempotent install of what keygate needs. Fast (under a second) when
# everything is already installed.
#
# scripts/setup.sh       building and serving (`make dev`, `make build`):
#                        Rust and Node.js only, no root.
#   - rustup target wasm32-unknown-unknown
#   - worker-build (pinned, see env.sh)           -> ${CARGO_HOME:-~/.cargo}/bin
#   - wasm-bindgen-cli (= wasm-bindgen in Cargo.lock) -> ${CARGO_HOME:-~/.cargo}/bin
#   - npm devDependencies (wrangler, esbuild, binaryen, test libraries) -> ./node_modules
# scripts/setup.sh test  the above, plus what the end-to-end tests use
#                        (`make test`, `make e2e`):
#   - Python test tools (Schemathesis, openapi-python-client, ...) -> ./.tools/venv
#   - Debian chromium (browser e2e tests)          -> /usr/bin/chromium
# Works non-interactively (CI=true, no stdin). Project dir: $KEYGATE_ROOT or
# the parent of this script's directory.
set -euo pipefail
mode="${1:-build}"
case "$mode" in
  build | test) ;;
  *) printf '[setup] usage: scripts/setup.sh [build|test]\n' >&2; exit 2 ;;
esac

# env.sh finds the project root (or honours $KEYGATE_ROOT).
# shellcheck source=scripts/env.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/env.sh"
cd "$KEYGATE_ROOT"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo not found (install Rust via rustup)"
command -v node >/dev/null || die "node not found (Node.js >= 20.3 required)"
command -v npm >/dev/null || die "npm not found"

# Version of package $1 in Cargo.lock (first [[package]] entry with that name).
lock_version() {
  awk -v want="$1" '
    /^\[\[package\]\]/ { name = ""; next }
    /^name = / { gsub(/"/, "", $3); name = $3; next }
    /^version = / && name == want { gsub(/"/, "", $3); print $3; exit }
  ' Cargo.lock
}

# Output of `$1 --version`, or empty if not installed/not runnable.
tool_version() { "$KEYGATE_CARGO_BIN/$1" --version 2>/dev/null </dev/null || true; }

# 1. wasm32 target
if command -v rustup >/dev/null; then
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "adding rustup target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
elif [ ! -d "$(rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]; then
  die "rustup not found and rustc has no wasm32-unknown-unknown target"
fi

# 2. worker-build (prints just its version, e.g. "0.8.7")
wb_want="$KEYGATE_WORKER_BUILD_VERSION"
wb_have="$(tool_version worker-build)"
if [ "$wb_have" != "$wb_want" ]; then
  log "installing worker-build $wb_want (have: '${wb_have:-none}'); takes several minutes"
  cargo install worker-build --version "$wb_want" --locked --force
fi

# 3. wasm-bindgen-cli, exactly the wasm-bindgen version in Cargo.lock
#    (`wasm-bindgen --version` prints e.g. "wasm-bindgen 0.2.130")
[ -f Cargo.lock ] || die "Cargo.lock missing in $KEYGATE_ROOT (run: cargo generate-lockfile)"
wbg_want="$(lock_version wasm-bindgen)"
[ -n "$wbg_want" ] || die "no wasm-bindgen package in Cargo.lock"
wbg_have="$(tool_version wasm-bindgen)"
if [ "$wbg_have" != "wasm-bindgen $wbg_want" ]; then
  log "installing wasm-bindgen-cli $wbg_want (have: '${wbg_have:-none}'); takes several minutes"
  # not --locked: the CLI's own lock has been broken for some releases
  cargo install wasm-bindgen-cli --version "$wbg_want" --force
fi

# 4. npm devDependencies
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund </dev/null
fi

# 5 and 5b only for the tests.
if [ "$mode" = test ]; then
# 5. Python test tools (independent implementations the e2e tests check
#    keygate against) in a venv of the project's own; skipped when current.
venv="$KEYGATE_ROOT/.tools/venv"
req="$KEYGATE_ROOT/scripts/requirements-test.txt"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.installed" ] || [ "$req" -nt "$venv/.installed" ]; then
  command -v python3 >/dev/null || die "python3 not found"
  log "creating $venv and installing $(basename "$req")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" </dev/null
  touch "$venv/.installed"
fi
# 5a. The Python origin library (sdk/python), editable, for its pytest
#     tests and the FastAPI e2e origin; again when its manifest changes.
pyproject="$KEYGATE_ROOT/sdk/python/pyproject.toml"
if [ ! -f "$venv/.sdk-installed" ] || [ "$pyproject" -nt "$venv/.sdk-installed" ] || [ "$venv/.installed" -nt "$venv/.sdk-installed" ]; then
  log "installing sdk/python (editable) into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -e "$KEYGATE_ROOT/sdk/python" </dev/null
  touch "$venv/.sdk-installed"
fi

# 5b. Chromium for the browser (CORS) end-to-end test, driven by
#     playwright-core with executablePath (no browser download). Debian's
#     package; CI runs as root.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian chromium (apt-get)"
    apt-get update -qq </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium </dev/null
  else
    die "/usr/bin/chromium missing: install Debian's chromium package (as root: apt-get install -y chromium)"
  fi
fi
fi

# 6. sanity: every override must exist, or worker-build silently falls back
#    to a download (which fails without GitHub access).
for b in "$WASM_BINDGEN_BIN" "$ESBUILD_BIN" "$WASM_OPT_BIN"; do
  [ -x "$b" ] || die "missing executable $b"
done
log "ok: worker-build $(tool_version worker-build), $(tool_version wasm-bindgen), esbuild $("$ESBUILD_BIN" --version), $("$WASM_OPT_BIN" --version </dev/null), wrangler $(node -p 'require("wrangler/package.json").version')"
