#!/usr/bin/env bash
# make dev: demo origin + demo keys in local KV + `wrangler dev`.
# Usage: scripts/dev.sh [CONFIG] [PORT] [ORIGIN_PORT] [INSPECTOR_PORT]
set -euo pipefail
SCRIPT_DIR="$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
. "$SCRIPT_DIR/env.sh"
cd "$KEYGATE_ROOT"

config="${1:-wrangler.toml}"
port="${2:-8787}"
origin_port="${3:-8788}"
# Not wrangler's default 9229, so that a second dev server can run alongside.
inspector_port="${4:-9787}"
config_dir="$(CDPATH='' cd -- "$(dirname -- "$config")" && pwd)"
state="$KEYGATE_ROOT/.wrangler/state"
cli="$KEYGATE_ROOT/target/debug/keygate"

# The origin-signing secret: wrangler reads .dev.vars beside the config.
vars="$config_dir/.dev.vars"
if ! grep -qs '^KEYGATE_ORIGIN_SECRET=' "$vars"; then
  echo "KEYGATE_ORIGIN_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >>"$vars"
  echo "[dev] wrote a random KEYGATE_ORIGIN_SECRET to $vars"
fi
secret="$(grep '^KEYGATE_ORIGIN_SECRET=' "$vars" | tail -n1 | cut -d= -f2-)"

"$cli" check --config "$config"

# Demo origin: echoes what it receives and verifies Keygate-Signature.
KEYGATE_ORIGIN_SECRET="$secret" node demo/origin.mjs "$origin_port" &
origin_pid=$!
trap 'kill $origin_pid 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM

# Demo keys into the local KV the dev server uses.
bulk="$(mktemp)"
echo '[]' >"$bulk"
seed_out="$("$cli" seed --config "$config" --kv-bulk "$bulk" --gateway "http://127.0.0.1:$port")"
wrangler kv bulk put "$bulk" --binding KEYS --local --persist-to "$state" --config "$config" >/dev/null
rm -f "$bulk"

cat <<MSG

keygate dev: gateway http://127.0.0.1:$port  ->  demo origin http://127.0.0.1:$origin_port
$seed_out

Stop with Ctrl-C.
MSG

# In the background so that a signal to this script stops both servers. The
# entry point is given explicitly, so a CONFIG kept in another directory still
# serves this checkout's build.
wrangler dev "$KEYGATE_ROOT/build/index.js" --config "$config" --ip 127.0.0.1 --port "$port" --inspector-port "$inspector_port" \
  --persist-to "$state" --local &
dev_pid=$!
trap 'kill $origin_pid $dev_pid 2>/dev/null || true' EXIT
wait "$dev_pid"
