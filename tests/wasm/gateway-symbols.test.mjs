// The gateway's wasm holds the request path and nothing else: no
// management API, Account object, SQL ledger, admin token, OpenAPI
// document, portal (beyond its configuration), webhook or leak code. Reads the function names kept in
// build/symbols/ by scripts/build.sh (the shipped wasm has none).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { functionNames } from "./names.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const names = (worker) => functionNames(readFileSync(join(ROOT, "build/symbols", `${worker}.wasm`)));

/** Code that belongs to the control Worker only. */
const CONTROL_ONLY = [
  /keygate::manage::/,
  /keygate::ledger::/,
  /keygate::control::/,
  /keygate::control::management::/,
  /keygate::control::account::/,
  /keygate::control::account::sql_ledger::/,
  /AdminToken|admin_token/,
  /openapi/i,
  // The API Keys page: its sessions, page and API. The gateway parses the
  // page's configuration (its prefix is handed over; a brand colour is
  // validated like any setting), and nothing more of it. Likewise the
  // `[webhooks]` table is config the gateway validates (RawWebhooks).
  /keygate::(control::)?portal(?!::brand)|portal_sessions|(?<!config::hooks::Raw)webhook|leak/i,
  // The object class itself: storage, SQL, alarms (calling a stub is the gateway's).
  /SqlStorage|sql::|transaction_sync|set_alarm|__wbg_Account|AccountFetch/,
];

test("the gateway's wasm has no control-plane code", () => {
  const gateway = names("gateway");
  assert.ok(gateway.length > 500, `expected a names section, got ${gateway.length} names`);
  // The gateway's own request path is there, so the listing is real.
  for (const needed of [/keygate::gateway::gateway/, /keygate::policy::authorize/, /keygate::gateway::handoff/, /keygate::gateway::verify::/]) {
    assert.ok(gateway.some((n) => needed.test(n)), `missing ${needed}`);
  }
  for (const banned of CONTROL_ONLY) {
    const found = gateway.filter((n) => banned.test(n));
    assert.deepEqual(found, [], `${banned} in the gateway`);
  }
});

test("the control Worker's wasm has the code the gateway must not (the check can fail)", () => {
  const control = names("control");
  for (const banned of [/keygate::manage::/, /keygate::ledger::/, /keygate::control::management::/,
    /keygate::control::account::/, /keygate::control::account::sql_ledger::/, /AdminToken|admin_token/,
    /SqlStorage/]) {
    assert.ok(control.some((n) => banned.test(n)), `${banned} not found in the control Worker`);
  }
  // And none of the gateway's forwarding.
  assert.deepEqual(control.filter((n) => /keygate::gateway::/.test(n)), []);
});

test("the shipped wasm carries no names", () => {
  for (const worker of ["gateway", "control"]) {
    assert.deepEqual(functionNames(readFileSync(join(ROOT, "build", worker, "index_bg.wasm"))), []);
  }
});
