// keygate end to end: workerd (`wrangler dev`) in front of a real origin.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, kvKeyOf, problem, rawRequest, startGateway, startOrigin } from "./harness.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.e2e.toml"), "utf8");
const now = () => Math.floor(Date.now() / 1000);
const EXPIRY_SECONDS = 15;

let origin, gw, mintedAt;
const sf = (...more) => ["--product", "salesforge", "--account", "acct_e2e", ...more];

before(async () => {
  origin = await startOrigin();
  mintedAt = now();
  gw = await startGateway({
    template,
    origin: origin.url,
    keys: {
      sf: sf("--name", "ok"),
      sfReadOnly: sf("--scopes", "read"),
      sfExpired: sf("--expires-at", String(mintedAt - 3600)),
      sfRevoked: sf("--revoked-at", String(mintedAt - 60)),
      sfTest: sf("--environment", "test"),
      sfLog: sf("--name", "log"),
      sfUsage: sf("--name", "usage"),
      sfUnknown: { unstored: sf() },
      sfCorrupt: { unstored: sf() },
      mf: ["--product", "mailforge", "--account", "acct_e2e"],
      fai: ["--product", "forgeai", "--account", "acct_ai", "--scopes", "read,execute_flows"],
      df: ["--product", "downforge", "--account", "acct_e2e"],
      inf: ["--product", "infraforge", "--account", "acct_e2e"],
    },
    raw: (keys) => [{ key: kvKeyOf(keys.sfCorrupt), value: "{not a record" }],
  });
});

after(async () => {
  await gw?.stop();
  await origin?.stop();
});

const call = (path, init = {}) => fetch(gw.url + path, { redirect: "manual", ...init });
const echo = async (res) => {
  assert.equal(res.headers.get("content-type"), "application/json", "reply is the origin's echo");
  return res.json();
};

async function refused(res, status, code) {
  const p = await problem(res);
  assert.equal(p.status, status, JSON.stringify(p.body));
  assert.equal(p.type, "application/problem+json");
  assert.equal(p.body.code, code);
  assert.equal(p.body.status, status);
  assert.equal(p.body.type, `urn:keygate:error:${code}`);
  assert.ok(p.body.title && p.body.detail, "title and detail present");
  assert.equal(p.challenge !== null, status === 401, "WWW-Authenticate exactly on 401");
  return p;
}

