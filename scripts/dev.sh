#!/usr/bin/env bash
# make dev: demo origin + one `wrangler dev` serving both Workers (the
# gateway and the control Worker, their configs rendered by `keygate render`
# into build/dev/) + demo keys made through the management API.
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
# Local KV and Durable Object state (KEYGATE_DEV_STATE: elsewhere, for tests).
state="${KEYGATE_DEV_STATE:-$KEYGATE_ROOT/.wrangler/state}"
cli="$KEYGATE_ROOT/target/debug/keygate"

# Secrets: wrangler reads .dev.vars beside the config. KEYGATE_DEV=1 allows
# http://localhost webhooks.
vars="$config_dir/.dev.vars"
for name in KEYGATE_ORIGIN_SECRET KEYGATE_ADMIN_TOKEN KEYGATE_KEY_SECRET; do
  if ! grep -qs "^$name=" "$vars"; then
    echo "$name=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >>"$vars"
    echo "[dev] wrote a random $name to $vars"
  fi
done
grep -qs '^KEYGATE_DEV=' "$vars" || echo "KEYGATE_DEV=1" >>"$vars"
read_var() { grep "^$1=" "$vars" | tail -n1 | cut -d= -f2-; }
secret="$(read_var KEYGATE_ORIGIN_SECRET)"

# The demo origin listens on $origin_port: upstreams that name the demo's
# default (127.0.0.1:8788, localhost:8788) follow it, in a copy of the
# config under build/dev/ (the operator's file is not touched).
rendered="$KEYGATE_ROOT/build/dev"
mkdir -p "$rendered"
if [ "$origin_port" != 8788 ] && grep -Eq '//(127\.0\.0\.1|localhost):8788([/"]|$)' "$config"; then
  sed -E "s#//(127\.0\.0\.1|localhost):8788([/\"]|\$)#//\1:$origin_port\2#g" "$config" >"$rendered/dev-config.toml"
  config="$rendered/dev-config.toml"
  echo "[dev] demo upstreams moved to port $origin_port ($config)"
fi

"$cli" check --config "$config"

# The two Workers' configs, from the one config. wrangler reads .dev.vars
# beside each config: link the operator's.
"$cli" render --config "$config" --out "$rendered" --main-dir "$KEYGATE_ROOT/build" >/dev/null
ln -sfn "$vars" "$rendered/.dev.vars"

# Demo origin: echoes what it receives and verifies its RFC 9421 signature.
KEYGATE_ORIGIN_SECRET="$secret" node demo/origin.mjs "$origin_port" &
origin_pid=$!
trap 'kill $origin_pid 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM

# In the background so that a signal to this script stops both servers. The
# rendered configs name this checkout's build, wherever CONFIG lives. The
# gateway's config comes first: its port serves product traffic and, through
# the service binding, the management API.
wrangler dev --config "$rendered/gateway.toml" --config "$rendered/control.toml" \
  --ip 127.0.0.1 --port "$port" --inspector-port "$inspector_port" \
  --persist-to "$state" --local &
dev_pid=$!
trap 'kill $origin_pid $dev_pid 2>/dev/null || true' EXIT

# Demo keys, made through the management API once the gateway answers.
gateway="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  curl -s -o /dev/null "$gateway/" && break
  kill -0 "$dev_pid" 2>/dev/null || exit 1
  sleep 0.5
done
seed_out="$(KEYGATE_ADMIN_TOKEN="$(read_var KEYGATE_ADMIN_TOKEN)" node "$KEYGATE_ROOT/scripts/seed.mjs" \
  "$gateway" "$("$cli" check --config "$config" --json)" "$vars")"

cat <<MSG

keygate dev: gateway $gateway  ->  demo origin http://127.0.0.1:$origin_port
$seed_out

Stop with Ctrl-C.
MSG
wait "$dev_pid"
