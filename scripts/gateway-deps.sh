#!/usr/bin/env bash
# The gateway's dependency tree carries none of the control Worker's crates
# (Cargo.toml: optional, enabled only by the `control` feature), and its
# direct dependencies none of them either (`url` comes in through
# workers-rs, not through keygate). Run by `make lint`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=wasm32-unknown-unknown
# Anywhere in the tree: signing, sealing, the page's encodings.
control_only="chacha20poly1305 chacha20 poly1305 aead p256 ecdsa elliptic-curve primeorder base64"
# Among keygate's own dependencies.
control_direct="url chacha20poly1305 p256 base64"
tree=$(cargo tree -e normal --features gateway --target "$target" --prefix none)
direct=$(cargo tree -e normal --depth 1 --features gateway --target "$target" --prefix none)
control=$(cargo tree -e normal --depth 1 --features control --target "$target" --prefix none)
fail=0
for crate in $control_only; do
  if grep -q "^$crate v" <<<"$tree"; then
    echo "gateway-deps: the gateway's tree holds $crate, a control-only crate" >&2
    fail=1
  fi
done
for crate in $control_direct; do
  if grep -q "^$crate v" <<<"$direct"; then
    echo "gateway-deps: the gateway depends on $crate directly" >&2
    fail=1
  fi
  # The check can fail: the control Worker does depend on each of them.
  if ! grep -q "^$crate v" <<<"$control"; then
    echo "gateway-deps: the control Worker no longer depends on $crate; update this list" >&2
    fail=1
  fi
done
[ "$fail" = 0 ] && echo "gateway-deps: the gateway's tree holds no control-only crate"
exit "$fail"
