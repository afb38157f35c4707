// Per-key IP allowlists through the gateway on workerd (issue 21, part 3):
// a key with `allowed_ips` is forwarded from an allowed address and refused
// 403 ip_not_allowed from any other, IPv4 and IPv6 alike; a product's
// default list applies to keys without their own, and a key's own list
// replaces it; the address is CF-Connecting-IP only (wrangler dev keeps a
// CF-Connecting-IP the client sends, standing in for Cloudflare, which
// sets it itself), so X-Forwarded-For, X-Real-IP and the like cannot
// spoof it; a refusal is decided before the origin sees anything; verify
// judges its `client_ip`; the API Keys page shows the list and writes it
// only when the operator turns portal.editable_allowed_ips on.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { ADMIN_PREFIX, ROOT, startGateway, startOrigin } from "./harness.mjs";

const CLI = process.env.KEYGATE_CLI ?? join(ROOT, "target/debug/keygate");

const PORTAL = "/_keygate/keys";
const VERIFIER = "ipallow-verifier-token-" + "x".repeat(24);

// The page's test config: forgeai (strict: the account's object decides)
// with no default list, mailforge (edge: the KV record decides) with a
// default of 198.51.100.0/24 and a verifier token.
const base = readFileSync(join(ROOT, "tests/e2e/wrangler.portal.toml"), "utf8");
const template = base.replace(
  /(id = "mailforge"[\s\S]*?)consistency = "strict"\n/,
  `$1consistency = "edge"\nallowed_ips = ["198.51.100.0/24"]\nverifier_token_secret = "MAILFORGE_VERIFIER_TOKEN"\n`,
);
const editable = template.replace(
  /(\[vars\.KEYGATE_CONFIG\.portal\]\n)/,
  `$1editable_allowed_ips = true\n`,
);

let origin, gw;

before(async () => {
  assert.match(template, /allowed_ips = \["198\.51\.100\.0\/24"\]/);
  assert.match(template, /consistency = "edge"/);
  assert.match(editable, /editable_allowed_ips = true/);
  origin = await startOrigin();
  gw = await startGateway({ template, origin: origin.url, vars: { MAILFORGE_VERIFIER_TOKEN: VERIFIER } });
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

/** A request through the gateway with `key`, from `ip` (CF-Connecting-IP). */
async function from(ip, key, { product = "forgeai", headers = {} } = {}) {
  const auth = product === "forgeai" ? { Authorization: `Bearer ${key}` } : { "X-Mailforge-Key": key };
  const h = { ...auth, ...headers };
  if (ip !== null) h["CF-Connecting-IP"] = ip;
  const res = await fetch(`${gw.url}/${product}/api/v1/things`, { headers: h });
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, type: res.headers.get("content-type"), body };
}

function forwarded(res, ip) {
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.signature_valid, true);
  if (ip) assert.equal(res.body.headers["keygate-client-ip"], ip);
}

function refusedIp(res, ip) {
  assert.equal(res.status, 403, JSON.stringify(res.body));
  assert.match(res.type ?? "", /^application\/problem\+json/);
  assert.equal(res.body.code, "ip_not_allowed");
  if (ip) assert.match(res.body.detail, new RegExp(ip.replaceAll(".", "\\.")));
  assert.match(res.body.detail, /IP allowlist/);
}

/** The request log's line for a refusal, to prove nothing reached the origin. */
const logged = (code) => gw.logEntries().filter((e) => e.outcome === code);

