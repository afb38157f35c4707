# keygate: the two commands are `make dev` and `make test` (see README.md);
# `make check` is the fast loop, `make e2e-one FILE=…` runs one e2e file.
# Each installs whatever is missing first (scripts/setup.sh is idempotent):
# `make dev` needs Rust and Node.js only; the tests' Python tools and
# Chromium are installed only for the targets that run them.
SHELL := /bin/bash
CONFIG ?= wrangler.toml
PORT ?= 8787
ORIGIN_PORT ?= 8788
INSPECTOR_PORT ?= 9787
## End-to-end files run at once (each starts its own wrangler dev).
E2E_JOBS ?= 2
PYTHON_VENV := $(CURDIR)/.tools/venv/bin/python
## The longest e2e files start first, so that they do not make the tail.
E2E_FIRST := tests/e2e/schemathesis.test.mjs tests/e2e/seam.test.mjs \
  tests/e2e/portal-browser.test.mjs tests/e2e/keys.test.mjs tests/e2e/misconfig.test.mjs
E2E_FILES := $(E2E_FIRST) $(filter-out $(E2E_FIRST),$(sort $(wildcard tests/e2e/*.test.mjs)))

export WRANGLER_SEND_METRICS := false

.PHONY: setup setup-test assets build dev test check unit sdk sdk-build e2e e2e-one lint bench bench-latency fuzz check-config wasm-check cli-docs clean

## What building and serving need: wasm target, worker-build,
## wasm-bindgen-cli, npm packages.
setup:
	bash scripts/setup.sh

## The above plus the end-to-end tests' Python venv and Chromium.
setup-test:
	bash scripts/setup.sh test

build: setup
	bash scripts/build.sh
	cargo build -p keygate-cli

## Serve the gateway on 127.0.0.1:$(PORT) with a demo origin and demo keys.
dev: build
	bash scripts/dev.sh "$(CONFIG)" "$(PORT)" "$(ORIGIN_PORT)" "$(INSPECTOR_PORT)"

## Every test, as CI runs it (.ci/run): lints, native unit tests (the docs
## drift test among them), config check, end-to-end on workerd.
test: setup-test lint unit sdk check-config wasm-check e2e

## The fast loop (about 2 minutes warm): formatting, clippy on the native
## build, native tests. No wasm, no workerd.
check:
	cargo fmt --all -- --check
	cargo clippy --workspace --exclude keygate-bench --all-targets -- -D warnings
	cargo test --workspace --exclude keygate-bench

## The API Keys page's script and styles (embedded by the control Worker).
assets:
	node portal/build.mjs build/portal

lint: assets
	cargo fmt --all -- --check
	cargo clippy --workspace --exclude keygate-bench --all-targets -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --features gateway -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --features control -- -D warnings
	node scripts/layers.mjs
	bash scripts/gateway-deps.sh

## Includes keygate-fuzz's smoke run: every seed and 3000 deterministic
## mutations per fuzz target (fuzz/tests/smoke.rs), and the layering
## check's own tests (tests/layers/: it catches a planted circle).
unit:
	cargo test --workspace --exclude keygate-bench
	node --test tests/layers/

## The origin libraries (sdk/): TypeScript compiled and run under
## node --test, Python under pytest (the Rust crate's tests run in `unit`).
sdk: setup-test sdk-build
	node --test sdk/js/test/
	cd sdk/python && "$(CURDIR)/.tools/venv/bin/python" -m pytest -q

## What the e2e origins built on the libraries need (not `make dev`).
sdk-build: setup
	node_modules/.bin/tsc -p sdk/js
	cargo build -p keygate-origin --example axum-origin

check-config:
	cargo run -q -p keygate-cli -- check --config "$(CONFIG)"

## The gateway's wasm holds no control-plane code (function names listed).
wasm-check: build
	node --test tests/wasm/

## Includes Schemathesis against the served OpenAPI document, every check
## in every phase, stateful included (tests/e2e/schemathesis.test.mjs;
## SCHEMATHESIS_EXAMPLES sets the examples per operation).
e2e: setup-test build sdk-build
	PYTHON="$(PYTHON_VENV)" node --test --test-concurrency=$(E2E_JOBS) $(E2E_FILES)

## One end-to-end file, e.g. make e2e-one FILE=tests/e2e/cli.test.mjs
## (builds first; add SKIP_BUILD=1 to reuse build/ as it is).
e2e-one: $(if $(SKIP_BUILD),,build sdk-build)
	@test -n "$(FILE)" || { echo "usage: make e2e-one FILE=tests/e2e/NAME.test.mjs" >&2; exit 2; }
	PYTHON="$(PYTHON_VENV)" node --test "$(FILE)"

## docs/cli.md from the CLI's own help (the docs drift test compares them).
cli-docs:
	cargo run -q -p keygate-cli -- reference > docs/cli.md

## Benchmarks (about 10 minutes): the pure hot path (criterion), then workerd
## CPU per request against a bare JS pass-through Worker, with nginx as the
## origin and wrk as the client (scripts/bench-setup.sh installs both), and
## the Workers' sizes (fails over the gateway's 200 KiB gzip budget).
## Raw figures: target/bench/latest.json.
bench: build
	bash scripts/bench-setup.sh
	cargo bench -p keygate-bench --bench hot_path
	node tests/bench/ratios.mjs

## Request latency through workerd, and forged keys cost no KV read.
bench-latency: build
	node tests/bench/latency.mjs

## Coverage-guided fuzzing (libFuzzer, stable Rust): every target, at least
## FUZZ_EXECS (default 10 000 000) executions in total; fails on any crash or
## broken invariant. scripts/fuzz.sh TARGET FILE replays a crash.
fuzz:
	bash scripts/fuzz.sh

clean:
	cargo clean
	rm -rf build .wrangler