describe("forwarding a valid key", () => {
  test("is forwarded with signed identity headers and without the key header", async () => {
    const res = await call("/salesforge/v1/leads?page=2&q=a%20b", {
      headers: { "X-Salesforge-Key": gw.keys.sf },
    });
    assert.equal(res.status, 200);
    const seen = await echo(res);
    assert.equal(seen.method, "GET");
    assert.equal(seen.url, "/salesforge/v1/leads?page=2&q=a%20b");
    assert.match(seen.headers["keygate-key-id"], /^key_[0-9A-Za-z]{17}$/);
    assert.equal(seen.headers["keygate-account"], "acct_e2e");
    assert.equal(seen.headers["keygate-product"], "salesforge");
    assert.equal(seen.headers["keygate-environment"], "live");
    assert.deepEqual(seen.headers["keygate-scopes"].split(" ").sort(), ["read", "send_campaigns", "write"]);
    assert.match(seen.headers["signature-input"], /^keygate=\("@method" "@authority" "@path" "@query" /);
    assert.match(seen.headers.signature, /^keygate=:[A-Za-z0-9+/]{43}=:$/);
    assert.match(seen.headers["keygate-request-id"], /^[0-9a-f]{32}$/);
    assert.equal(seen.headers["keygate-signature"], undefined, "the old header is gone");
    assert.equal(seen.signature_valid, true, "origin verifies the signature");
    assert.equal(seen.headers["x-salesforge-key"], undefined, "key header stripped");
    assert.ok(!JSON.stringify(seen).includes(gw.keys.sf), "the key never reaches the origin");
  });

  test("spoofed Keygate-* headers are removed", async () => {
    const res = await call("/salesforge/v1/leads", {
      headers: {
        "X-Salesforge-Key": gw.keys.sf,
        "Keygate-Account": "acct_victim",
        "keygate-key-id": "key_spoofed",
        "Keygate-Signature": "t=1,v1=00",
        "Keygate-Admin": "true",
      },
    });
    const seen = await echo(res);
    assert.equal(seen.headers["keygate-account"], "acct_e2e");
    assert.notEqual(seen.headers["keygate-key-id"], "key_spoofed");
    assert.equal(seen.headers["keygate-admin"], undefined);
    assert.equal(seen.signature_valid, true);
  });

  test("no product's key reaches the origin; the origin's own credentials do", async () => {
    const res = await call("/salesforge/v1/leads", {
      headers: {
        "X-Salesforge-Key": gw.keys.sf,
        "X-Mailforge-Key": gw.keys.mf,
        Authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.origin-session",
      },
    });
    const seen = await echo(res);
    assert.equal(seen.headers["x-mailforge-key"], undefined, "another product's key is stripped");
    assert.equal(seen.headers.authorization, "Bearer eyJhbGciOiJIUzI1NiJ9.e30.origin-session");
    const ai = await echo(
      await call("/forgeai/api/v1/chat", {
        headers: { Authorization: `Bearer ${gw.keys.fai}`, "X-Salesforge-Key": gw.keys.sf },
      }),
    );
    assert.equal(ai.headers["x-salesforge-key"], undefined);
  });

  test("the upstream request is derived from the client's: many headers and repeated names pass, stripped ones never", async () => {
    const extra = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`X-Extra-${i}`, `value ${i}`]));
    const res = await rawRequest(gw.url, "GET", "/salesforge/v1/leads?x=1", {
      ...extra,
      "X-Salesforge-Key": gw.keys.sf,
      "X-Repeated": ["a", "b"],
      "keygate-account": ["acct_victim", "acct_other"],
      KEYGATE_SCOPES: "admin",
    });
    assert.equal(res.status, 200);
    const seen = res.body;
    for (let i = 0; i < 14; i++) assert.equal(seen.headers[`x-extra-${i}`], `value ${i}`);
    assert.equal(seen.headers["x-repeated"], "a, b");
    assert.equal(seen.headers["keygate-account"], "acct_e2e");
    assert.equal(seen.headers.keygate_scopes, undefined);
    assert.notEqual(seen.headers["keygate-scopes"], "admin");
    assert.equal(seen.headers["x-salesforge-key"], undefined);
    assert.equal(seen.signature_valid, true);
  });

  test("a Bearer product reads Authorization and strips it", async () => {
    const res = await call("/forgeai/api/v1/prediction/flow-1", {
      method: "POST",
      headers: { Authorization: `Bearer ${gw.keys.fai}`, "Content-Type": "application/json" },
      body: JSON.stringify({ question: "hi" }),
    });
    assert.equal(res.status, 200);
    const seen = await echo(res);
    assert.equal(seen.url, "/forgeai/api/v1/prediction/flow-1");
    assert.equal(seen.headers["keygate-product"], "forgeai");
    assert.equal(seen.headers["keygate-account"], "acct_ai");
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers["content-type"], "application/json");
    assert.equal(seen.signature_valid, true);
  });

  test("a test-environment key says so", async () => {
    const seen = await echo(await call("/salesforge/x", { headers: { "X-Salesforge-Key": gw.keys.sfTest } }));
    assert.equal(seen.headers["keygate-environment"], "test");
  });
});

