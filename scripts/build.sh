#!/usr/bin/env bash
# Build the worker with worker-build (release): output in build/
# (build/index.js is wrangler's `main`). Extra args go to worker-build.
# Project dir: $KEYGATE_ROOT or the parent of this script's directory.
set -euo pipefail

# env.sh finds the project root (or honours $KEYGATE_ROOT).
# shellcheck source=scripts/env.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/env.sh"
cd "$KEYGATE_ROOT"

for b in "$KEYGATE_CARGO_BIN/worker-build" "$WASM_BINDGEN_BIN" "$ESBUILD_BIN" "$WASM_OPT_BIN"; do
  if [ ! -x "$b" ]; then
    echo "[build] missing $b; run scripts/setup.sh first" >&2
    exit 1
  fi
done

exec worker-build --release "$@"
