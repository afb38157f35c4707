#!/usr/bin/env bash
# Idempotent set-up for `make fuzz` (scripts/fuzz.sh); a no-op when
# everything is present. The engine is libFuzzer from the `libfuzzer-sys`
# crate (crates.io, pinned in Cargo.lock): cargo fetches it and its build
# script compiles libFuzzer's C++ sources, so what fuzzing needs beyond the
# Rust toolchain is
#   - a C++ compiler (c++, g++ or clang++), installed with apt-get if missing
#     and this runs as root (CI images), otherwise a clear error;
#   - the crates, fetched by `cargo fetch --locked`.
# Stable Rust only: the coverage instrumentation (-Cpasses=sancov-module) is
# a stable codegen option, so no nightly and no RUSTC_BOOTSTRAP.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

log() { printf '[fuzz-setup] %s\n' "$*" >&2; }
die() { printf '[fuzz-setup] ERROR: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo not found (install Rust via rustup)"

have_cxx() {
  for cxx in "${CXX:-}" c++ g++ clang++; do
    [ -n "$cxx" ] && command -v "$cxx" >/dev/null && return 0
  done
  return 1
}

if ! have_cxx; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    log "installing g++ (libFuzzer is C++)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q g++ >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q g++ >/dev/null; }
  fi
  have_cxx || die "no C++ compiler (c++, g++ or clang++); install one, e.g. apt-get install g++"
fi

# Offline-capable when the registry cache already holds the crates.
cargo fetch --locked -q
