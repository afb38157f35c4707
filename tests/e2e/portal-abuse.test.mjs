// The API Keys page under abuse, on workerd (issue 18, Lows 2, 6, 7, 8):
// key churn against the change budgets, forged tokens and cookies (which
// must cost no call to any account's object), a holder's session learning
// about other holders' keys through counts and cursors, and a page link
// asked for with a forged Host.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_PREFIX, ADMIN_TOKEN, ROOT, startGateway, startOrigin } from "./harness.mjs";

const PORTAL = "/_keygate/keys";
const SESSION_BUDGET = 4;
const ACCOUNT_BUDGET = 6;
const base = readFileSync(join(ROOT, "tests/e2e/wrangler.portal.toml"), "utf8");
/** The page's table with `lines` added. */
const withPortal = (lines) =>
  base.replace('[vars.KEYGATE_CONFIG.portal]\npath_prefix = "/_keygate/keys"\n', `[vars.KEYGATE_CONFIG.portal]\npath_prefix = "/_keygate/keys"\n${lines}\n`);

let origin, gw;

before(async () => {
  origin = await startOrigin();
  gw = await startGateway({
    template: withPortal(`changes_per_session = ${SESSION_BUDGET}\nchanges_per_account = ${ACCOUNT_BUDGET}`),
    origin: origin.url,
  });
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

/** A signed-in session: its cookie, its CSRF token, and call/change helpers. */
async function signIn(account, body = {}) {
  const { url } = await grant(account, body);
  const opened = await fetch(url, { redirect: "manual" });
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
    return { status: r.status, body: parsed, headers: r.headers };
  };
  const change = (method, path, body, headers = {}) => call(method, path, body, { "X-Keygate-CSRF": csrf, ...headers });
  return { cookie, csrf, call, change };
}

/** One create-and-revoke cycle: two changes. */
async function churn(s) {
  const made = await s.change("POST", "/keys", { product: "forgeai", name: "churn" });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const gone = await s.change("DELETE", `/keys/${made.body.id}`);
  assert.equal(gone.status, 200, JSON.stringify(gone.body));
}

function assertLimited(res, whose, maxWait) {
  assert.equal(res.status, 429, JSON.stringify(res.body));
  assert.equal(res.body.code, "page_change_limit");
  assert.match(res.headers.get("content-type"), /^application\/problem\+json/);
  const wait = Number(res.headers.get("retry-after"));
  assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= maxWait, `Retry-After ${res.headers.get("retry-after")}`);
  assert.equal(res.body.retry_after, wait);
  assert.match(res.body.detail, new RegExp(`This ${whose} made`));
}

describe("the change budget (Low 2)", () => {
  test(`a session makes ${SESSION_BUDGET} changes, the account ${ACCOUNT_BUDGET}; the next is 429 with Retry-After`, async () => {
    const account = "acct_churn";
    await createKey(account, "mailforge", "seed");
    const first = await signIn(account);
    // A refused change (400) changes nothing and is not counted.
    const bad = await first.change("POST", "/keys", { product: "forgeai", name: "" });
    assert.equal(bad.status, 400);
    // Reads never count.
    for (let i = 0; i < SESSION_BUDGET + 2; i++) assert.equal((await first.call("GET", "/keys")).status, 200);
    for (let i = 0; i < SESSION_BUDGET / 2; i++) await churn(first);
    // The session's N+1th change: refused, and nothing was made.
    const before = (await gw.admin("GET", `/accounts/${account}/keys?limit=100`)).body.keys.length;
    assertLimited(await first.change("POST", "/keys", { product: "forgeai", name: "one more" }), "session", 600);
    assertLimited(await first.change("PATCH", `/keys/${(await first.call("GET", "/keys")).body.keys[0].id}`, { name: "renamed" }), "session", 600);
    const afterRefusal = (await gw.admin("GET", `/accounts/${account}/keys?limit=100`)).body.keys.length;
    assert.equal(afterRefusal, before, "a refused change makes no key");
    // A fresh session of the same account has its own budget, but the
    // account's counts the first session's changes (revoked keys included).
    const second = await signIn(account);
    const left = ACCOUNT_BUDGET - SESSION_BUDGET;
    for (let i = 0; i < left / 2; i++) await churn(second);
    assertLimited(await second.change("POST", "/keys", { product: "forgeai", name: "one more" }), "account", 86_400);
    const third = await signIn(account);
    assertLimited(await third.change("POST", "/keys", { product: "forgeai", name: "one more" }), "account", 86_400);
    // The admin API is not the page: it is not held up.
    await createKey(account, "forgeai", "admin's");
  });
});