describe("routing by host", () => {
  // fetch() may not set Host, so use node:http directly.
  const withHost = (host, path, headers = {}) =>
    new Promise((ok, fail) => {
      const req = httpRequest(gw.url + path, { headers: { Host: host, ...headers } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => ok({ status: res.statusCode, body: JSON.parse(body) }));
      });
      req.on("error", fail);
      req.end();
    });

  test("a host route takes every path on its host, and only there", async () => {
    const res = await withHost("api.infraforge.test", "/salesforge/v1/x", { "X-Infraforge-Key": gw.keys.inf });
    assert.equal(res.status, 200);
    assert.equal(res.body.url, "/infra/salesforge/v1/x");
    assert.equal(res.body.headers["keygate-product"], "infraforge");
    const elsewhere = await withHost("other.test", "/v1/x", { "X-Infraforge-Key": gw.keys.inf });
    assert.equal(elsewhere.status, 404);
    assert.equal(elsewhere.body.code, "no_route");
  });
});

describe("public paths", () => {
  test("are forwarded without a key, signed, with no identity", async () => {
    const res = await call("/salesforge/health", { headers: { "Keygate-Account": "acct_victim" } });
    assert.equal(res.status, 200);
    const seen = await echo(res);
    assert.equal(seen.url, "/salesforge/health");
    assert.equal(seen.headers["keygate-account"], undefined);
    assert.equal(seen.headers["keygate-key-id"], undefined);
    assert.equal(seen.headers["keygate-product"], "salesforge");
    assert.equal(seen.signature_valid, true);
  });

  test("a session endpoint keeps its cookie", async () => {
    const res = await call("/forgeai/api/account", { headers: { Cookie: "session=abc" } });
    const seen = await echo(res);
    assert.equal(seen.headers.cookie, "session=abc");
  });
});

