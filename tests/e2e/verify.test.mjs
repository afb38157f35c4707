// The gateway's verify endpoint (POST /_keygate/v1/verify) and signed meta
// forwarding (Keygate-Key-Meta), end to end on workerd with both Workers
// and the demo origin, which verifies every request's RFC 9421 signature.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_PREFIX, ROOT, startGateway, startOrigin } from "./harness.mjs";
import { forgedKey } from "./forge.mjs";

const SF_TOKEN = "sf-verifier-" + randomBytes(16).toString("hex");
const ST_TOKEN = "st-verifier-" + randomBytes(16).toString("hex");
const BD_TOKEN = "bd-verifier-" + randomBytes(16).toString("hex");

// The management test config, with a verifier for three products and
// salesforge forwarding two meta members.
const template = readFileSync(join(ROOT, "tests/e2e/wrangler.manage.toml"), "utf8")
  .replace(
    /(id = "salesforge"[\s\S]*?consistency = "edge"\n)/,
    `$1forward_meta = ["plan", "org"]\nverifier_token_secret = "SALESFORGE_VERIFIER_TOKEN"\n`,
  )
  .replace(
    /(id = "strictforge"[\s\S]*?consistency = "strict"\n)/,
    `$1verifier_token_secret = "STRICTFORGE_VERIFIER_TOKEN"\n`,
  )
  .replace(
    /(id = "boundedforge"[\s\S]*?max_staleness_seconds = 2\n)/,
    `$1verifier_token_secret = "BOUNDEDFORGE_VERIFIER_TOKEN"\n`,
  );

let origin, gw;

before(async () => {
  assert.match(template, /forward_meta/);
  assert.match(template, /STRICTFORGE_VERIFIER_TOKEN/);
  assert.match(template, /BOUNDEDFORGE_VERIFIER_TOKEN/);
  origin = await startOrigin();
  gw = await startGateway({
    template,
    origin: origin.url,
    vars: {
      SALESFORGE_VERIFIER_TOKEN: SF_TOKEN,
      STRICTFORGE_VERIFIER_TOKEN: ST_TOKEN,
      BOUNDEDFORGE_VERIFIER_TOKEN: BD_TOKEN,
    },
  });
});

