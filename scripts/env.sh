# shellcheck shell=sh
# Build/dev environment for keygate. Source it (POSIX sh or bash):
#   . scripts/env.sh
# Exports absolute paths to the locally installed toolchain so that worker-build
# never tries to download wasm-bindgen / wasm-opt / esbuild (GitHub downloads
# are not available on our machines). Install everything with scripts/setup.sh.
#
# Project dir: $KEYGATE_ROOT if set, else the parent of this file's directory
# (bash), else the git top level / current directory (plain sh).

if [ -z "${KEYGATE_ROOT:-}" ]; then
  if [ -n "${BASH_SOURCE:-}" ]; then
    # shellcheck disable=SC3028,SC3054
    KEYGATE_ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
  else
    KEYGATE_ROOT=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
  fi
fi
export KEYGATE_ROOT

# Pinned tool versions (wasm-bindgen-cli is pinned by Cargo.lock, see setup.sh).
export KEYGATE_WORKER_BUILD_VERSION="${KEYGATE_WORKER_BUILD_VERSION:-0.8.7}"

KEYGATE_CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export KEYGATE_CARGO_BIN

case ":$PATH:" in
  *":$KEYGATE_ROOT/node_modules/.bin:"*) ;;
  *) PATH="$KEYGATE_ROOT/node_modules/.bin:$PATH" ;;
esac
case ":$PATH:" in
  *":$KEYGATE_CARGO_BIN:"*) ;;
  *) PATH="$KEYGATE_CARGO_BIN:$PATH" ;;
esac
export PATH

# worker-build 0.8.7 honours {NAME}_BIN overrides (resolved with `which`);
# if a path does not exist it silently falls back to downloading.
export WASM_BINDGEN_BIN="$KEYGATE_CARGO_BIN/wasm-bindgen"
export ESBUILD_BIN="$KEYGATE_ROOT/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$KEYGATE_ROOT/node_modules/.bin/wasm-opt"

export WRANGLER_SEND_METRICS=false