describe("a key's own list", () => {
  test("forwarded from an allowed address, refused 403 ip_not_allowed from another, IPv4 and IPv6", async () => {
    const k = await createKey("acct_ip1", {
      product: "forgeai", name: "office", allowed_ips: ["203.0.113.0/24", "2001:DB8::/32"],
    });
    assert.deepEqual(k.allowed_ips, ["203.0.113.0/24", "2001:db8::/32"], "stored normalised");
    forwarded(await from("203.0.113.7", k.key), "203.0.113.7");
    forwarded(await from("2001:db8:1::7", k.key), "2001:db8:1::7");
    // An IPv4 client seen as IPv4-mapped IPv6 matches the IPv4 range.
    forwarded(await from("::ffff:203.0.113.9", k.key));
    const before = logged("ip_not_allowed").length;
    refusedIp(await from("198.51.100.7", k.key), "198.51.100.7");
    refusedIp(await from("2001:db9::1", k.key), "2001:db9::1");
    // Log lines arrive on the runtime's stdout a moment later.
    let lines = [];
    for (let i = 0; i < 50 && lines.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      lines = logged("ip_not_allowed").slice(before);
    }
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.equal(line.status, 403);
      assert.equal(line.key_id, k.id, "decided after the key was found");
      assert.equal(line.usage_reported, false, "nothing counted");
    }
    // The refusal names the caller's address, never the list.
    const refused = await from("198.51.100.7", k.key);
    assert.doesNotMatch(JSON.stringify(refused.body), /203\.0\.113|2001:db8/);
    // Fail closed: an address the gateway cannot read is refused.
    refusedIp(await from("not-an-address", k.key));
    refusedIp(await from("fe80::1%eth0", k.key));
  });

  test("a client-sent X-Forwarded-For, X-Real-IP, Forwarded or True-Client-IP cannot spoof it", async () => {
    const k = await createKey("acct_ip2", { product: "forgeai", name: "spoof", allowed_ips: ["203.0.113.7"] });
    const spoofed = {
      "X-Forwarded-For": "203.0.113.7",
      "X-Real-IP": "203.0.113.7",
      Forwarded: "for=203.0.113.7",
      "True-Client-IP": "203.0.113.7",
      "Keygate-Client-Ip": "203.0.113.7",
    };
    refusedIp(await from("192.0.2.66", k.key, { headers: spoofed }), "192.0.2.66");
    // Without CF-Connecting-IP the runtime's own view of the socket
    // (127.0.0.1 here) is the address; the spoofed headers still count for
    // nothing.
    const local = await from(null, k.key, { headers: spoofed });
    assert.equal(local.status, 403, JSON.stringify(local.body));
    assert.equal(local.body.code, "ip_not_allowed");
    assert.doesNotMatch(local.body.detail, /203\.0\.113\.7/);
    forwarded(await from("203.0.113.7", k.key, { headers: spoofed }), "203.0.113.7");
  });

  test("revocation and disabling are judged before the address", async () => {
    const k = await createKey("acct_ip3", { product: "forgeai", name: "order", allowed_ips: ["203.0.113.0/24"] });
    const off = await gw.admin("PATCH", `/accounts/acct_ip3/keys/${k.id}`, { enabled: false });
    assert.equal(off.status, 200);
    const res = await from("198.51.100.7", k.key);
    assert.equal(res.body.code, "disabled_key", JSON.stringify(res.body));
    // And the address before the permission: a scope the key lacks is not
    // told to a caller from elsewhere.
    const narrow = await createKey("acct_ip3", {
      product: "forgeai", name: "narrow", scopes: ["view_logs"], allowed_ips: ["203.0.113.0/24"],
    });
    refusedIp(await from("198.51.100.7", narrow.key));
    const inside = await from("203.0.113.1", narrow.key);
    assert.equal(inside.body.code, "insufficient_scope", JSON.stringify(inside.body));
  });

  test("PATCH replaces and [] clears the list; a rotated key keeps it", async () => {
    const k = await createKey("acct_ip4", { product: "forgeai", name: "moving" });
    forwarded(await from("192.0.2.1", k.key));
    const set = await gw.admin("PATCH", `/accounts/acct_ip4/keys/${k.id}`, { allowed_ips: ["192.0.2.0/28"] });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.allowed_ips, ["192.0.2.0/28"]);
    // forgeai is strict: the very next request sees the change.
    forwarded(await from("192.0.2.1", k.key));
    refusedIp(await from("192.0.2.16", k.key));
    const bad = await gw.admin("PATCH", `/accounts/acct_ip4/keys/${k.id}`, {
      allowed_ips: ["192.0.2.1/24", "fe80::1%eth0"],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "invalid_field");
    assert.deepEqual(bad.body.errors.map((e) => e.field), ["allowed_ips[0]", "allowed_ips[1]"]);
    assert.match(bad.body.errors[0].detail, /did you mean 192\.0\.2\.0\/24\?/);
    const rotated = await gw.admin("POST", `/accounts/acct_ip4/keys/${k.id}/rotate`, { grace_seconds: 0 });
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    assert.deepEqual(rotated.body.allowed_ips, ["192.0.2.0/28"]);
    forwarded(await from("192.0.2.2", rotated.body.key));
    refusedIp(await from("203.0.113.2", rotated.body.key));
    const cleared = await gw.admin("PATCH", `/accounts/acct_ip4/keys/${rotated.body.id}`, { allowed_ips: [] });
    assert.deepEqual(cleared.body.allowed_ips, []);
    forwarded(await from("203.0.113.2", rotated.body.key));
    const events = await gw.admin("GET", "/accounts/acct_ip4/events");
    const update = events.body.events.find((e) => e.type === "key.updated" && e.data.allowed_ips);
    assert.deepEqual(update.data.allowed_ips.to, []);
  });
});

