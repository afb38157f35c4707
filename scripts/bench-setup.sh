#!/usr/bin/env bash
# What `make bench` needs beyond `make test`'s set-up (scripts/setup.sh):
# Debian's nginx (the bench's origin: a fixed small response) and wrk (the
# load generator). Idempotent: skipped when both are on PATH (or in
# /usr/sbin). Only `make bench` runs it, so `make test` never pays for it.
set -euo pipefail

log() { printf '[bench-setup] %s\n' "$*" >&2; }
die() { printf '[bench-setup] ERROR: %s\n' "$*" >&2; exit 1; }

have() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]; }

missing=()
have nginx || missing+=(nginx-light)
have wrk || missing+=(wrk)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  log "installing ${missing[*]} (apt-get)"
  apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
else
  die "missing ${missing[*]}: install Debian's packages (as root: apt-get install -y ${missing[*]})"
fi