describe("refusals", () => {
  test("no product for the path: 404 no_route", async () => {
    await refused(await call("/nowhere/v1"), 404, "no_route");
  });

  test("missing key: 401 missing_key with the product's challenge", async () => {
    const p = await refused(await call("/salesforge/v1/leads"), 401, "missing_key");
    assert.equal(p.challenge, 'ApiKey realm="Salesforge", header="X-Salesforge-Key"');
    assert.match(p.body.detail, /X-Salesforge-Key/);
    const b = await refused(await call("/forgeai/api/v1/chat"), 401, "missing_key");
    assert.equal(b.challenge, 'Bearer realm="ForgeAI"');
  });

  test("a key in another product's header: 401 wrong_product", async () => {
    const res = await call("/salesforge/v1/leads", { headers: { "X-Mailforge-Key": gw.keys.mf } });
    const p = await refused(res, 401, "wrong_product");
    assert.match(p.body.detail, /This is a Mailforge key/);
    assert.match(p.body.detail, /the Salesforge API expects a Salesforge key in the X-Salesforge-Key header/);
    assert.ok(!JSON.stringify(p.body).includes(gw.keys.mf), "never echoes the key");
  });

  test("another product's key in the right header: 401 wrong_product", async () => {
    const res = await call("/salesforge/v1/leads", { headers: { "X-Salesforge-Key": gw.keys.mf } });
    const p = await refused(res, 401, "wrong_product");
    assert.match(p.body.detail, /^This is a Mailforge key; the Salesforge API/);
    const ai = await call("/forgeai/api/v1/chat", { headers: { Authorization: `Bearer ${gw.keys.sf}` } });
    assert.match((await refused(ai, 401, "wrong_product")).challenge, /^Bearer realm="ForgeAI", error="invalid_token"/);
  });

  test("garbage and a bad checksum: 401 malformed_key", async () => {
    const garbage = await call("/salesforge/v1", { headers: { "X-Salesforge-Key": "hunter2" } });
    await refused(garbage, 401, "malformed_key");
    const k = gw.keys.sf;
    const flipped = k.slice(0, -1) + (k.endsWith("A") ? "B" : "A");
    const res = await call("/salesforge/v1", { headers: { "X-Salesforge-Key": flipped } });
    const p = await refused(res, 401, "malformed_key");
    assert.match(p.body.detail, /checksum/);
    assert.ok(!JSON.stringify(p.body).includes(flipped.slice(8)), "never echoes the key");
  });

  test("a well-formed key that is not stored: 401 invalid_key", async () => {
    const res = await call("/salesforge/v1", { headers: { "X-Salesforge-Key": gw.keys.sfUnknown } });
    await refused(res, 401, "invalid_key");
  });

  test("an expired key: 401 expired_key", async () => {
    const res = await call("/salesforge/v1", { headers: { "X-Salesforge-Key": gw.keys.sfExpired } });
    const p = await refused(res, 401, "expired_key");
    assert.match(p.body.detail, /expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  });

  test("a revoked key: 401 revoked_key", async () => {
    const res = await call("/salesforge/v1", { headers: { "X-Salesforge-Key": gw.keys.sfRevoked } });
    await refused(res, 401, "revoked_key");
  });

  test("missing permission: 403 insufficient_scope naming it", async () => {
    const ro = { "X-Salesforge-Key": gw.keys.sfReadOnly };
    assert.equal((await call("/salesforge/v1/leads", { headers: ro })).status, 200);
    const send = await call("/salesforge/v1/campaigns/7/send", { method: "POST", headers: ro });
    const p = await refused(send, 403, "insufficient_scope");
    assert.match(p.body.detail, /`send_campaigns`/);
    const write = await call("/salesforge/v1/leads", { method: "DELETE", headers: ro });
    assert.match((await refused(write, 403, "insufficient_scope")).body.detail, /`write`/);
  });

  test("an unreadable record fails closed: 503 storage_unavailable", async () => {
    const res = await call("/salesforge/v1", { headers: { "X-Salesforge-Key": gw.keys.sfCorrupt } });
    await refused(res, 503, "storage_unavailable");
    assert.equal(res.headers.get("retry-after"), "1");
  });

  test("origin down: 502 upstream_unavailable", async () => {
    const res = await call("/downforge/v1", { headers: { "X-Downforge-Key": gw.keys.df } });
    const p = await refused(res, 502, "upstream_unavailable");
    assert.match(p.body.detail, /Downforge/);
  });
});

describe("transparency", () => {
  test("a 5 MiB body arrives intact, both ways", async () => {
    const body = randomBytes(5 * 1024 * 1024 + 123);
    const digest = createHash("sha256").update(body).digest("hex");
    const res = await call("/salesforge/v1/upload", {
      method: "POST",
      headers: { "X-Salesforge-Key": gw.keys.sf, "Content-Type": "application/octet-stream" },
      body,
    });
    assert.equal(res.status, 200);
    const seen = await echo(res);
    assert.equal(seen.body_length, body.length);
    assert.equal(seen.body_sha256, digest);

    const back = await call("/salesforge/v1/upload", {
      method: "PUT",
      headers: { "X-Salesforge-Key": gw.keys.sf, "x-echo-mode": "body" },
      body,
    });
    assert.equal(back.status, 200);
    const returned = Buffer.from(await back.arrayBuffer());
    assert.equal(returned.length, body.length);
    assert.equal(createHash("sha256").update(returned).digest("hex"), digest);
  });

  test("method, query, status and headers are preserved", async () => {
    const res = await call("/salesforge/v1/leads/9?fields=a,b&x=%2F", {
      method: "PATCH",
      headers: {
        "X-Salesforge-Key": gw.keys.sf,
        "X-Request-Tag": "tag-1",
        "x-echo-status": "418",
        "x-echo-header": "x-origin-note=kept as is",
      },
      body: "{}",
    });
    assert.equal(res.status, 418);
    assert.equal(res.headers.get("x-origin-note"), "kept as is");
    const seen = await echo(res);
    assert.equal(seen.method, "PATCH");
    assert.equal(seen.url, "/salesforge/v1/leads/9?fields=a,b&x=%2F");
    assert.equal(seen.headers["x-request-tag"], "tag-1");
  });

  test("HEAD and an extension method are forwarded as sent", async () => {
    const head = await call("/salesforge/v1/leads", { method: "HEAD", headers: { "X-Salesforge-Key": gw.keys.sf } });
    assert.equal(head.status, 200);
    const res = await call("/salesforge/v1/dav", { method: "PROPFIND", headers: { "X-Salesforge-Key": gw.keys.sf } });
    assert.equal((await echo(res)).method, "PROPFIND");
  });

  test("redirects are returned, not followed", async () => {
    const res = await call("/salesforge/v1/old", {
      headers: { "X-Salesforge-Key": gw.keys.sf, "x-echo-status": "302", "x-echo-header": "location=/salesforge/v1/new" },
    });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "/salesforge/v1/new");
  });
});

