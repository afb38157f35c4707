// What an API Keys page session may write, end to end on workerd: the page's
// API takes its own allow-list of fields (never meta, owner_id, enabled or
// environment), grants only permissions within the product's
// portal.grantable and the session's `scopes`, only shortens a key's life,
// bounds new keys by portal.max_expiry_days, and keeps Idempotency-Key
// answers per caller. Every request goes through the page's API with the
// session cookie and its CSRF token (issue 18).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startGateway, startOrigin } from "./harness.mjs";

const PORTAL = "/_keygate/keys";
const DAY = 86_400_000;

// The page's test config, with forgeai forwarding signed meta and knowing an
// `admin` permission it does not grant, and mailforge's page keys bounded to
// 30 days.
const template = readFileSync(join(ROOT, "tests/e2e/wrangler.portal.toml"), "utf8")
  .replace(
    /(id = "forgeai"[\s\S]*?consistency = "strict"\n)/,
    `$1forward_meta = ["plan", "org"]\n`,
  )
  .replace(
    /(permissions = \[\n)(  \{ method = "POST", path = "\/api\/v1\/prediction)/,
    `$1  { method = "DELETE", path = "/api/v1/admin/**", permission = "admin" },\n$2`,
  )
  .concat(`\n[vars.KEYGATE_CONFIG.products.portal]\nmax_expiry_days = 30\n`);

let origin, gw;

before(async () => {
  assert.match(template, /forward_meta/);
  assert.match(template, /permission = "admin"/);
  origin = await startOrigin();
  gw = await startGateway({ template, origin: origin.url });
});

after(async () => {
  await gw?.stop();
  await origin?.stop();
});

async function createKey(account, body) {
  const res = await gw.admin("POST", `/accounts/${account}/keys`, body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** A signed-in page session: call() reads, change() sends the CSRF token. */
async function signIn(account, grantBody = {}) {
  const granted = await gw.admin("POST", `/accounts/${account}/portal-sessions`, {
    return_url: "http://localhost:3000/settings",
    ...grantBody,
  });
  assert.equal(granted.status, 201, JSON.stringify(granted.body));
  const opened = await fetch(granted.body.url, { redirect: "manual" });
  await opened.text();
  assert.equal(opened.status, 303);
  const cookie = opened.headers.get("set-cookie").split(";")[0];
  const page = await fetch(`${gw.url}${PORTAL}/`, { headers: { Cookie: cookie } });
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const csrf = /name="keygate-csrf" content="([0-9a-f]{64})"/.exec(html)[1];
  const call = async (method, path, body, headers = {}) => {
    const init = { method, headers: { Cookie: cookie, ...headers }, redirect: "manual" };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    const r = await fetch(`${gw.url}${PORTAL}/api${path}`, init);
    const t = await r.text();
    let parsed = t;
    try { parsed = JSON.parse(t); } catch {}
    return { status: r.status, body: parsed };
  };
  const change = (method, path, body, headers = {}) => call(method, path, body, { "X-Keygate-CSRF": csrf, ...headers });
  return { call, change };
}

/** What the origin saw for a forgeai request with `key`. */
async function atOrigin(key, path = "/forgeai/api/v1/things") {
  const res = await fetch(`${gw.url}${path}`, { headers: { Authorization: `Bearer ${key}` } });
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, body };
}

function refused(res, status, code, field) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.code, code, JSON.stringify(res.body));
  if (field !== undefined) assert.equal(res.body.field, field, JSON.stringify(res.body));
}

describe("operator-only fields", () => {
  test("meta cannot be written, so no signed Keygate-Key-Meta reaches the origin", async () => {
    await createKey("acct_meta", { product: "forgeai", name: "seed" });
    const s = await signIn("acct_meta");
    const forged = await s.change("POST", "/keys", {
      product: "forgeai", name: "mine", meta: { plan: "enterprise", org: "bobco" },
    });
    refused(forged, 403, "forbidden_field", "meta");
    assert.match(forged.body.detail, /product, name, scopes/);
    const listed = await s.call("GET", "/keys");
    assert.ok(!listed.body.keys.some((k) => k.name === "mine"), "nothing was created");

    const created = await s.change("POST", "/keys", { product: "forgeai", name: "mine" });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.meta ?? null, null);
    const patched = await s.change("PATCH", `/keys/${created.body.id}`, { meta: { plan: "enterprise" } });
    refused(patched, 403, "forbidden_field", "meta");
    const seen = await atOrigin(created.body.key);
    assert.equal(seen.status, 200, JSON.stringify(seen.body));
    assert.equal(seen.body.signature_valid, true);
    assert.equal(seen.body.headers["keygate-key-meta"], "{}", "the origin is told the key has no meta");
    const view = await gw.admin("GET", `/accounts/acct_meta/keys/${created.body.id}`);
    assert.equal(view.body.meta ?? null, null);
  });

  test("a key the operator disabled stays disabled", async () => {
    const k = await createKey("acct_enabled", { product: "forgeai", name: "off" });
    const off = await gw.admin("PATCH", `/accounts/acct_enabled/keys/${k.id}`, { enabled: false });
    assert.equal(off.status, 200);
    const s = await signIn("acct_enabled");
    const on = await s.change("PATCH", `/keys/${k.id}`, { enabled: true });
    refused(on, 403, "forbidden_field", "enabled");
    const both = await s.change("PATCH", `/keys/${k.id}`, { name: "renamed", enabled: true });
    refused(both, 403, "forbidden_field", "enabled");
    const view = await gw.admin("GET", `/accounts/acct_enabled/keys/${k.id}`);
    assert.equal(view.body.enabled, false);
    assert.equal(view.body.name, "off", "a refused body changes nothing");
    const used = await atOrigin(k.key);
    assert.equal(used.status, 401);
    assert.equal(used.body.code, "disabled_key");
  });

  test("a session without owner_id cannot give a key another holder", async () => {
    await createKey("acct_owner", { product: "forgeai", name: "seed" });
    const s = await signIn("acct_owner");
    const forged = await s.change("POST", "/keys", { product: "forgeai", name: "alice's", owner_id: "alice" });
    refused(forged, 403, "forbidden_field", "owner_id");
    const created = await s.change("POST", "/keys", { product: "forgeai", name: "nobody's" });
    assert.equal(created.status, 201);
    assert.equal(created.body.owner_id ?? null, null);
    const env = await s.change("POST", "/keys", { product: "forgeai", name: "test", environment: "test" });
    refused(env, 403, "forbidden_field", "environment");
    const unknown = await s.change("POST", "/keys", { product: "forgeai", name: "x", nme: "y" });
    refused(unknown, 400, "unknown_field", "nme");
  });
});

describe("expiry", () => {
  test("a page user may shorten a key's life, never lengthen it", async () => {
    const k = await createKey("acct_expiry", { product: "forgeai", name: "ten days", expires_in_days: 10 });
    const s = await signIn("acct_expiry");
    refused(await s.change("PATCH", `/keys/${k.id}`, { expires_at: null }), 403, "expiry_too_late", "expires_at");
    refused(await s.change("PATCH", `/keys/${k.id}`, { expires_in_days: 20 }), 403, "expiry_too_late", "expires_at");
    const later = new Date(Date.parse(k.expires_at) + DAY).toISOString().replace(/\.\d+Z$/, "Z");
    refused(await s.change("PATCH", `/keys/${k.id}`, { expires_at: later }), 403, "expiry_too_late");
    const view = await gw.admin("GET", `/accounts/acct_expiry/keys/${k.id}`);
    assert.equal(view.body.expires_at, k.expires_at, "unchanged");
    const shorter = await s.change("PATCH", `/keys/${k.id}`, { expires_in_days: 5 });
    assert.equal(shorter.status, 200, JSON.stringify(shorter.body));
    assert.ok(Date.parse(shorter.body.expires_at) < Date.parse(k.expires_at));
    // A key without an expiry may be given one.
    const forever = await createKey("acct_expiry", { product: "forgeai", name: "forever" });
    const bounded = await s.change("PATCH", `/keys/${forever.id}`, { expires_in_days: 3 });
    assert.equal(bounded.status, 200, JSON.stringify(bounded.body));
    assert.ok(bounded.body.expires_at);
  });

  test("portal.max_expiry_days bounds the keys the page creates", async () => {
    await createKey("acct_max", { product: "mailforge", name: "seed" });
    const s = await signIn("acct_max");
    const session = await s.call("GET", "/session");
    assert.equal(session.body.products.find((p) => p.id === "mailforge").max_expiry_days, 30);
    const none = await s.change("POST", "/keys", { product: "mailforge", name: "default" });
    assert.equal(none.status, 201, JSON.stringify(none.body));
    const left = Date.parse(none.body.expires_at) - Date.now();
    assert.ok(left > 29 * DAY && left <= 30 * DAY + 60_000, none.body.expires_at);
    refused(await s.change("POST", "/keys", { product: "mailforge", name: "long", expires_in_days: 31 }), 403, "expiry_too_late");
    const ok = await s.change("POST", "/keys", { product: "mailforge", name: "week", expires_in_days: 7 });
    assert.equal(ok.status, 201);
    // The management API is not bound by the page's limit.
    const admin = await createKey("acct_max", { product: "mailforge", name: "operator's" });
    assert.equal(admin.expires_at ?? null, null);
  });
});

describe("grantable permissions", () => {
  test("the page cannot grant admin, by create or by update", async () => {
    const k = await createKey("acct_grant", { product: "forgeai", name: "plain", scopes: ["read"] });
    const s = await signIn("acct_grant");
    const session = await s.call("GET", "/session");
    const forgeai = session.body.products.find((p) => p.id === "forgeai");
    assert.deepEqual(forgeai.permissions.map((p) => p.name), ["read", "execute_flows", "view_logs"]);
    const created = await s.change("POST", "/keys", { product: "forgeai", name: "root", scopes: ["read", "admin"] });
    refused(created, 403, "scope_not_grantable", "scopes[1]");
    const raised = await s.change("PATCH", `/keys/${k.id}`, { scopes: ["read", "admin"] });
    refused(raised, 403, "scope_not_grantable", "scopes[1]");
    const view = await gw.admin("GET", `/accounts/acct_grant/keys/${k.id}`);
    assert.deepEqual(view.body.scopes, ["read"]);
    const denied = await fetch(`${gw.url}/forgeai/api/v1/admin/users`, {
      method: "DELETE", headers: { Authorization: `Bearer ${k.key}` },
    });
    assert.equal(denied.status, 403);
    // Within grantable: fine.
    const ok = await s.change("PATCH", `/keys/${k.id}`, { scopes: ["read", "view_logs"] });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  test("a session's scopes narrow what its page offers and grants", async () => {
    await createKey("acct_ceiling", { product: "forgeai", name: "seed" });
    const tooWide = await gw.admin("POST", "/accounts/acct_ceiling/portal-sessions", {
      return_url: "http://localhost:3000/settings", products: ["forgeai"], scopes: ["admin"],
    });
    assert.equal(tooWide.status, 400, JSON.stringify(tooWide.body));
    assert.equal(tooWide.body.field, "scopes[0]");
    const s = await signIn("acct_ceiling", { products: ["forgeai"], scopes: ["read"] });
    const session = await s.call("GET", "/session");
    assert.deepEqual(session.body.products[0].permissions.map((p) => p.name), ["read"]);
    assert.deepEqual(session.body.products[0].default_scopes, ["read"]);
    refused(await s.change("POST", "/keys", { product: "forgeai", name: "x", scopes: ["execute_flows"] }), 403, "scope_not_grantable");
    const created = await s.change("POST", "/keys", { product: "forgeai", name: "defaults" });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.scopes, ["read"], "the defaults, narrowed to the ceiling");
  });
});

describe("Idempotency-Key answers are the caller's", () => {
  test("across two page sessions and across the admin API and a page session", async () => {
    // mailforge: its key limit leaves room for every key made here.
    await createKey("acct_idem", { product: "mailforge", name: "seed" });
    const alice = await signIn("acct_idem", { owner_id: "alice" });
    const bob = await signIn("acct_idem", { owner_id: "bob" });
    const body = { product: "mailforge", name: "ci" };
    const first = await alice.change("POST", "/keys", body, { "Idempotency-Key": "shared-1" });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const again = await alice.change("POST", "/keys", body, { "Idempotency-Key": "shared-1" });
    assert.equal(again.body.id, first.body.id, "alice's retry is her answer");
    // Bob's request with her Idempotency-Key is his own: a new key.
    const bobs = await bob.change("POST", "/keys", body, { "Idempotency-Key": "shared-1" });
    assert.equal(bobs.status, 201, JSON.stringify(bobs.body));
    assert.notEqual(bobs.body.id, first.body.id);
    assert.notEqual(bobs.body.key, first.body.key);
    assert.equal(bobs.body.owner_id, "bob");
    // Her Idempotency-Key with another body: no 422 telling bob it was used.
    const second = await alice.change("POST", "/keys", body, { "Idempotency-Key": "shared-2" });
    assert.equal(second.status, 201);
    const other = await bob.change("POST", "/keys", { product: "mailforge", name: "other" }, { "Idempotency-Key": "shared-2" });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    assert.notEqual(other.body.id, second.body.id);
    const missing = await bob.call("GET", `/keys/${first.body.id}`);
    assert.equal(missing.status, 404);

    // The admin API with the page's Idempotency-Key is a fresh request, and
    // a page session with the admin's is too.
    const admin = await gw.admin("POST", "/accounts/acct_idem/keys", body, { headers: { "Idempotency-Key": "shared-1" } });
    assert.equal(admin.status, 201, JSON.stringify(admin.body));
    assert.notEqual(admin.body.id, first.body.id);
    const adminFirst = await gw.admin("POST", "/accounts/acct_idem/keys", { product: "mailforge", name: "ops" }, { headers: { "Idempotency-Key": "admin-2" } });
    assert.equal(adminFirst.status, 201);
    const open = await signIn("acct_idem");
    const fromPage = await open.change("POST", "/keys", { product: "mailforge", name: "ops" }, { "Idempotency-Key": "admin-2" });
    assert.equal(fromPage.status, 201, JSON.stringify(fromPage.body));
    assert.notEqual(fromPage.body.id, adminFirst.body.id);
  });
});