describe("a product's default list", () => {
  test("applies to keys without their own, and a key's own list replaces it (edge consistency)", async () => {
    const plain = await createKey("acct_ip5", { product: "mailforge", name: "plain" });
    assert.deepEqual(plain.allowed_ips, [], "the key has none of its own");
    forwarded(await from("198.51.100.20", plain.key, { product: "mailforge" }), "198.51.100.20");
    refusedIp(await from("203.0.113.20", plain.key, { product: "mailforge" }), "203.0.113.20");
    const own = await createKey("acct_ip5", { product: "mailforge", name: "own", allowed_ips: ["203.0.113.0/24"] });
    forwarded(await from("203.0.113.20", own.key, { product: "mailforge" }));
    refusedIp(await from("198.51.100.20", own.key, { product: "mailforge" }));
    // The list travels in the key's KV record (mailforge is edge: verify
    // shows the record the edge read), and costs no other read.
    const seen = await gw.admin("POST", "/verify", { key: own.key, product: "mailforge", client_ip: "203.0.113.1" }, { token: VERIFIER });
    assert.equal(seen.body.valid, true, JSON.stringify(seen.body));
    assert.deepEqual(seen.body.key.allowed_ips, ["203.0.113.0/24"]);
    const reads = gw.logEntries().filter((e) => e.key_id === own.id).map((e) => e.kv_reads);
    assert.ok(reads.length > 0 && reads.every((n) => n <= 1), JSON.stringify(reads));
    const anywhere = await createKey("acct_ip5", { product: "mailforge", name: "any", allowed_ips: ["::/0"] });
    forwarded(await from("203.0.113.20", anywhere.key, { product: "mailforge" }));
    forwarded(await from("2001:db8::20", anywhere.key, { product: "mailforge" }));
  });

  test("verify judges the client_ip it is given, and refuses a listed key without one", async () => {
    const k = await createKey("acct_ip6", { product: "mailforge", name: "verified" });
    const verify = async (body) => {
      const res = await gw.admin("POST", "/verify", { key: k.key, product: "mailforge", ...body }, { token: VERIFIER });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    assert.equal((await verify({ client_ip: "198.51.100.9" })).valid, true);
    const outside = await verify({ client_ip: "203.0.113.9" });
    assert.equal(outside.valid, false);
    assert.equal(outside.code, "ip_not_allowed");
    const missing = await verify({});
    assert.equal(missing.code, "ip_not_allowed");
    assert.match(missing.detail, /client_ip/);
    const bad = await gw.admin("POST", "/verify", { key: k.key, product: "mailforge", client_ip: "1.2.3.4:80" }, { token: VERIFIER });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, "client_ip");
  });
});

describe("the CLI", () => {
  test("keys create --allowed-ip (repeated), keys update --allowed-ip and --clear-allowed-ips", async () => {
    const run = async (args) => {
      const env = { ...process.env, KEYGATE_ADMIN_TOKEN: gw.adminToken };
      delete env.KEYGATE_URL;
      const { stdout } = await promisify(execFile)(CLI, [...args, "--url", gw.url + ADMIN_PREFIX, "--json"], { env, encoding: "utf8" });
      return JSON.parse(stdout);
    };
    const created = await run(["keys", "create", "--account", "acct_ip9", "--product", "forgeai", "--name", "cli",
      "--allowed-ip", "203.0.113.7", "--allowed-ip", "2001:db8::/32"]);
    assert.deepEqual(created.allowed_ips, ["203.0.113.7/32", "2001:db8::/32"]);
    forwarded(await from("2001:db8::9", created.key));
    refusedIp(await from("203.0.113.8", created.key));
    const moved = await run(["keys", "update", "--account", "acct_ip9", created.id, "--allowed-ip", "203.0.113.0/24"]);
    assert.deepEqual(moved.allowed_ips, ["203.0.113.0/24"]);
    forwarded(await from("203.0.113.8", created.key));
    const cleared = await run(["keys", "update", "--account", "acct_ip9", created.id, "--clear-allowed-ips"]);
    assert.deepEqual(cleared.allowed_ips, []);
    forwarded(await from("192.0.2.8", created.key));
    await assert.rejects(
      run(["keys", "update", "--account", "acct_ip9", created.id, "--allowed-ip", "10.0.0.1/8"]),
      /did you mean 10\.0\.0\.0\/8\?/,
    );
  });
});