// A forged page credential of the documented shape, for `account`:
// `kgp?.<account>~ps_<32 hex>~<64 hex secret>[~<32 hex tag>]`. Half carry a
// random tag (the new shape), half none (the shape before the tag).
function forged(kind, account, i) {
  const body = `${kind}.${account}~ps_${randomBytes(16).toString("hex")}~${randomBytes(32).toString("hex")}`;
  return i % 2 ? `${body}~${randomBytes(16).toString("hex")}` : body;
}

describe("forged page credentials (Low 6)", () => {
  test("1 000 forged tokens and cookies are refused with no call to any account's object", async () => {
    const account = "acct_forged";
    await createKey(account, "forgeai", "k");
    const real = await signIn(account);
    const requests = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 2) {
        requests.push({
          url: `${gw.url}${PORTAL}/start?token=${encodeURIComponent(forged("kgpt", account, i >> 1))}`,
          init: { redirect: "manual" },
          expect: 410,
        });
      } else {
        const cookie = `keygate_portal=${forged("kgpc", account, i >> 1)}`;
        const [path, expect, init] = [
          ["/api/keys", 401, {}],
          ["/api/session", 401, {}],
          ["/", 410, {}],
          ["/api/keys", 401, { method: "POST", headers: { "X-Keygate-CSRF": real.csrf, "Content-Type": "application/json" }, body: "{}" }],
        ][(i >> 1) % 4];
        requests.push({
          url: `${gw.url}${PORTAL}${path}`,
          init: { ...init, redirect: "manual", headers: { ...(init.headers ?? {}), Cookie: cookie } },
          expect,
        });
      }
    }
    const marker = gw.logEntries().length;
    let next = 0;
    const statuses = [];
    const worker = async () => {
      while (next < requests.length) {
        const { url, init, expect } = requests[next++];
        const res = await fetch(url, init);
        await res.arrayBuffer();
        statuses.push([res.status, expect]);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.equal(statuses.length, 1000);
    for (const [status, expect] of statuses) assert.equal(status, expect);
    let lines = [];
    for (let i = 0; i < 100 && lines.length < 1000; i++) {
      lines = gw.logEntries().slice(marker).filter((e) => e.api === "portal");
      if (lines.length < 1000) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(lines.length, 1000, "one log line per request");
    const calls = lines.reduce((sum, e) => sum + e.object_calls, 0);
    assert.equal(calls, 0, "object calls made for forged credentials");
    // The real session still works, and costs its one call.
    const mark = gw.logEntries().length;
    assert.equal((await real.call("GET", "/keys")).status, 200);
    await new Promise((r) => setTimeout(r, 200));
    const own = gw.logEntries().slice(mark).filter((e) => e.api === "portal");
    assert.deepEqual(own.map((e) => e.object_calls), [1]);
  });
});

describe("a holder's session and other holders' keys (Low 7)", () => {
  test("the session counts its holder's keys and says the limit is the account's", async () => {
    const account = "acct_counts";
    await createKey(account, "forgeai", "theirs 1", { owner_id: "user-2" });
    await createKey(account, "forgeai", "theirs 2", { owner_id: "user-2" });
    await createKey(account, "forgeai", "mine", { owner_id: "user-1" });
    const s = await signIn(account, { products: ["forgeai"], owner_id: "user-1" });
    const forgeai = (await s.call("GET", "/session")).body.products[0];
    assert.equal(forgeai.active_keys, 1, "user-1 has one key");
    assert.equal(forgeai.active_keys_of, "holder");
    assert.equal(forgeai.key_limit, 3);
    assert.equal(forgeai.key_limit_applies_to, "account");
    assert.equal(forgeai.can_create, false, "the account holds all 3");
    assert.match(forgeai.create_blocked, /per account/);
    const whole = await signIn(account, { products: ["forgeai"] });
    const all = (await whole.call("GET", "/session")).body.products[0];
    assert.equal(all.active_keys, 3);
    assert.equal(all.active_keys_of, "account");
  });

  test("event cursors come from the last event the session sees", async () => {
    const account = "acct_cursor";
    const mine = await createKey(account, "forgeai", "mine", { owner_id: "user-1" });
    const s = await signIn(account, { products: ["forgeai"], owner_id: "user-1" });
    // Newer events about another holder's key.
    const theirs = await createKey(account, "forgeai", "theirs", { owner_id: "user-2" });
    await gw.admin("PATCH", `/accounts/${account}/keys/${theirs.id}`, { name: "theirs, renamed" });
    const all = (await gw.admin("GET", `/accounts/${account}/events?limit=100`)).body.events;
    const hidden = all.filter((e) => e.key_id !== mine.id).map((e) => e.id.replace("evt_", ""));
    assert.ok(hidden.length >= 2);
    const page = await s.call("GET", "/events?limit=1");
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.equal(page.body.events.length, 1, "the page is filled from rows the session sees");
    assert.equal(page.body.events[0].key_id, mine.id);
    const text = JSON.stringify(page.body);
    assert.ok(!text.includes(theirs.id), text);
    if (page.body.next_cursor !== null) {
      assert.equal(`evt_${page.body.next_cursor}`, page.body.events[0].id, "the cursor is the last visible event");
      assert.ok(!hidden.includes(page.body.next_cursor));
      const rest = await s.call("GET", `/events?limit=100&before=${page.body.next_cursor}`);
      assert.ok(rest.body.events.every((e) => e.key_id === mine.id), JSON.stringify(rest.body));
    }
    // Every cursor a walk of the session's events meets names one of its own events.
    let cursor = null;
    const seen = [];
    do {
      const res = await s.call("GET", `/events?limit=1${cursor ? `&before=${cursor}` : ""}`);
      assert.equal(res.status, 200);
      seen.push(...res.body.events.map((e) => e.id));
      cursor = res.body.next_cursor;
      if (cursor !== null) assert.equal(`evt_${cursor}`, res.body.events.at(-1).id);
    } while (cursor !== null);
    assert.ok(seen.length >= 1);
  });
});

/** POST a portal-session grant with `host` as the Host header, through node:http. */
function grantWithHost(url, account, host) {
  const target = new URL(url);
  const body = JSON.stringify({ return_url: "https://app.example/settings" });
  return new Promise((ok, fail) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: "POST",
        path: `${ADMIN_PREFIX}/accounts/${account}/portal-sessions`,
        headers: {
          Host: host,
          Authorization: `Bearer ${ADMIN_TOKEN}`,
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          let parsed = text;
          try { parsed = JSON.parse(text); } catch {}
          ok({ status: res.statusCode, body: parsed });
        });
      },
    );
    req.on("error", fail);
    req.end(body);
  });
}