after(async () => {
  await gw?.stop();
  await origin?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function create(account, body) {
  const res = await gw.admin("POST", `/accounts/${account}/keys`, body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** POST /verify with `token` (null: none); `body` an object or raw text. */
async function verify(body, token = SF_TOKEN, headers = {}) {
  const init = { method: "POST", headers: { "Content-Type": "application/json", ...headers } };
  if (token !== null) init.headers.Authorization = `Bearer ${token}`;
  init.body = typeof body === "string" ? body : JSON.stringify(body);
  const res = await fetch(`${gw.url}${ADMIN_PREFIX}/verify`, init);
  const text = await res.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch {}
  return { status: res.status, type: res.headers.get("content-type"), body: parsed, headers: res.headers };
}

const verifyLogs = () => gw.logEntries().filter((e) => e.api === "verify");

test("the origin receives the allowed meta members, signed; a client's copy is stripped", async () => {
  const k = await create("acct_meta", {
    product: "salesforge",
    name: "meta",
    meta: { plan: "pro", org: "acme ü", internal: "never forwarded" },
  });
  const res = await fetch(`${gw.url}/salesforge/v1/leads`, {
    headers: { "X-Salesforge-Key": k.key, "Keygate-Key-Meta": '{"plan":"enterprise"}', "Keygate_Key_Meta": "x" },
  });
  const seen = await res.json();
  assert.equal(res.status, 200, JSON.stringify(seen));
  assert.equal(seen.signature_valid, true, seen.signature_error);
  const meta = seen.headers["keygate-key-meta"];
  assert.equal(meta, '{"org":"acme \\u00fc","plan":"pro"}');
  assert.deepEqual(JSON.parse(meta), { org: "acme ü", plan: "pro" });
  assert.match(seen.headers["signature-input"], /"keygate-key-meta"/);
  assert.equal(seen.headers["keygate_key_meta"], undefined);

  // A meta change reaches the origin (within the edge bound).
  const patched = await gw.admin("PATCH", `/accounts/acct_meta/keys/${k.id}`, { meta: { plan: "team" } });
  assert.equal(patched.status, 200);
  let latest;
  for (let i = 0; i < 40; i++) {
    const again = await fetch(`${gw.url}/salesforge/v1/leads`, { headers: { "X-Salesforge-Key": k.key } });
    latest = await again.json();
    if (latest.headers["keygate-key-meta"] === '{"plan":"team"}') break;
    await sleep(250);
  }
  assert.equal(latest.headers["keygate-key-meta"], '{"plan":"team"}');
  assert.equal(latest.signature_valid, true);

  // A product without forward_meta sends no header, even when the client does.
  const fk = await create("acct_meta", { product: "forgeai", name: "nometa", meta: { plan: "pro" } });
  const other = await fetch(`${gw.url}/forgeai/api/x`, {
    headers: { Authorization: `Bearer ${fk.key}`, "Keygate-Key-Meta": '{"plan":"forged"}' },
  });
  const otherSeen = await other.json();
  assert.equal(other.status, 200, JSON.stringify(otherSeen));
  assert.equal(otherSeen.headers["keygate-key-meta"], undefined);
  assert.equal(otherSeen.signature_valid, true);
});

test("verify answers the edge's verdict, with the key's view but never the key", async () => {
  const k = await create("acct_verify", {
    product: "salesforge",
    name: "svc",
    scopes: ["read", "write"],
    owner_id: "user_1",
    meta: { plan: "pro" },
  });
  const ok = await verify({ key: k.key, product: "salesforge", method: "post", path: "/v1/leads" });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.match(ok.type, /^application\/json/);
  assert.match(ok.headers.get("keygate-request-id") ?? "", /^[0-9a-f]{32}$/);
  assert.equal(ok.body.valid, true);
  assert.equal(ok.body.permission, "write");
  assert.deepEqual(ok.body.scopes, ["read", "write"]);
  assert.equal(ok.body.key.id, k.id);
  assert.equal(ok.body.key.account, "acct_verify");
  assert.equal(ok.body.key.owner_id, "user_1");
  assert.deepEqual(ok.body.key.meta, { plan: "pro" });
  assert.equal(ok.body.key.status, "active");
  assert.ok(!JSON.stringify(ok.body).includes(k.key), "the key is never echoed");

  // No method or path: the key's own state only.
  const bare = await verify({ key: k.key, product: "salesforge" });
  assert.equal(bare.body.valid, true);
  assert.equal(bare.body.permission, undefined);

  // The same rules and canonical path as the edge.
  const scope = await verify({ key: k.key, product: "salesforge", method: "POST", path: "/v1/campaigns/%31/send" });
  assert.equal(scope.status, 200);
  assert.deepEqual([scope.body.valid, scope.body.code, scope.body.permission], [false, "insufficient_scope", "send_campaigns"]);
  const edge = await fetch(`${gw.url}/salesforge/v1/campaigns/1/send`, { method: "POST", headers: { "X-Salesforge-Key": k.key } });
  assert.equal(edge.status, 403);
  await edge.arrayBuffer();

  const badPath = await verify({ key: k.key, product: "salesforge", path: "/a%2Fb" });
  assert.equal(badPath.status, 400);
  assert.equal(badPath.body.code, "invalid_field");
  assert.equal(badPath.body.field, "path");

  // The use is reported as the edge reports it.
  let lastUsed = null;
  for (let i = 0; i < 40 && !lastUsed; i++) {
    lastUsed = (await gw.admin("GET", `/accounts/acct_verify/keys/${k.id}`)).body.last_used_at;
    if (!lastUsed) await sleep(250);
  }
  assert.ok(lastUsed, "last_used_at is set after a valid verify");
});

test("malformed, foreign and forged keys are refused without a KV read", async () => {
  const st = await create("acct_verify2", { product: "strictforge", name: "st" });
  const cases = [
    ["not-a-key", "malformed_key"],
    ["sf_live_" + "0".repeat(58), "malformed_key"],
    [st.key, "wrong_product"],
    [forgedKey("sf", "live"), "invalid_key"],
  ];
  for (const [key, code] of cases) {
    const before = verifyLogs().length;
    const res = await verify({ key, product: "salesforge" });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.valid, res.body.code], [false, code], key.slice(0, 12));
    assert.equal(res.body.key, undefined);
    assert.ok(!JSON.stringify(res.body).includes(key), "never echoed");
    let line;
    for (let i = 0; i < 20 && !line; i++) {
      line = verifyLogs()[before];
      if (!line) await sleep(100);
    }
    assert.ok(line, "a verify log line");
    assert.equal(line.kv_reads, 0, `${code}: no KV read`);
  }
  // A real key costs one read at most.
  const k = await create("acct_verify2", { product: "salesforge", name: "sf" });
  const before = verifyLogs().length;
  assert.equal((await verify({ key: k.key, product: "salesforge" })).body.valid, true);
  await sleep(200);
  assert.ok(verifyLogs()[before].kv_reads <= 1);
});

test("only the named product's verifier token is accepted", async () => {
  const k = await create("acct_tokens", { product: "salesforge", name: "t" });
  const body = { key: k.key, product: "salesforge" };
  for (const token of [null, gw.adminToken, ST_TOKEN, SF_TOKEN + "x", ""]) {
    const res = await verify(body, token);
    assert.equal(res.status, 401, `${token?.slice(0, 8)}`);
    assert.match(res.type, /^application\/problem\+json/);
    assert.equal(res.body.code, "invalid_verifier_token");
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="keygate verify"');
    assert.ok(res.body.instance, "problems carry a request id");
  }
  // A product without a verifier, or an unknown one, is refused alike.
  for (const product of ["forgeai", "nosuchproduct"]) {
    const res = await verify({ key: k.key, product }, SF_TOKEN);
    assert.equal(res.status, 401);
    assert.equal(res.body.code, "invalid_verifier_token");
  }
  // The verifier token has no power over the management API.
  const admin = await gw.admin("GET", `/accounts/acct_tokens/keys`, undefined, { token: SF_TOKEN });
  assert.equal(admin.status, 401);
});

test("bodies are read as strictly as the management API's", async () => {
  const k = await create("acct_bodies", { product: "salesforge", name: "b" });
  const plain = await verify(JSON.stringify({ key: k.key, product: "salesforge" }), SF_TOKEN, { "Content-Type": "text/plain" });
  assert.equal(plain.status, 415);
  assert.equal(plain.body.code, "unsupported_media_type");
  // The type is checked before the body is read: a large form body is 415, not 413.
  const bigForm = await verify("a=" + "b".repeat(6000), SF_TOKEN, { "Content-Type": "application/x-www-form-urlencoded" });
  assert.equal(bigForm.status, 415);
  const cases = [
    [`{"key":"${k.key}","product":"salesforge","extra":1}`, 400, "unknown_field"],
    [`{"key":"${k.key}","product":"forgeai","product":"salesforge"}`, 400, "invalid_json"],
    [`{"key":"${k.key}","product":"salesforge","path":null}`, 400, "invalid_field"],
    [`{"key":"${k.key}"`, 400, "invalid_json"],
    [JSON.stringify({ key: k.key, product: "salesforge", path: "/" + "a".repeat(5000) }), 413, "body_too_large"],
  ];
  for (const [raw, status, code] of cases) {
    const res = await verify(raw);
    assert.equal(res.status, status, raw.slice(0, 80));
    assert.equal(res.body.code, code);
    assert.ok(!JSON.stringify(res.body).includes(k.key), "never echoed");
  }
  const get = await fetch(`${gw.url}${ADMIN_PREFIX}/verify`, { headers: { Authorization: `Bearer ${SF_TOKEN}` } });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  await get.arrayBuffer();
});

test("strict products: revocation and disabling show on the very next verify", async () => {
  const k = await create("acct_strict", { product: "strictforge", name: "s" });
  const body = { key: k.key, product: "strictforge", method: "GET", path: "/x" };
  const first = await verify(body, ST_TOKEN);
  assert.equal(first.body.valid, true, JSON.stringify(first.body));
  assert.equal((await gw.admin("PATCH", `/accounts/acct_strict/keys/${k.id}`, { enabled: false })).status, 200);
  const disabled = await verify(body, ST_TOKEN);
  assert.deepEqual([disabled.body.valid, disabled.body.code], [false, "disabled_key"]);
  assert.equal(disabled.body.key.enabled, false);
  // (Turning it on again is not asserted at once: a disabled record read
  // from KV settles the verdict without a round trip until the cache TTL.)
  const k2 = await create("acct_strict", { product: "strictforge", name: "s2" });
  const body2 = { key: k2.key, product: "strictforge" };
  assert.equal((await verify(body2, ST_TOKEN)).body.valid, true);
  assert.equal((await gw.admin("DELETE", `/accounts/acct_strict/keys/${k2.id}`)).status, 200);
  const revoked = await verify(body2, ST_TOKEN);
  assert.deepEqual([revoked.body.valid, revoked.body.code], [false, "revoked_key"]);
  assert.equal(revoked.body.key.status, "revoked");
});

test("bounded products: a revocation shows on verify within max_staleness_seconds (2) + 1 s", async () => {
  const k = await create("acct_bounded_verify", { product: "boundedforge", name: "b" });
  const body = { key: k.key, product: "boundedforge", method: "GET", path: "/x" };
  assert.equal((await verify(body, BD_TOKEN)).body.valid, true);
  assert.equal((await gw.admin("DELETE", `/accounts/acct_bounded_verify/keys/${k.id}`)).status, 200);
  const revokedAt = Date.now();
  for (;;) {
    const answer = await verify(body, BD_TOKEN);
    assert.equal(answer.status, 200);
    if (!answer.body.valid) {
      assert.equal(answer.body.code, "revoked_key");
      assert.equal(answer.body.key.status, "revoked");
      break;
    }
    assert.ok(Date.now() - revokedAt <= 3000, "still valid 3 s after the revocation");
    await sleep(100);
  }
  // The object never heard of this key: unknown, and so refused.
  const ghost = await gw.mint(["--product", "boundedforge", "--account", "acct_bounded_verify"]);
  const unknown = await verify({ key: ghost, product: "boundedforge" }, BD_TOKEN);
  assert.deepEqual([unknown.body.valid, unknown.body.code], [false, "invalid_key"]);
});

// Issue 18 (Info 1): the edge answers TRACE, TRACK and CONNECT with 405
// whatever the key; verify gives the same code, even for a write key.
test("verify refuses the methods the edge refuses, with the edge's code", async () => {
  const k = await create("acct_verify_trace", {
    product: "salesforge",
    name: "svc",
    scopes: ["read", "write"],
  });
  for (const method of ["TRACE", "track", "CONNECT"]) {
    const res = await verify({ key: k.key, product: "salesforge", method, path: "/v1/leads" });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.valid, false, method);
    assert.equal(res.body.code, "method_not_allowed", method);
    // A forged key gets the same answer: the method is judged first, as at the edge.
    const forged = await verify({
      key: forgedKey("sf", "live"),
      product: "salesforge",
      method,
      path: "/v1/leads",
    });
    assert.equal(forged.body.code, "method_not_allowed", method);
  }
});
