#!/usr/bin/env bash
# Build both Workers with worker-build (release), from the one crate:
#   build/gateway/  the gateway (cargo feature `gateway`): product traffic
#   build/control/  the control plane (feature `control`): the management
#                   API and the Account Durable Object
# Each directory holds index.js, the Worker's `main` in the configs that
# `keygate render` writes. The shipped wasm carries no function names; a
# copy with them is kept in build/symbols/<worker>.wasm (never deployed), and
# tests/wasm/ reads it to show what the gateway contains. Extra args go to
# worker-build.
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

# The API Keys page's assets, which the control Worker embeds.
node portal/build.mjs build/portal

for worker in gateway control; do
  echo "[build] $worker -> build/$worker" >&2
  # The gateway has a size budget (200 KiB gzipped, checked by make bench):
  # it is built at opt-level "z" (see Cargo.toml); the sha2/hmac overrides
  # at 3 still apply.
  opt=s
  [ "$worker" = gateway ] && opt=z
  CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt \
    worker-build --release --out-dir "build/$worker" "$@" . --features "$worker"
  mkdir -p build/symbols
  node scripts/wasm-names.mjs split "build/$worker/index_bg.wasm" "build/symbols/$worker.wasm"
done