describe("the page link's host (Low 8)", () => {
  test("without a configured URL, dev builds links only for a loopback Host", async () => {
    await createKey("acct_host", "forgeai", "k");
    const evil = await grantWithHost(gw.url, "acct_host", "evil.example");
    assert.equal(evil.status, 500, JSON.stringify(evil.body));
    assert.equal(evil.body.code, "portal_url_missing");
    assert.doesNotMatch(JSON.stringify(evil.body), /evil\.example|kgpt/);
    const sessions = await gw.admin("GET", "/accounts/acct_host/portal-sessions");
    assert.equal(sessions.body.sessions.length, 0, "no session is stored for a refused link");
    const local = await grantWithHost(gw.url, "acct_host", new URL(gw.url).host);
    assert.equal(local.status, 201, JSON.stringify(local.body));
    assert.ok(local.body.url.startsWith(`${gw.url}${PORTAL}/start?token=kgpt.`), local.body.url);
  });

  test("with portal.public_url, the link is on it whatever the Host (outside dev)", async () => {
    const other = await startGateway({
      template: withPortal('public_url = "https://keys.example.com"'),
      origin: origin.url,
      dev: false,
    });
    try {
      const made = await other.admin("POST", "/accounts/acct_url/keys", { product: "forgeai", name: "k" });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      for (const host of ["evil.example", new URL(other.url).host, "keys.example.com"]) {
        const res = await grantWithHost(other.url, "acct_url", host);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.match(res.body.url, /^https:\/\/keys\.example\.com\/_keygate\/keys\/start\?token=kgpt\.acct_url~ps_[0-9a-f]{32}~[0-9a-f]{64}~[0-9a-f]{32}$/);
      }
    } finally {
      await other.stop();
    }
  });
});
