#!/usr/bin/env bash
# Coverage-guided fuzzing of keygate's parsers with libFuzzer, on stable Rust.
#
#   scripts/fuzz.sh                   every target; FUZZ_EXECS executions in
#                                     total (default 10 000 000), shared out
#                                     by weight; fails on any crash, broken
#                                     invariant, timeout or shortfall
#   scripts/fuzz.sh TARGET FILE...    replay FILEs through TARGET (reproduce a
#                                     crash; prints the panic message)
#
# Environment: FUZZ_EXECS (total executions), FUZZ_TARGETS (names, space
# separated; default all), FUZZ_SEED (libFuzzer seed; default 1, so runs
# repeat), FUZZ_MAX_LEN (default 4096). Targets and their invariants are in
# fuzz/src/; seeds in fuzz/corpus/<target>; dictionaries in fuzz/dict/.
# Work files go to target/fuzz/: the grown corpus (corpus/<target>), crash
# inputs (artifacts/<target>/crash-*) and logs (logs/<target>.log).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
root=$PWD

log() { printf '[fuzz] %s\n' "$*" >&2; }
die() { printf '[fuzz] ERROR: %s\n' "$*" >&2; exit 1; }

# One line per target in each list.
all_targets=(
  key
  credential
  path
  config
  manage_request
  manage_body
  webhook
  leak
  page_body
  portal_grant
  portal_credential
  github_signature
  limits
)
# Relative share of the executions: the cheap parsers get more.
declare -A weight=(
  [key]=20
  [credential]=20
  [path]=20
  [config]=15
  [manage_request]=13
  [manage_body]=12
  [webhook]=10
  [leak]=5
  [page_body]=8
  [portal_grant]=5
  [portal_credential]=10
  [github_signature]=3
  [limits]=10
)

bash scripts/fuzz-setup.sh

host=$(rustc -vV | sed -n 's/^host: //p')
[ -n "$host" ] || die "cannot tell the host target from rustc -vV"
work=$root/target/fuzz
# Coverage for libFuzzer (SanitizerCoverage: 8-bit counters, PC table, value
# profile of comparisons), all stable options. --cfg fuzzing as cargo-fuzz
# sets it. Building for an explicit --target keeps these flags away from build
# scripts and proc macros, which run on the host uninstrumented.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
export CARGO_TARGET_DIR=$work/build
# The workspace's release profile is tuned for the Worker (size, LTO); fuzz
# with speed and a quick build instead.
export CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=false \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=1 \
  CARGO_PROFILE_RELEASE_PANIC=unwind

log "building the fuzz targets (libFuzzer, $host)"
cargo build -q --locked --release --target "$host" -p keygate-fuzz --features libfuzzer --bins
bin_dir=$CARGO_TARGET_DIR/$host/release

# Replay mode.
if [ $# -gt 0 ]; then
  target=$1
  shift
  [ -x "$bin_dir/fuzz_$target" ] || die "no target $target (targets: ${all_targets[*]})"
  [ $# -gt 0 ] || die "usage: scripts/fuzz.sh TARGET FILE..."
  exec "$bin_dir/fuzz_$target" "$@"
fi

read -r -a targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"
total_wanted=${FUZZ_EXECS:-10000000}
weights=0
for t in "${targets[@]}"; do
  [ -n "${weight[$t]:-}" ] || die "unknown target $t (targets: ${all_targets[*]})"
  weights=$((weights + weight[$t]))
done

mkdir -p "$work/logs"
failed=()
total=0
summary=""
started=$SECONDS
for t in "${targets[@]}"; do
  runs=$(((total_wanted * weight[$t] + weights - 1) / weights))
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  log "$t: $runs executions"
  t0=$SECONDS
  rc=0
  # The first corpus folder (target/fuzz) receives new inputs; the checked-in
  # seeds are only read.
  "$bin_dir/fuzz_$t" \
    -runs="$runs" -seed="${FUZZ_SEED:-1}" -max_len="${FUZZ_MAX_LEN:-4096}" \
    -dict="fuzz/dict/$t.dict" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -print_pcs=0 -artifact_prefix="$work/artifacts/$t/" \
    "$work/corpus/$t" "fuzz/corpus/$t" >"$work/logs/$t.log" 2>&1 || rc=$?
  secs=$((SECONDS - t0))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/logs/$t.log" | tail -n 1)
  execs=${execs:-0}
  total=$((total + execs))
  line=$(printf '%-15s %11d executions %5ds %9d/s' "$t" "$execs" "$secs" $((execs / (secs > 0 ? secs : 1))))
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    line="$line  FAILED (exit $rc)"
    grep -E -A1 "panicked at" "$work/logs/$t.log" | head -n 4 >&2 || true
    grep -E "^(SUMMARY|==[0-9]+== ERROR)|Test unit written to" "$work/logs/$t.log" | head -n 4 >&2 || true
    log "$t failed; log: $work/logs/$t.log; reproduce: scripts/fuzz.sh $t $work/artifacts/$t/crash-…"
  fi
  summary+="$line"$'\n'
  log "$line"
done

printf '\n%s' "$summary"
printf '%-15s %11d executions %5ds\n' total "$total" $((SECONDS - started))
if [ ${#failed[@]} -gt 0 ]; then
  die "broken invariants or crashes in: ${failed[*]}"
fi
if [ "$total" -lt "$total_wanted" ]; then
  die "only $total of $total_wanted executions ran"
fi
log "no crash and no broken invariant"
