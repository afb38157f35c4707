// The API Keys page's security model over plain HTTP on workerd: portal
// sessions granted with the admin token, the one-time link exchanged for a
// cookie, the CSP'd page, CSRF on every change, scopes, expiry and
// revocation. The browser flow is in portal-browser.test.mjs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startGateway, startOrigin } from "./harness.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.portal.toml"), "utf8");
const PORTAL = "/_keygate/keys";
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

let origin, gw, expiring;

before(async () => {
  origin = await startOrigin();
  gw = await startGateway({ template, origin: origin.url });
  // A session that will have expired by the last test (60 s is the least).
  await createKey("acct_expiring", "forgeai", "seed");
  expiring = { grant: await grant("acct_expiring", { expires_in_seconds: 60 }), at: Date.now() };
});

after(async () => {
  await gw?.stop();
  await origin?.stop();
});

async function createKey(account, product, name, extra = {}) {
  const res = await gw.admin("POST", `/accounts/${account}/keys`, { product, name, ...extra });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function grant(account, body = {}) {
  const res = await gw.admin("POST", `/accounts/${account}/portal-sessions`, {
    return_url: "http://localhost:3000/settings",
    ...body,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** Opens a portal link: the exchange's answer, and the cookie it set. */
async function open(url) {
  const res = await fetch(url, { redirect: "manual" });
  const text = await res.text();
  const setCookie = res.headers.get("set-cookie");
  const cookie = setCookie ? setCookie.split(";")[0] : null;
  return { res, text, setCookie, cookie };
}

/** A signed-in session: its cookie, its CSRF token and the page. */
async function signIn(account, body = {}) {
  const { url } = await grant(account, body);
  const { res, cookie } = await open(url);
  assert.equal(res.status, 303);
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
    return { status: r.status, body: parsed, type: r.headers.get("content-type") };
  };
  const change = (method, path, body, headers = {}) => call(method, path, body, { "X-Keygate-CSRF": csrf, ...headers });
  return { cookie, csrf, html, page, call, change };
}

describe("granting a session", () => {
  test("needs the admin token, an existing account and a valid body", async () => {
    const none = await gw.admin("POST", "/accounts/acct_none/portal-sessions", { return_url: "https://a.example" }, { token: null });
    assert.equal(none.status, 401);
    const unknown = await gw.admin("POST", "/accounts/acct_never/portal-sessions", { return_url: "https://a.example" });
    assert.equal(unknown.status, 404);
    await createKey("acct_grant", "forgeai", "k");
    const bad = await gw.admin("POST", "/accounts/acct_grant/portal-sessions", {
      return_url: "javascript:alert(1)", products: ["nope"], expires_in_seconds: 7200,
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e) => e.field), ["return_url", "products[0]", "expires_in_seconds"]);
    const text = await gw.admin("POST", "/accounts/acct_grant/portal-sessions", "{}", { headers: { "Content-Type": "text/plain" } });
    assert.equal(text.status, 415);
    const ok = await grant("acct_grant");
    assert.match(ok.url, new RegExp(`^${gw.url}${PORTAL}/start\\?token=kgpt\\.acct_grant~ps_[0-9a-f]{32}~[0-9a-f]{64}~[0-9a-f]{32}$`));
    assert.match(ok.id, /^ps_[0-9a-f]{32}$/);
    const list = await gw.admin("GET", "/accounts/acct_grant/portal-sessions");
    assert.equal(list.status, 200);
    const listed = list.body.sessions.find((s) => s.id === ok.id);
    assert.equal(listed.status, "unused");
    assert.doesNotMatch(JSON.stringify(list.body), /kgpt|digest/, "no token or digest is shown");
  });
});

describe("the link", () => {
  test("works once: a cookie and a clean URL, then a clear page", async () => {
    await createKey("acct_link", "forgeai", "k");
    const { url } = await grant("acct_link");
    const first = await open(url);
    assert.equal(first.res.status, 303);
    assert.equal(first.res.headers.get("location"), `${PORTAL}/`);
    assert.match(first.setCookie, /^keygate_portal=kgpc\.acct_link~ps_[0-9a-f]{32}~[0-9a-f]{64}~[0-9a-f]{32}; Path=\/_keygate\/keys; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    const again = await open(url);
    assert.equal(again.res.status, 410);
    assert.equal(again.setCookie, null);
    assert.match(again.text, /already used/);
    assert.match(again.text, /href="http:\/\/localhost:3000\/settings"/);
    assert.match(again.res.headers.get("content-security-policy"), /default-src 'none'/);
    const forged = await open(url.replace(/~[0-9a-f]{64}~/, `~${"0".repeat(64)}~`));
    assert.equal(forged.res.status, 410);
    assert.match(forged.text, /not valid/);
    const garbage = await open(`${gw.url}${PORTAL}/start?token=%3Cscript%3E`);
    assert.equal(garbage.res.status, 410);
    assert.doesNotMatch(garbage.text, /<script>/);
  });

  test("the page has a nonce'd script, no inline script, and framing denied", async () => {
    await createKey("acct_page", "forgeai", "k");
    const { page, html } = await signIn("acct_page");
    const policy = page.headers.get("content-security-policy");
    const nonce = /script-src 'nonce-([^']+)'/.exec(policy)[1];
    assert.match(html, new RegExp(`<script type="module" src="${PORTAL}/assets/app\\.js\\?v=[0-9a-f]+" nonce="${nonce.replace(/[+/]/g, "\\$&")}"></script>`));
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.equal(page.headers.get("x-frame-options"), "DENY");
    assert.equal(page.headers.get("cache-control"), "no-store");
    const script = await fetch(`${gw.url}${PORTAL}/assets/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type"), /javascript/);
    const noCookie = await fetch(`${gw.url}${PORTAL}/`);
    assert.equal(noCookie.status, 410);
  });
});

describe("the page's API", () => {
  test("lists, creates, renames, rotates and revokes, each change with the CSRF token", async () => {
    await createKey("acct_api", "forgeai", "first");
    const s = await signIn("acct_api");
    const session = await s.call("GET", "/session");
    assert.equal(session.status, 200);
    const forgeai = session.body.products.find((p) => p.id === "forgeai");
    assert.equal(forgeai.permissions.find((p) => p.name === "view_logs").description, "Read execution logs");
    assert.equal(forgeai.can_create, true);
    const listed = await s.call("GET", "/keys");
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.keys.map((k) => k.name), ["first"]);

    const noToken = await s.call("POST", "/keys", { product: "forgeai", name: "x" });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.body.code, "csrf_failed");
    const wrongToken = await s.call("POST", "/keys", { product: "forgeai", name: "x" }, { "X-Keygate-CSRF": "0".repeat(64) });
    assert.equal(wrongToken.status, 403);
    const crossSite = await s.change("POST", "/keys", { product: "forgeai", name: "x" }, { Origin: "https://evil.example" });
    assert.equal(crossSite.status, 403);

    const created = await s.change("POST", "/keys", { product: "forgeai", name: "from page", scopes: ["read"] }, { "Idempotency-Key": "page-create-1" });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // A retried create (same Idempotency-Key and body) is the same key, made once.
    const retried = await s.change("POST", "/keys", { product: "forgeai", name: "from page", scopes: ["read"] }, { "Idempotency-Key": "page-create-1" });
    assert.equal(retried.status, 201);
    assert.equal(retried.body.key, created.body.key);
    const other = await s.change("POST", "/keys", { product: "forgeai", name: "another" }, { "Idempotency-Key": "page-create-1" });
    assert.equal(other.status, 422);
    assert.equal(other.body.code, "idempotency_key_reused");
    const named = (await s.call("GET", "/keys")).body.keys.filter((k) => k.name === "from page");
    assert.equal(named.length, 1);
    assert.match(created.body.key, /^fai_live_/);
    const ok = await fetch(`${gw.url}/forgeai/api/v1/logs/1`, { headers: { Authorization: `Bearer ${created.body.key}` } });
    assert.equal(ok.status, 403, "view_logs was not granted");
    const renamed = await s.change("PATCH", `/keys/${created.body.id}`, { name: "renamed", scopes: ["read", "view_logs"] });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.name, "renamed");
    const now = await fetch(`${gw.url}/forgeai/api/v1/logs/1`, { headers: { Authorization: `Bearer ${created.body.key}` } });
    assert.equal(now.status, 200, "strict consistency: the new permission holds at once");
    const badName = await s.change("PATCH", `/keys/${created.body.id}`, { name: "" });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.field, "name");
    const badScope = await s.change("PATCH", `/keys/${created.body.id}`, { scopes: ["fly"] });
    assert.equal(badScope.status, 400);
    assert.match(badScope.body.field, /^scopes/);

    const rotated = await s.change("POST", `/keys/${created.body.id}/rotate`, { grace_seconds: 0 });
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    const old = await fetch(`${gw.url}/forgeai/api/v1/logs/1`, { headers: { Authorization: `Bearer ${created.body.key}` } });
    assert.equal(old.status, 401);
    const revoked = await s.change("DELETE", `/keys/${rotated.body.id}`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    const gone = await fetch(`${gw.url}/forgeai/api/v1/logs/1`, { headers: { Authorization: `Bearer ${rotated.body.key}` } });
    assert.equal(gone.status, 401);
    const events = await s.call("GET", "/events");
    assert.equal(events.status, 200);
    assert.ok(events.body.events.some((e) => e.type === "key.revoked"));
    const account = await s.call("GET", "/../../_keygate/v1/accounts/acct_api");
    assert.notEqual(account.status, 200);
  });

  test("a session limited to one product and holder sees and touches nothing else", async () => {
    const mail = await createKey("acct_scope", "mailforge", "mail key");
    const other = await createKey("acct_scope", "forgeai", "someone else's", { owner_id: "user-2" });
    const mine = await createKey("acct_scope", "forgeai", "mine", { owner_id: "user-1" });
    const s = await signIn("acct_scope", { products: ["forgeai"], owner_id: "user-1" });
    const listed = await s.call("GET", "/keys");
    assert.deepEqual(listed.body.keys.map((k) => k.id), [mine.id]);
    for (const id of [mail.id, other.id]) {
      for (const [method, path, body] of [
        ["GET", `/keys/${id}`],
        ["PATCH", `/keys/${id}`, { name: "hijacked" }],
        ["POST", `/keys/${id}/rotate`, { grace_seconds: 0 }],
        ["DELETE", `/keys/${id}`],
      ]) {
        const res = method === "GET" ? await s.call(method, path) : await s.change(method, path, body);
        assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.code, "key_not_found");
      }
    }
    const crossProduct = await s.change("POST", "/keys", { product: "mailforge", name: "x" });
    assert.equal(crossProduct.status, 400);
    const created = await s.change("POST", "/keys", { product: "forgeai", name: "new" });
    assert.equal(created.status, 201);
    assert.equal(created.body.owner_id, "user-1", "keys made here belong to the session's holder");
    const session = await s.call("GET", "/session");
    assert.deepEqual(session.body.products.map((p) => p.id), ["forgeai"]);
    const events = await s.call("GET", "/events");
    assert.ok(events.body.events.every((e) => [mine.id, created.body.id].includes(e.key_id)), JSON.stringify(events.body));
    // The other keys are untouched.
    const still = await gw.admin("GET", `/accounts/acct_scope/keys/${other.id}`);
    assert.equal(still.body.name, "someone else's");
    assert.equal(still.body.status, "active");
  });

  test("the key limit disables creating, with the reason", async () => {
    for (const n of [1, 2, 3]) await createKey("acct_limit", "forgeai", `k${n}`);
    const s = await signIn("acct_limit", { products: ["forgeai"] });
    const session = await s.call("GET", "/session");
    const forgeai = session.body.products[0];
    assert.equal(forgeai.can_create, false);
    assert.match(forgeai.create_blocked, /3 active keys/);
  });

  test("signing out ends the session, with the CSRF token only", async () => {
    await createKey("acct_out", "forgeai", "k");
    const s = await signIn("acct_out");
    const logout = (headers = {}) =>
      fetch(`${gw.url}${PORTAL}/logout`, { method: "POST", headers: { Cookie: s.cookie, ...headers } });
    let res = await logout();
    assert.equal(res.status, 403, "no CSRF token: a cross-site form cannot end it");
    assert.equal((await res.json()).code, "csrf_failed");
    assert.equal((await s.call("GET", "/keys")).status, 200, "still signed in");
    res = await logout({ "X-Keygate-CSRF": s.csrf });
    assert.equal(res.status, 204);
    assert.match(res.headers.get("set-cookie"), /Max-Age=0/i, "the cookie is cleared");
    // A copy of the cookie kept elsewhere is dead as well.
    const after = await s.call("GET", "/keys");
    assert.equal(after.status, 410);
    assert.equal(after.body.code, "portal_session_ended");
    const list = await gw.admin("GET", "/accounts/acct_out/portal-sessions");
    assert.equal(list.body.sessions[0].status, "revoked");
    // Without a cookie there is nothing to end: the cookie is cleared all the same.
    res = await fetch(`${gw.url}${PORTAL}/logout`, { method: "POST" });
    assert.equal(res.status, 204);
  });

  test("a revoked session, and an expired link, are refused", async () => {
    await createKey("acct_end", "forgeai", "k");
    const s = await signIn("acct_end");
    const list = await gw.admin("GET", "/accounts/acct_end/portal-sessions");
    const id = list.body.sessions[0].id;
    assert.equal(list.body.sessions[0].status, "active");
    const revoked = await gw.admin("DELETE", `/accounts/acct_end/portal-sessions/${id}`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.status, "revoked");
    const after = await s.call("GET", "/keys");
    assert.equal(after.status, 410);
    assert.equal(after.body.code, "portal_session_ended");
    const page = await fetch(`${gw.url}${PORTAL}/`, { headers: { Cookie: s.cookie } });
    assert.equal(page.status, 410);

    await sleep(expiring.at + 61_000 - Date.now());
    const late = await open(expiring.grant.url);
    assert.equal(late.res.status, 410);
    assert.match(late.text, /expired/);
  });
});