/** A signed-in page session on `g`: call() reads, change() sends the CSRF token. */
async function signIn(g, account) {
  const granted = await g.admin("POST", `/accounts/${account}/portal-sessions`, {
    return_url: "http://localhost:3000/settings",
  });
  assert.equal(granted.status, 201, JSON.stringify(granted.body));
  const opened = await fetch(granted.body.url, { redirect: "manual" });
  await opened.text();
  assert.equal(opened.status, 303);
  const cookie = opened.headers.get("set-cookie").split(";")[0];
  const page = await fetch(`${g.url}${PORTAL}/`, { headers: { Cookie: cookie } });
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const csrf = /name="keygate-csrf" content="([0-9a-f]{64})"/.exec(html)[1];
  const call = async (method, path, body, headers = {}) => {
    const init = { method, headers: { Cookie: cookie, ...headers }, redirect: "manual" };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    const r = await fetch(`${g.url}${PORTAL}/api${path}`, init);
    const t = await r.text();
    let parsed = t;
    try { parsed = JSON.parse(t); } catch {}
    return { status: r.status, body: parsed };
  };
  const change = (method, path, body) => call(method, path, body, { "X-Keygate-CSRF": csrf });
  return { call, change };
}

describe("the API Keys page", () => {
  test("shows the list, and cannot set it unless the operator allows it", async () => {
    const k = await createKey("acct_ip7", { product: "forgeai", name: "shown", allowed_ips: ["203.0.113.0/24"] });
    const s = await signIn(gw, "acct_ip7");
    const session = await s.call("GET", "/session");
    assert.equal(session.body.editable_allowed_ips, false);
    assert.deepEqual(session.body.products.find((p) => p.id === "mailforge").allowed_ips, ["198.51.100.0/24"]);
    const listed = await s.call("GET", "/keys");
    assert.deepEqual(listed.body.keys.find((v) => v.id === k.id).allowed_ips, ["203.0.113.0/24"]);
    const widen = await s.change("PATCH", `/keys/${k.id}`, { allowed_ips: ["0.0.0.0/0"] });
    assert.equal(widen.status, 403, JSON.stringify(widen.body));
    assert.equal(widen.body.code, "forbidden_field");
    assert.equal(widen.body.field, "allowed_ips");
    const clear = await s.change("PATCH", `/keys/${k.id}`, { name: "renamed", allowed_ips: [] });
    assert.equal(clear.body.code, "forbidden_field");
    const create = await s.change("POST", "/keys", { product: "forgeai", name: "mine", allowed_ips: ["0.0.0.0/0"] });
    assert.equal(create.status, 403, JSON.stringify(create.body));
    assert.equal(create.body.code, "forbidden_field");
    const view = await gw.admin("GET", `/accounts/acct_ip7/keys/${k.id}`);
    assert.deepEqual(view.body.allowed_ips, ["203.0.113.0/24"], "unchanged");
    assert.equal(view.body.name, "shown", "a refused body changes nothing");
    refusedIp(await from("192.0.2.1", k.key));
    // The page's own changes keep the list.
    const renamed = await s.change("PATCH", `/keys/${k.id}`, { name: "renamed" });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.deepEqual(renamed.body.allowed_ips, ["203.0.113.0/24"]);
  });

  test("with portal.editable_allowed_ips = true a page user sets, checks and clears it", async () => {
    const g = await startGateway({ template: editable, origin: origin.url, vars: { MAILFORGE_VERIFIER_TOKEN: VERIFIER } });
    try {
      const seed = await g.admin("POST", "/accounts/acct_ip8/keys", { product: "forgeai", name: "seed" });
      assert.equal(seed.status, 201, JSON.stringify(seed.body));
      const s = await signIn(g, "acct_ip8");
      assert.equal((await s.call("GET", "/session")).body.editable_allowed_ips, true);
      const created = await s.change("POST", "/keys", { product: "forgeai", name: "mine", allowed_ips: ["203.0.113.7"] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.allowed_ips, ["203.0.113.7/32"]);
      const bad = await s.change("PATCH", `/keys/${created.body.id}`, { allowed_ips: ["203.0.113.7/24"] });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.field, "allowed_ips[0]");
      const at = async (ip) => {
        const r = await fetch(`${g.url}/forgeai/x`, { headers: { Authorization: `Bearer ${created.body.key}`, "CF-Connecting-IP": ip } });
        return { status: r.status, body: await r.json() };
      };
      assert.equal((await at("203.0.113.7")).status, 200);
      assert.equal((await at("203.0.113.8")).body.code, "ip_not_allowed");
      const cleared = await s.change("PATCH", `/keys/${created.body.id}`, { allowed_ips: [] });
      assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
      assert.deepEqual(cleared.body.allowed_ips, []);
      assert.equal((await at("203.0.113.8")).status, 200);
      // Operator-only fields stay forbidden.
      const meta = await s.change("PATCH", `/keys/${created.body.id}`, { meta: {} });
      assert.equal(meta.body.code, "forbidden_field");
    } finally {
      await g.stop();
    }
  });
});