describe("request log and usage", () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const entriesFor = (path) => gw.logEntries().filter((e) => e.path === path);

  test("malformed and wrong-product keys cost no storage read; a valid one at most one", async () => {
    await call("/salesforge/log/malformed", { headers: { "X-Salesforge-Key": "sf_live_garbage" } });
    await call("/salesforge/log/wrong", { headers: { "X-Salesforge-Key": gw.keys.mf } });
    await call("/salesforge/log/wrong-header", { headers: { "X-Mailforge-Key": gw.keys.mf } });
    await call("/salesforge/log/valid", { headers: { "X-Salesforge-Key": gw.keys.sfLog } });
    await call("/salesforge/log/cached", { headers: { "X-Salesforge-Key": gw.keys.sfLog } });
    await sleep(500);
    const one = (path) => {
      const found = entriesFor(path);
      assert.equal(found.length, 1, `one log line for ${path}`);
      return found[0];
    };
    assert.deepEqual(
      [one("/salesforge/log/malformed"), one("/salesforge/log/wrong"), one("/salesforge/log/wrong-header")].map(
        (e) => [e.outcome, e.kv_reads],
      ),
      [["malformed_key", 0], ["wrong_product", 0], ["wrong_product", 0]],
    );
    const valid = one("/salesforge/log/valid");
    assert.equal(valid.outcome, "forwarded");
    assert.equal(valid.kv_reads, 1);
    assert.equal(valid.product, "salesforge");
    assert.match(valid.key_id, /^key_/);
    assert.equal(typeof valid.latency_ms, "number");
    assert.equal(one("/salesforge/log/cached").kv_reads, 0, "second use is served from the isolate cache");
  });

  test("no log line ever contains a key", async () => {
    const text = gw.lines.join("");
    for (const [name, key] of Object.entries(gw.keys)) {
      assert.ok(!text.includes(key.slice(-20)), `log leaks ${name}`);
    }
  });

  test("a verified key's use is reported to its account at most once a minute per isolate", async () => {
    const headers = { "X-Salesforge-Key": gw.keys.sfUsage };
    for (let i = 0; i < 3; i++) {
      assert.equal((await call(`/salesforge/usage/${i}`, { headers })).status, 200);
    }
    await sleep(500);
    const reported = [0, 1, 2].map((i) => entriesFor(`/salesforge/usage/${i}`)[0]?.usage_reported);
    assert.deepEqual(reported, [true, false, false]);
    // No more KV writes for usage: the account's Durable Object keeps it.
    let stored = "";
    try { stored = gw.kvGet(`last_used:${entriesFor("/salesforge/usage/0")[0].key_id}`); } catch {}
    assert.doesNotMatch(stored, /^\d+$/);
  });
});

describe("expiry", () => {
  test("is exact to the second even while the record is cached", async () => {
    const expiresAt = now() + EXPIRY_SECONDS;
    const key = { "X-Salesforge-Key": await gw.mint(sf("--expires-at", String(expiresAt))) };
    assert.ok(now() < expiresAt - 2, "writing the key to local KV took too long for this test");
    assert.equal((await call("/salesforge/v1", { headers: key })).status, 200, "valid before expiry");
    // The record is now in the isolate cache (cache_ttl_seconds = 60).
    const wait = (expiresAt + 2 - now()) * 1000;
    await new Promise((r) => setTimeout(r, wait));
    await refused(await call("/salesforge/v1", { headers: key }), 401, "expired_key");
  });
});
