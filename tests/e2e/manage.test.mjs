// The management API end to end: keys created, changed, rotated and revoked
// through /_keygate/v1 on workerd (`wrangler dev`, with the Account Durable
// Object), and the effect of each change on real traffic through the gateway.
//
// Every management API response is checked against the OpenAPI document
// (tests/e2e/openapi.mjs) before the test looks at it. Each test uses its own
// account ids, so the tests do not see each other's keys or events.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_PREFIX, ADMIN_TOKEN, ROOT, startGateway, startOrigin } from "./harness.mjs";
import { checkDocument, loadDocument, validateResponse } from "./openapi.mjs";
import { forgedKey } from "./forge.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.manage.toml"), "utf8");
/** The isolate cache TTL of the test config: the bound for "edge" consistency. */
const CACHE_TTL_SECONDS = Number(/^cache_ttl_seconds\s*=\s*(\d+)/m.exec(template)[1]);
/** How long a change may take to show at the edge: the cache TTL plus 3 s of slack. */
const EDGE_BOUND_MS = (CACHE_TTL_SECONDS + 3) * 1000;

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const KEY_ID = /^key_[0-9A-Za-z]{17}$/;
const BODY = "[0-9A-Za-z]{58}"; // 43 random + 9 tag + 6 checksum characters
const VIEW_FIELDS = [
  "id", "name", "product", "environment", "prefix", "masked", "scopes", "status",
  "created_at", "expires_at", "revoked_at", "last_used_at", "webhook_url", "replaced_by", "owner_id", "enabled", "meta",
];

let origin, gw, doc;

before(async () => {
  doc = await loadDocument();
  await assertValidDocument(doc);
  origin = await startOrigin();
  gw = await startGateway({ template, origin: origin.url });
});

after(async () => {
  await gw?.stop();
  await origin?.stop();
});

// --- helpers ---------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const nowSeconds = () => Date.now() / 1000;
const secondsOf = (rfc3339) => Date.parse(rfc3339) / 1000;
const rfc3339At = (unixSeconds) => new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
const mediaType = (type) => (type ?? "").split(";")[0].trim().toLowerCase();
const sorted = (list) => [...list].sort();
const show = (res) => `${res.status} ${typeof res.body === "string" ? res.body : JSON.stringify(res.body)}`;

async function assertValidDocument(document) {
  const result = await checkDocument(document);
  if (Array.isArray(result)) assert.deepEqual(result, [], "the OpenAPI document has problems");
  else assert.notEqual(result, false, "the OpenAPI document has problems");
}

/** Throws unless the response is one the OpenAPI document allows. */
function conforms(method, path, res) {
  try {
    validateResponse(doc, {
      method,
      path: path.split("?")[0],
      status: res.status,
      contentType: res.type,
      body: res.body,
      headers: res.headers,
    });
  } catch (e) {
    throw new Error(`${method} ${path} -> ${show(res)}\ndoes not match the OpenAPI document: ${e.message}`, {
      cause: e,
    });
  }
}

/** Calls the management API (path below the prefix) and validates the response. */
async function api(method, path, body, options) {
  const res = await gw.admin(method, path, body, options);
  conforms(method, path, res);
  return res;
}

/** Asserts a success with this status and returns the body. */
function ok(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${show(res)}`);
  assert.equal(mediaType(res.type), "application/json");
  return res.body;
}

/** Asserts a problem+json error; `field`: the expected member, NO_FIELD for none, undefined: unchecked. */
const NO_FIELD = Symbol("no field");
function failed(res, status, code, field) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${show(res)}`);
  assert.equal(mediaType(res.type), "application/problem+json");
  const p = res.body;
  assert.equal(p.code, code, show(res));
  assert.equal(p.status, status);
  assert.equal(p.type, `urn:keygate:error:${code}`);
  assert.ok(typeof p.title === "string" && p.title, "title present");
  assert.ok(typeof p.detail === "string" && p.detail, "detail present");
  if (field === NO_FIELD) assert.ok(!("field" in p), `no field expected, got ${p.field}`);
  else if (field !== undefined) assert.equal(p.field, field, show(res));
  return p;
}

/** Checks a KeyView's shape and that no secret is in it. */
function keyView(view) {
  for (const f of VIEW_FIELDS) assert.ok(f in view, `KeyView has ${f}: ${JSON.stringify(view)}`);
  assert.match(view.id, KEY_ID);
  assert.match(view.created_at, RFC3339);
  for (const f of ["expires_at", "revoked_at", "last_used_at"]) {
    if (view[f] !== null) assert.match(view[f], RFC3339, f);
  }
  assert.ok(["active", "expired", "revoked"].includes(view.status), view.status);
  for (const f of ["key", "webhook_secret", "hash", "key_hash"]) {
    assert.ok(!(f in view), `a KeyView never has ${f}`);
  }
  return view;
}

/** Checks a CreatedKey: a KeyView plus the key (and webhook_secret iff a webhook was given). */
function createdKey(created, { product, prefix, environment = "live", webhook = false }) {
  const { key, webhook_secret: whsec, previous, ...view } = created;
  keyView(view);
  assert.equal(view.product, product);
  assert.equal(view.environment, environment);
  assert.equal(view.status, "active");
  assert.equal(view.revoked_at, null);
  assert.equal(view.last_used_at, null);
  assert.equal(view.replaced_by, null);
  assert.match(key, new RegExp(`^${prefix}_${environment}_${BODY}$`));
  // The documented shape: prefix "fai_live_Ab12", masked "fai_live_Ab12…9xQz".
  assert.match(view.prefix, new RegExp(`^${prefix}_${environment}_[0-9A-Za-z]{4}$`));
  assert.ok(key.startsWith(view.prefix), "prefix is the start of the key");
  assert.equal(view.masked, `${view.prefix}…${key.slice(-4)}`);
  assert.ok(Math.abs(secondsOf(view.created_at) - nowSeconds()) < 60, `created_at ${view.created_at}`);
  if (webhook) {
    assert.match(whsec, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(whsec.slice(6), "base64").length, 32);
  } else {
    assert.ok(!("webhook_secret" in created), "webhook_secret only when a webhook_url was given");
  }
  return created;
}

const PRODUCTS = {
  forgeai: { path: "/forgeai", auth: (key) => ({ Authorization: `Bearer ${key}` }) },
  salesforge: { path: "/salesforge", auth: (key) => ({ "X-Salesforge-Key": key }) },
  strictforge: { path: "/strictforge", auth: (key) => ({ "X-Strictforge-Key": key }) },
  limitforge: { path: "/limitforge", auth: (key) => ({ "X-Limitforge-Key": key }) },
};

/** Calls the gateway with a product's key. */
async function edge(product, key, path = "/v1/ping", method = "GET") {
  const p = PRODUCTS[product];
  const res = await fetch(gw.url + p.path + path, { method, headers: p.auth(key), redirect: "manual" });
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, type: res.headers.get("content-type"), body, challenge: res.headers.get("www-authenticate") };
}

/** What the gateway did: "forwarded" (the origin's verified echo) or the refusal's code. */
const verdict = (r) =>
  r.status === 200 && mediaType(r.type) === "application/json" && r.body?.signature_valid === true
    ? "forwarded"
    : (r.body?.code ?? `status ${r.status}`);

function forwarded(r, { keyId, account, product } = {}) {
  assert.equal(verdict(r), "forwarded", `expected the origin's echo, got ${show(r)}`);
  if (keyId) assert.equal(r.body.headers["keygate-key-id"], keyId);
  if (account) assert.equal(r.body.headers["keygate-account"], account);
  if (product) assert.equal(r.body.headers["keygate-product"], product);
  return r.body;
}

function refused(r, status, code) {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${show(r)}`);
  assert.equal(mediaType(r.type), "application/problem+json");
  assert.equal(r.body.code, code);
  assert.equal(r.body.type, `urn:keygate:error:${code}`);
  assert.equal(r.challenge !== null, status === 401, "WWW-Authenticate exactly on 401");
  return r.body;
}

/**
 * Repeats `probe` until its verdict is `want`; fails once `boundMs` have passed
 * since `since` (a Date.now() value). Returns the response and the elapsed ms.
 */
async function edgeUntil(what, probe, want, since, boundMs = EDGE_BOUND_MS) {
  for (;;) {
    const r = await probe();
    const elapsed = Date.now() - since;
    if (verdict(r) === want) {
      assert.ok(elapsed <= boundMs, `${what}: took ${elapsed} ms, more than ${boundMs} ms`);
      return { response: r, elapsed };
    }
    if (elapsed > boundMs) assert.fail(`${what}: still ${verdict(r)} after ${elapsed} ms (want ${want}): ${show(r)}`);
    await sleep(200);
  }
}

/** Repeats `fn` until it returns a truthy value, for at most `timeoutMs`. */
async function until(what, fn, timeoutMs, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

const keysOf = (account) => `/accounts/${account}/keys`;
const keyOf = (account, id) => `/accounts/${account}/keys/${id}`;

async function create(account, body, expect = {}) {
  const res = await api("POST", keysOf(account), body);
  return createdKey(ok(res, 201), { product: body.product, prefix: expect.prefix ?? prefixOf(body.product), ...expect });
}
const prefixOf = (product) => ({ forgeai: "fai", salesforge: "sf", strictforge: "st", limitforge: "lf" })[product];

async function listKeys(account, query = "") {
  const body = ok(await api("GET", keysOf(account) + query), 200);
  assert.ok(Array.isArray(body.keys));
  body.keys.forEach(keyView);
  return body.keys;
}

async function events(account, query = "") {
  return ok(await api("GET", `/accounts/${account}/events${query}`), 200);
}

// --- the document ----------------------------------------------------------

test("GET /openapi.json needs no token and serves a valid OpenAPI 3.1 document", async () => {
  const res = await fetch(`${gw.url}${ADMIN_PREFIX}/openapi.json`);
  const text = await res.text();
  assert.equal(res.status, 200, text.slice(0, 500));
  assert.equal(mediaType(res.headers.get("content-type")), "application/json");
  const served = JSON.parse(text);
  assert.match(served.openapi, /^3\.1\./);
  await assertValidDocument(served);
  conforms("GET", "/openapi.json", {
    status: res.status, type: res.headers.get("content-type"), body: served, headers: res.headers,
  });
  assert.deepEqual(Object.keys(served.paths).sort(), Object.keys(doc.paths).sort(), "serves the document the tests use");
  // This deployment's products, and each one's permissions, as enums.
  const create = served.components.schemas.CreateKey;
  assert.deepEqual(create.properties.product.enum, ["salesforge", "forgeai", "strictforge", "limitforge", "boundedforge"]);
  assert.deepEqual(served.components.parameters.ProductFilter.schema.enum, create.properties.product.enum);
  const forgeai = create.allOf.find((rule) => rule.if.properties.product.const === "forgeai");
  assert.deepEqual(sorted(forgeai.then.properties.scopes.items.enum), ["execute_flows", "read", "write"]);
  assert.ok(create.properties.scopes.items.enum.includes("send_campaigns"));
});

test("every response carries a request id; a problem repeats it as instance; a 201 says where the key is", async () => {
  const account = "acct_trace";
  const made = await api("POST", keysOf(account), { product: "forgeai", name: "traced" });
  assert.equal(made.status, 201, show(made));
  const location = made.headers.get("location");
  assert.equal(location, `${ADMIN_PREFIX}${keyOf(account, made.body.id)}`);
  const read = await gw.admin("GET", location.slice(ADMIN_PREFIX.length));
  assert.equal(read.status, 200);
  assert.equal(read.body.id, made.body.id);
  const rotated = await api("POST", `${keyOf(account, made.body.id)}/rotate`, { grace_seconds: 0 });
  assert.equal(rotated.headers.get("location"), `${ADMIN_PREFIX}${keyOf(account, rotated.body.id)}`);
  const ids = new Set();
  for (const res of [
    made, read, rotated,
    await api("GET", `/accounts/${account}`),
    await api("GET", keyOf(account, "key_" + "0".repeat(17))),
    await api("GET", `/accounts/${account}?x=1`),
    await gw.admin("GET", `/accounts/${account}`, undefined, { token: "wrong-token-wrong-token-wrong-token" }),
    await gw.admin("PUT", `/accounts/${account}`),
    await gw.admin("GET", "/nowhere"),
    await gw.admin("GET", "/openapi.json"),
  ]) {
    const id = res.headers.get("keygate-request-id");
    assert.match(id ?? "", /^[0-9a-f]{32}$/, show(res));
    ids.add(id);
    if (res.status >= 400) assert.equal(res.body.instance, `urn:keygate:request:${id}`, show(res));
  }
  assert.equal(ids.size, 10, "a fresh id per request");
});

// --- lifecycle ---------------------------------------------------------------

test("lifecycle: create, use, list, get, patch, rotate, revoke, events", async () => {
  const account = "acct_lifecycle";

  // Create.
  const created = await create(account, { product: "forgeai", name: "CI pipeline", scopes: ["read", "execute_flows"] });
  assert.equal(created.name, "CI pipeline");
  assert.deepEqual(sorted(created.scopes), ["execute_flows", "read"]);
  assert.equal(created.webhook_url, null);
  const secretPart = created.key.slice(created.prefix.length, -4);

  // The key is never listed.
  const listed = await listKeys(account);
  assert.deepEqual(listed.map((k) => k.id), [created.id]);
  assert.ok(!JSON.stringify(listed).includes(secretPart), "a listing never contains the key");

  // Use it through the gateway.
  const usedFrom = Math.floor(nowSeconds());
  const seen = forwarded(await edge("forgeai", created.key, "/api/v1/chat"), {
    keyId: created.id, account, product: "forgeai",
  });
  assert.equal(seen.url, "/forgeai/api/v1/chat");
  assert.equal(seen.headers.authorization, undefined, "the key does not reach the origin");

  // Its use shows in the listing within a few seconds.
  const used = await until("last_used_at in the listing", async () => {
    const k = (await listKeys(account)).find((v) => v.id === created.id);
    return k.last_used_at !== null && k;
  }, 10_000, 500);
  assert.ok(
    secondsOf(used.last_used_at) >= usedFrom - 2 && secondsOf(used.last_used_at) <= nowSeconds() + 2,
    `last_used_at ${used.last_used_at}`,
  );

  // GET one: the same view as the listing (plus its webhook's health,
  // null without a webhook), and CreatedKey minus `key`.
  const { webhook, ...one } = keyView(ok(await api("GET", keyOf(account, created.id)), 200));
  assert.equal(webhook, null);
  assert.deepEqual(one, used);
  const { key: _key, ...createdView } = created;
  assert.deepEqual({ ...one, last_used_at: null }, createdView);
  assert.ok(!JSON.stringify(one).includes(secretPart));

  // PATCH away execute_flows: refused at the edge within the cache bound.
  const predict = (key) => edge("forgeai", key, "/api/v1/prediction/x", "POST");
  forwarded(await predict(created.key)); // the record is now in the isolate cache
  const patchedAt = Date.now();
  const patched = keyView(ok(await api("PATCH", keyOf(account, created.id), { scopes: ["read"] }), 200));
  assert.deepEqual(patched.scopes, ["read"]);
  assert.equal(patched.name, "CI pipeline");
  assert.equal(patched.status, "active");
  const { response: denied } = await edgeUntil("scope removal at the edge", () => predict(created.key),
    "insufficient_scope", patchedAt);
  assert.match(refused(denied, 403, "insufficient_scope").detail, /`execute_flows`/);
  forwarded(await edge("forgeai", created.key, "/api/v1/chat"), { keyId: created.id }); // read still allowed

  // Rotate with a 4 s grace: both keys work, then only the new one.
  const rotatedAt = nowSeconds();
  const rotated = ok(await api("POST", `${keyOf(account, created.id)}/rotate`, { grace_seconds: 4 }), 201);
  createdKey(rotated, { product: "forgeai", prefix: "fai" });
  assert.notEqual(rotated.id, created.id);
  assert.notEqual(rotated.key, created.key);
  assert.deepEqual(sorted(rotated.scopes), ["read"], "the new key has the old key's scopes");
  const previous = keyView(rotated.previous);
  assert.equal(previous.id, created.id);
  assert.equal(previous.status, "active", "a rotated key stays active during its grace");
  assert.equal(previous.replaced_by, rotated.id);
  assert.match(previous.revoked_at ?? "", RFC3339);
  const graceEnd = secondsOf(previous.revoked_at);
  assert.ok(Math.abs(graceEnd - (rotatedAt + 4)) <= 2, `grace ends at ${previous.revoked_at}`);

  assert.ok(nowSeconds() < graceEnd - 0.5, "rotating took too long for this test");
  forwarded(await edge("forgeai", created.key, "/api/v1/chat"), { keyId: created.id });
  forwarded(await edge("forgeai", rotated.key, "/api/v1/chat"), { keyId: rotated.id });
  assert.ok(nowSeconds() < graceEnd, "both keys were checked within the grace period");

  await sleep((graceEnd + 1) * 1000 - Date.now());
  const { response: old } = await edgeUntil("the old key after its grace", () => edge("forgeai", created.key, "/api/v1/chat"),
    "revoked_key", graceEnd * 1000);
  refused(old, 401, "revoked_key");
  forwarded(await edge("forgeai", rotated.key, "/api/v1/chat"), { keyId: rotated.id });
  const oldView = keyView(ok(await api("GET", keyOf(account, created.id)), 200));
  assert.equal(oldView.status, "revoked");
  assert.equal(oldView.revoked_at, previous.revoked_at);
  assert.equal(oldView.replaced_by, rotated.id);

  // Revoke the new key; revoking again changes nothing.
  const revokedAt = Date.now();
  const revoked = keyView(ok(await api("DELETE", keyOf(account, rotated.id)), 200));
  assert.equal(revoked.id, rotated.id);
  assert.equal(revoked.status, "revoked");
  assert.ok(Math.abs(secondsOf(revoked.revoked_at) - revokedAt / 1000) <= 2, `revoked_at ${revoked.revoked_at}`);
  const again = keyView(ok(await api("DELETE", keyOf(account, rotated.id)), 200));
  assert.deepEqual({ ...again, last_used_at: null }, { ...revoked, last_used_at: null }, "revoking again: unchanged");
  const { response: gone } = await edgeUntil("revocation at the edge", () => edge("forgeai", rotated.key, "/api/v1/chat"),
    "revoked_key", revokedAt);
  refused(gone, 401, "revoked_key");

  // A revoked or rotated key can be neither changed nor rotated.
  failed(await api("PATCH", keyOf(account, rotated.id), { name: "too late" }), 409, "key_not_active");
  failed(await api("POST", `${keyOf(account, rotated.id)}/rotate`, { grace_seconds: 0 }), 409, "key_not_active");
  failed(await api("POST", `${keyOf(account, created.id)}/rotate`, { grace_seconds: 0 }), 409, "key_not_active");

  // Events, newest first.
  const all = await events(account);
  assert.equal(all.next_cursor, null);
  const types = new Set(["key.created", "key.updated", "key.rotated", "key.revoked"]);
  for (const e of all.events) {
    assert.equal(typeof e.id, "string");
    assert.ok(types.has(e.type), `unexpected event ${e.type}`);
    assert.match(e.at, RFC3339);
    assert.equal(e.product, "forgeai");
  }
  for (let i = 1; i < all.events.length; i++) {
    assert.ok(secondsOf(all.events[i - 1].at) >= secondsOf(all.events[i].at), "newest first");
  }
  assert.equal(new Set(all.events.map((e) => e.id)).size, all.events.length, "event ids are unique");
  // Rotation may also record the new key's creation; every other event is one of these, in this order.
  const story = all.events.filter((e) => !(e.type === "key.created" && e.key_id === rotated.id));
  assert.ok(all.events.length - story.length <= 1);
  assert.deepEqual(story.map((e) => [e.type, e.key_id]), [
    ["key.revoked", rotated.id],
    ["key.rotated", created.id],
    ["key.updated", created.id],
    ["key.created", created.id],
  ]);
  const [revokedEvt, rotatedEvt, updatedEvt, createdEvt] = story;
  assert.deepEqual(revokedEvt.data, {});
  assert.deepEqual(rotatedEvt.data, {
    new_key_id: rotated.id, grace_seconds: 4, old_key_revoked_at: previous.revoked_at,
  });
  assert.deepEqual(sorted(updatedEvt.data.scopes.from), ["execute_flows", "read"]);
  assert.deepEqual(updatedEvt.data.scopes.to, ["read"]);
  assert.ok(!("name" in updatedEvt.data), "the name did not change");
  assert.equal(createdEvt.data.name, "CI pipeline");
  assert.deepEqual(sorted(createdEvt.data.scopes), ["execute_flows", "read"]);
  assert.equal(createdEvt.data.expires_at, created.expires_at);

  // Pages of two, following next_cursor, give the same events in the same order.
  const paged = [];
  let cursor = null;
  let pages = 0;
  do {
    const page = await events(account, `?limit=2${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`);
    assert.ok(page.events.length <= 2, `page of ${page.events.length}`);
    if (pages === 0) {
      assert.equal(page.events.length, 2);
      assert.equal(typeof page.next_cursor, "string", "more pages follow");
    }
    paged.push(...page.events);
    cursor = page.next_cursor;
    assert.ok(++pages <= 10, "pagination ends");
  } while (cursor !== null);
  assert.ok(pages >= 2);
  assert.deepEqual(paged, all.events);
});

// --- limits, expiry, suspension, strict --------------------------------------

test("revoking a rotated key ends the grace of the key it replaced, at the edge too", async () => {
  const account = "acct_chain";
  const k1 = ok(await api("POST", keysOf(account), { product: "forgeai", name: "chain" }), 201);
  const k2 = ok(await api("POST", `${keyOf(account, k1.id)}/rotate`, { grace_seconds: 86400 }), 201);
  forwarded(await edge("forgeai", k1.key, "/api/v1/chat"), { keyId: k1.id });
  const revokedAt = Date.now();
  keyView(ok(await api("DELETE", keyOf(account, k2.id)), 200));
  const old = keyView(ok(await api("GET", keyOf(account, k1.id)), 200));
  assert.equal(old.status, "revoked", "the old key's grace ended with its replacement");
  assert.ok(Math.abs(secondsOf(old.revoked_at) - revokedAt / 1000) <= 2, old.revoked_at);
  const { response } = await edgeUntil("the old key at the edge", () => edge("forgeai", k1.key, "/api/v1/chat"),
    "revoked_key", revokedAt);
  refused(response, 401, "revoked_key");
  const page = await events(account);
  const cascade = page.events.find((e) => e.type === "key.revoked" && e.key_id === k1.id);
  assert.deepEqual(cascade?.data, { replacement_revoked: k2.id });
});

test("ETag and If-Match: a change goes ahead only on the tag it was read with", async () => {
  const account = "acct_etag";
  const k = ok(await api("POST", keysOf(account), { product: "forgeai", name: "tagged" }), 201);
  const read = await api("GET", keyOf(account, k.id));
  const tag = read.headers.get("etag");
  assert.match(tag ?? "", /^"[0-9a-f]{32}"$/);
  forwarded(await edge("forgeai", k.key, "/api/v1/chat"), { keyId: k.id });
  await until("use reported", async () => ok(await api("GET", keyOf(account, k.id)), 200).last_used_at, 5000);
  assert.equal((await api("GET", keyOf(account, k.id))).headers.get("etag"), tag, "use does not move the tag");
  const renamed = await api("PATCH", keyOf(account, k.id), { name: "first" }, { headers: { "If-Match": tag } });
  assert.equal(ok(renamed, 200).name, "first");
  const next = renamed.headers.get("etag");
  assert.notEqual(next, tag);
  failed(await api("PATCH", keyOf(account, k.id), { name: "lost update" }, { headers: { "If-Match": tag } }),
    412, "precondition_failed");
  failed(await api("DELETE", keyOf(account, k.id), undefined, { headers: { "If-Match": `W/${next}` } }),
    412, "precondition_failed");
  failed(await api("POST", `${keyOf(account, k.id)}/rotate`, { grace_seconds: 0 }, { headers: { "If-Match": tag } }),
    412, "precondition_failed");
  failed(await api("PATCH", keyOf(account, k.id), { name: "x" }, { headers: { "If-Match": "nonsense" } }),
    400, "invalid_field", "If-Match");
  assert.equal(ok(await api("GET", keyOf(account, k.id)), 200).name, "first", "refused changes changed nothing");
  const acct = await api("GET", `/accounts/${account}`);
  failed(await api("PATCH", `/accounts/${account}`, { status: "suspended" }, { headers: { "If-Match": next } }),
    412, "precondition_failed");
  assert.equal(ok(await api("PATCH", `/accounts/${account}`, { status: "suspended" },
    { headers: { "If-Match": acct.headers.get("etag") } }), 200).status, "suspended");
  assert.equal(keyView(ok(await api("DELETE", keyOf(account, k.id), undefined, { headers: { "If-Match": "*" } }), 200)).status,
    "revoked");
});

test("PATCH moves a key's expiry (the edge follows) or removes it", async () => {
  const account = "acct_expiry_patch";
  const k = ok(await api("POST", keysOf(account), { product: "forgeai", name: "moving", expires_in_days: 30 }), 201);
  const removed = keyView(ok(await api("PATCH", keyOf(account, k.id), { expires_at: null }), 200));
  assert.equal(removed.expires_at, null);
  const later = keyView(ok(await api("PATCH", keyOf(account, k.id), { expires_in_days: 2 }), 200));
  assert.ok(Math.abs(secondsOf(later.expires_at) - (nowSeconds() + 2 * 86400)) <= 3, later.expires_at);
  failed(await api("PATCH", keyOf(account, k.id), { expires_in_days: 400 }), 400, "invalid_field", "expires_in_days");
  failed(await api("PATCH", keyOf(account, k.id), { expires_in_days: 1, expires_at: null }), 400, "invalid_field", "expires_at");
  forwarded(await edge("forgeai", k.key, "/api/v1/chat"), { keyId: k.id });
  const soon = Math.ceil(nowSeconds()) + 3;
  const moved = keyView(ok(await api("PATCH", keyOf(account, k.id), { expires_at: rfc3339At(soon) }), 200));
  assert.equal(moved.expires_at, rfc3339At(soon));
  const { response } = await edgeUntil("the moved expiry at the edge", () => edge("forgeai", k.key, "/api/v1/chat"),
    "expired_key", Date.now(), EDGE_BOUND_MS + 4000);
  refused(response, 401, "expired_key");
  failed(await api("PATCH", keyOf(account, k.id), { expires_in_days: 30 }), 409, "key_not_active");
  const events = (await api("GET", `/accounts/${account}/events`)).body.events;
  assert.ok(events.some((e) => e.type === "key.updated" && e.data.expires_at?.to === null));
});

test("POST /keys/lookup finds a key by its value, never echoing it", async () => {
  const account = "acct_lookup";
  const k = ok(await api("POST", keysOf(account), { product: "forgeai", name: "leaked" }), 201);
  const found = ok(await api("POST", "/keys/lookup", { key: k.key }), 200);
  assert.equal(found.account, account);
  assert.equal(keyView(found.key).id, k.id);
  assert.ok(!JSON.stringify(found).includes(k.key));
  // A forged key (right shape and checksum, wrong tag) and a malformed one.
  const forged = forgedKey("fai", "live");
  failed(await api("POST", "/keys/lookup", { key: forged }), 404, "key_not_found");
  const bad = failed(await api("POST", "/keys/lookup", { key: k.key.slice(0, -1) + (k.key.endsWith("x") ? "y" : "x") }), 400, "invalid_field", "key");
  assert.ok(!JSON.stringify(bad).includes(k.key.slice(0, 20)), "the value is not echoed");
  failed(await api("POST", "/keys/lookup", { key: k.key }, { token: null }), 401, "unauthorized");
  failed(await api("POST", "/keys/lookup", JSON.stringify({ key: k.key }), { headers: { "Content-Type": "text/plain" } }),
    415, "unsupported_media_type");
  // Revoked keys are still found, as revoked.
  await api("DELETE", keyOf(account, k.id));
  assert.equal(ok(await api("POST", "/keys/lookup", { key: k.key }), 200).key.status, "revoked");
});

test("owner_id: a key's holder, kept through rotation, and a list filter", async () => {
  const account = "acct_owner";
  const a = ok(await api("POST", keysOf(account), { product: "forgeai", name: "a", owner_id: "user@example.com" }), 201);
  const b = ok(await api("POST", keysOf(account), { product: "forgeai", name: "b", owner_id: "user_2" }), 201);
  ok(await api("POST", keysOf(account), { product: "forgeai", name: "c" }), 201);
  assert.equal(a.owner_id, "user@example.com");
  const mine = ok(await api("GET", `${keysOf(account)}?owner_id=${encodeURIComponent("user@example.com")}`), 200);
  assert.deepEqual(mine.keys.map((k) => k.id), [a.id]);
  assert.deepEqual(ok(await api("GET", `${keysOf(account)}?owner_id=user_2`), 200).keys.map((k) => k.id), [b.id]);
  assert.equal(ok(await api("GET", keysOf(account)), 200).keys.length, 3);
  const rotated = ok(await api("POST", `${keyOf(account, a.id)}/rotate`, { grace_seconds: 0 }), 201);
  assert.equal(rotated.owner_id, "user@example.com");
  failed(await api("POST", keysOf(account), { product: "forgeai", name: "d", owner_id: "has space" }), 400,
    "invalid_field", "owner_id");
  failed(await api("GET", `${keysOf(account)}?owner_id=`), 400, "invalid_field", "owner_id");
});

test("enabled: a key turned off is refused with disabled_key, and works again when turned on", async () => {
  const account = "acct_toggle";
  const k = ok(await api("POST", keysOf(account), { product: "forgeai", name: "toggled" }), 201);
  assert.equal(k.enabled, true);
  forwarded(await edge("forgeai", k.key, "/api/v1/chat"), { keyId: k.id });
  const offAt = Date.now();
  const off = keyView(ok(await api("PATCH", keyOf(account, k.id), { enabled: false }), 200));
  assert.deepEqual([off.enabled, off.status], [false, "active"]);
  const { response } = await edgeUntil("the key turned off at the edge", () => edge("forgeai", k.key, "/api/v1/chat"),
    "disabled_key", offAt);
  refused(response, 401, "disabled_key");
  const onAt = Date.now();
  assert.equal(keyView(ok(await api("PATCH", keyOf(account, k.id), { enabled: true }), 200)).enabled, true);
  await edgeUntil("the key turned on again", () => edge("forgeai", k.key, "/api/v1/chat"), "forwarded", onAt);
  failed(await api("PATCH", keyOf(account, k.id), { enabled: "no" }), 400, "invalid_field", "enabled");
});

test("meta: a JSON object of at most 4 KiB on each key, shown in views, kept out of events", async () => {
  const account = "acct_meta";
  const k = ok(await api("POST", keysOf(account), { product: "forgeai", name: "m", meta: { plan: "pro", seats: 5 } }), 201);
  assert.deepEqual(k.meta, { plan: "pro", seats: 5 });
  assert.deepEqual(keyView(ok(await api("GET", keyOf(account, k.id)), 200)).meta, { plan: "pro", seats: 5 });
  assert.deepEqual(keyView(ok(await api("PATCH", keyOf(account, k.id), { meta: { plan: "team" } }), 200)).meta, { plan: "team" });
  failed(await api("PATCH", keyOf(account, k.id), { meta: { big: "x".repeat(5000) } }), 400, "invalid_field", "meta");
  failed(await api("PATCH", keyOf(account, k.id), { meta: [1] }), 400, "invalid_field", "meta");
  assert.equal(keyView(ok(await api("PATCH", keyOf(account, k.id), { meta: {} }), 200)).meta, null);
  const text = JSON.stringify(await events(account));
  assert.ok(!text.includes("seats") && !text.includes("team"), "events never hold meta");
});

/** How many account objects hold the account tables (read with Python's sqlite3, read-only). */
function accountsWithTables() {
  const root = join(gw.dir, "state", "v3", "do");
  const files = readdirSync(root, { recursive: true }).map(String)
    .filter((f) => f.endsWith(".sqlite") && !f.endsWith("metadata.sqlite")).map((f) => join(root, f));
  const script = "import sqlite3, sys\nn = 0\nfor f in sys.argv[1:]:\n" +
    "    db = sqlite3.connect('file:' + f + '?mode=ro', uri=True)\n" +
    "    n += bool(db.execute(\"SELECT count(*) FROM sqlite_master WHERE type='table' AND name='account'\").fetchone()[0])\n" +
    "    db.close()\nprint(n)";
  return Number(execFileSync("python3", ["-c", script, ...files], { encoding: "utf8" }).trim());
}

test("reads of unknown accounts answer 404 and store nothing", async () => {
  const before = accountsWithTables();
  for (let i = 0; i < 7; i++) {
    const account = `acct_ghost_${i}`;
    failed(await api("GET", `/accounts/${account}`), 404, "account_not_found");
    failed(await api("GET", keysOf(account)), 404, "account_not_found");
    failed(await api("GET", `/accounts/${account}/events`), 404, "account_not_found");
    failed(await api("DELETE", keyOf(account, "key_" + "0".repeat(17))), 404, "account_not_found");
    failed(await api("PATCH", `/accounts/${account}`, { status: "suspended" }), 404, "account_not_found");
  }
  assert.equal(accountsWithTables(), before, "no object made tables for an unknown account");
  await create("acct_ghost_0", { product: "forgeai", name: "now real" });
  assert.equal(accountsWithTables(), before + 1, "a create makes them (the check can see tables)");
  assert.equal(ok(await api("GET", "/accounts/acct_ghost_0"), 200).id, "acct_ghost_0");
});

test("key limit: 30 concurrent creates give exactly 10 keys", async () => {
  const account = "acct_limit";
  const results = await Promise.all(
    Array.from({ length: 30 }, (_, i) => api("POST", keysOf(account), { product: "forgeai", name: `burst ${i}` })),
  );
  const tally = results.map((r) => r.status).join(",");
  const made = results.filter((r) => r.status === 201);
  const refusedCreates = results.filter((r) => r.status !== 201);
  assert.equal(made.length, 10, `statuses: ${tally}`);
  assert.equal(refusedCreates.length, 20, `statuses: ${tally}`);
  for (const r of made) createdKey(r.body, { product: "forgeai", prefix: "fai" });
  for (const r of refusedCreates) {
    assert.match(failed(r, 409, "key_limit_reached").detail, /\b10\b/);
  }
  const madeIds = sorted(made.map((r) => r.body.id));
  assert.equal(new Set(madeIds).size, 10);

  const active = await listKeys(account, "?product=forgeai&status=active");
  assert.deepEqual(sorted(active.map((k) => k.id)), madeIds);
  assert.equal((await listKeys(account)).length, 10, "a refused create stores nothing");

  const log = (await events(account, "?limit=100")).events;
  const limitEvents = log.filter((e) => e.type === "key.limit_reached");
  assert.ok(limitEvents.length >= 1, "a key.limit_reached event");
  for (const e of limitEvents) {
    assert.equal(e.key_id, null);
    assert.equal(e.product, "forgeai");
    assert.deepEqual(e.data, { limit: 10 });
  }
  assert.equal(log.filter((e) => e.type === "key.created").length, 10);

  // The limit is per product, and counts active keys only.
  await create(account, { product: "salesforge", name: "other product" });
  failed(await api("POST", keysOf(account), { product: "forgeai", name: "eleventh" }), 409, "key_limit_reached");
  ok(await api("DELETE", keyOf(account, madeIds[0])), 200);
  await create(account, { product: "forgeai", name: "after a revocation" });
  failed(await api("POST", keysOf(account), { product: "forgeai", name: "eleventh again" }), 409, "key_limit_reached");
});

test("key limit: six rotations with a 7-day grace leave at most key_limit working keys", async () => {
  // Limitforge has key_limit = 2. The issue: six rotations left 8 working keys.
  const account = "acct_limit_rotate";
  const first = await create(account, { product: "limitforge", name: "chain" });
  const issued = [first.key];
  let current = first;
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    const res = await api("POST", `${keyOf(account, current.id)}/rotate`, { grace_seconds: 604800 });
    statuses.push(res.status);
    if (res.status === 201) {
      current = res.body;
      issued.push(current.key);
    } else {
      const p = failed(res, 409, "key_limit_reached", NO_FIELD);
      assert.match(p.detail, /\b2\b/, "the detail names the limit");
    }
  }
  assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409]);
  const verdicts = [];
  for (const key of issued) verdicts.push(verdict(await edge("limitforge", key)));
  assert.equal(verdicts.filter((v) => v === "forwarded").length, 2, verdicts.join(", "));
  const active = await listKeys(account, "?status=active");
  assert.equal(active.length, 2);
  // A create is refused too while the old key is in its grace.
  failed(await api("POST", keysOf(account), { product: "limitforge", name: "third" }), 409, "key_limit_reached");
  // Grace 0 frees the old key's slot at once, so that rotation is allowed.
  const again = ok(await api("POST", `${keyOf(account, current.id)}/rotate`, { grace_seconds: 0 }), 201);
  assert.equal(again.previous.status, "revoked");
  const limitEvents = (await events(account)).events.filter((e) => e.type === "key.limit_reached");
  assert.ok(limitEvents.length >= 5, "each refused rotation is recorded");
});

test("strict mode: a key revoked or suspended in its KV record is refused without asking the object", async () => {
  const account = "acct_strict_settled";
  const objectCalls = (keyId) =>
    gw.logEntries().filter((e) => e.key_id === keyId).map((e) => e.object_calls);
  const live = await create(account, { product: "strictforge", name: "live" });
  forwarded(await edge("strictforge", live.key), { keyId: live.id });
  // The control: an admitted strict request asks the object once.
  await until("the log line", () => objectCalls(live.id).length === 1, 5000);
  assert.deepEqual(objectCalls(live.id), [1]);

  const revoked = await create(account, { product: "strictforge", name: "revoked" });
  ok(await api("DELETE", keyOf(account, revoked.id)), 200);
  refused(await edge("strictforge", revoked.key), 401, "revoked_key");
  await until("the log line", () => objectCalls(revoked.id).length === 1, 5000);
  assert.deepEqual(objectCalls(revoked.id), [0], "no round trip for a revoked record");

  const idle = await create(account, { product: "strictforge", name: "idle" });
  ok(await api("PATCH", `/accounts/${account}`, { status: "suspended" }), 200);
  refused(await edge("strictforge", idle.key), 403, "account_suspended");
  await until("the log line", () => objectCalls(idle.id).length === 1, 5000);
  assert.deepEqual(objectCalls(idle.id), [0], "no round trip for a suspended record");
  ok(await api("PATCH", `/accounts/${account}`, { status: "active" }), 200);
});

test("expiry: a key with expires_at works until then, then 401 expired_key and status expired", async () => {
  const account = "acct_expiry";
  const expiresAt = Math.ceil(nowSeconds()) + 3;
  const k = await create(account, { product: "salesforge", name: "short-lived", expires_at: rfc3339At(expiresAt) });
  assert.equal(k.expires_at, rfc3339At(expiresAt));
  assert.ok(nowSeconds() < expiresAt - 0.3, "creating the key took too long for this test");
  forwarded(await edge("salesforge", k.key, "/v1/leads"), { keyId: k.id, account, product: "salesforge" });
  assert.ok(nowSeconds() < expiresAt, "the key was used before it expired");

  await sleep((expiresAt + 1) * 1000 - Date.now());
  const p = refused(await edge("salesforge", k.key, "/v1/leads"), 401, "expired_key");
  assert.ok(p.detail.includes(rfc3339At(expiresAt)), p.detail);

  const [view] = (await listKeys(account)).filter((v) => v.id === k.id);
  assert.equal(view.status, "expired");
  assert.equal(view.revoked_at, null);
  assert.deepEqual((await listKeys(account, "?status=expired")).map((v) => v.id), [k.id]);
  assert.deepEqual(await listKeys(account, "?status=active"), []);
});

test("suspension: the account's keys are refused at the edge and no keys are made; reactivation undoes it", async () => {
  const account = "acct_suspend";
  const k = await create(account, { product: "salesforge", name: "before suspension" });
  forwarded(await edge("salesforge", k.key), { keyId: k.id, account });

  const acct = ok(await api("GET", `/accounts/${account}`), 200);
  assert.equal(acct.id, account);
  assert.equal(acct.status, "active");
  assert.match(acct.created_at, RFC3339);
  assert.match(acct.updated_at, RFC3339);

  failed(await api("PATCH", `/accounts/${account}`, { status: "frozen" }), 400, "invalid_field", "status");

  const suspendedAt = Date.now();
  const suspended = ok(await api("PATCH", `/accounts/${account}`, { status: "suspended" }), 200);
  assert.equal(suspended.id, account);
  assert.equal(suspended.status, "suspended");
  const { response } = await edgeUntil("suspension at the edge", () => edge("salesforge", k.key),
    "account_suspended", suspendedAt);
  refused(response, 403, "account_suspended");

  failed(await api("POST", keysOf(account), { product: "salesforge", name: "during suspension" }), 403,
    "account_suspended");
  failed(await api("POST", `${keyOf(account, k.id)}/rotate`, { grace_seconds: 0 }), 403, "account_suspended");
  assert.equal(ok(await api("GET", `/accounts/${account}`), 200).status, "suspended");
  const keys = await listKeys(account);
  assert.deepEqual(keys.map((v) => [v.id, v.status]), [[k.id, "active"]], "suspension revokes nothing");

  const reactivatedAt = Date.now();
  const reactivated = ok(await api("PATCH", `/accounts/${account}`, { status: "active" }), 200);
  assert.equal(reactivated.status, "active");
  await edgeUntil("reactivation at the edge", () => edge("salesforge", k.key), "forwarded", reactivatedAt);
  const again = await create(account, { product: "salesforge", name: "after reactivation" });
  forwarded(await edge("salesforge", again.key), { keyId: again.id, account });

  const log = (await events(account)).events.filter((e) => e.type.startsWith("account."));
  assert.deepEqual(log.map((e) => e.type), ["account.reactivated", "account.suspended"]);
  for (const e of log) {
    assert.equal(e.key_id, null);
    assert.equal(e.product, null);
    assert.deepEqual(e.data, {});
  }
});

test("strict consistency: a change applies on the very next request", async () => {
  const account = "acct_strict";
  const k = await create(account, { product: "strictforge", name: "strict" });
  assert.deepEqual(sorted(k.scopes), ["read", "write"], "default scopes: all of the product's permissions");
  forwarded(await edge("strictforge", k.key), { keyId: k.id, account, product: "strictforge" });
  forwarded(await edge("strictforge", k.key, "/v1/items", "POST"), { keyId: k.id });

  ok(await api("PATCH", keyOf(account, k.id), { scopes: ["read"] }), 200);
  refused(await edge("strictforge", k.key, "/v1/items", "POST"), 403, "insufficient_scope");
  forwarded(await edge("strictforge", k.key), { keyId: k.id });

  // Suspension and reactivation apply on the very next request, both ways.
  ok(await api("PATCH", `/accounts/${account}`, { status: "suspended" }), 200);
  refused(await edge("strictforge", k.key), 403, "account_suspended");
  ok(await api("PATCH", `/accounts/${account}`, { status: "active" }), 200);
  forwarded(await edge("strictforge", k.key), { keyId: k.id });

  assert.equal(keyView(ok(await api("DELETE", keyOf(account, k.id)), 200)).status, "revoked");
  refused(await edge("strictforge", k.key), 401, "revoked_key");
});

// --- admin authentication ------------------------------------------------------

test("admin auth: a missing or wrong token gets 401 unauthorized and changes nothing", async () => {
  const account = "acct_auth";
  const sameLength = ADMIN_TOKEN.slice(0, -1) + (ADMIN_TOKEN.endsWith("a") ? "b" : "a");
  const cases = [
    ["no token", { token: null }],
    ["a wrong token", { token: "wrong" }],
    ["the right length, one character off", { token: sameLength }],
    ["the right length, random", { token: randomBytes(ADMIN_TOKEN.length / 2).toString("hex") }],
    ["the token with a suffix", { token: ADMIN_TOKEN + "x" }],
    ["the token under another scheme", { token: null, headers: { Authorization: `Basic ${ADMIN_TOKEN}` } }],
  ];
  assert.notEqual(cases[3][1].token, ADMIN_TOKEN);
  for (const [label, options] of cases) {
    for (const [method, path, body] of [
      ["GET", keysOf(account)],
      ["POST", keysOf(account), { product: "forgeai", name: "intruder" }],
      ["PATCH", `/accounts/${account}`, { status: "suspended" }],
    ]) {
      const res = await api(method, path, body, options);
      assert.equal(res.status, 401, `${label}, ${method} ${path}: ${show(res)}`);
      failed(res, 401, "unauthorized");
      assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="keygate-admin"', `${label}, ${method}`);
    }
  }
  failed(await api("GET", keysOf(account)), 404, "account_not_found", undefined);
});

// --- bad input -----------------------------------------------------------------

describe("bad input", () => {
  const fai = (more = {}) => ({ product: "forgeai", name: "bad input", ...more });
  const post = (account, body) => api("POST", keysOf(account), body);
  const nothingStored = async (account) =>
    failed(await api("GET", `/accounts/${account}`), 404, "account_not_found");

  test("invalid JSON: 400 invalid_json", async () => {
    const account = "acct_in_json";
    failed(await post(account, "{not json"), 400, "invalid_json", NO_FIELD);
    failed(await post(account, "[1, 2]"), 400, "invalid_json", NO_FIELD);
    failed(await post(account, ""), 400, "invalid_json", NO_FIELD);
    await nothingStored(account);
  });

  test("an unknown member: 400 unknown_field naming it", async () => {
    const account = "acct_in_unknown";
    failed(await post(account, fai({ colour: "red" })), 400, "unknown_field", "colour");
    await nothingStored(account);
    const k = await create(account, fai());
    failed(await api("PATCH", keyOf(account, k.id), { name: "x", colour: "red" }), 400, "unknown_field", "colour");
    failed(await api("POST", `${keyOf(account, k.id)}/rotate`, { grace_seconds: 0, now: true }), 400,
      "unknown_field", "now");
  });

  test("a member of the wrong type: 400 invalid_field naming it", async () => {
    const account = "acct_in_type";
    failed(await post(account, fai({ name: 5 })), 400, "invalid_field", "name");
    failed(await post(account, fai({ scopes: "read" })), 400, "invalid_field", "scopes");
    failed(await post(account, { product: "forgeai" }), 400, "invalid_field", "name");
    failed(await post(account, { name: "no product" }), 400, "invalid_field", "product");
    failed(await post(account, fai({ environment: "staging" })), 400, "invalid_field", "environment");
    await nothingStored(account);
    const testKey = await create(account, fai({ environment: "test" }), { environment: "test" });
    assert.match(testKey.key, /^fai_test_/);
  });

  test("name: 1-64 characters without control or invisible format characters", async () => {
    const account = "acct_in_name";
    failed(await post(account, fai({ name: "n".repeat(65) })), 400, "invalid_field", "name");
    failed(await post(account, fai({ name: "" })), 400, "invalid_field", "name");
    // Never trimmed: white space first or last is refused, as the schema's pattern says.
    for (const name of ["   ", " CI", "CI ", "\u3000x"]) {
      failed(await post(account, fai({ name })), 400, "invalid_field", "name");
    }
    failed(await post(account, fai({ name: "bell\u0007" })), 400, "invalid_field", "name");
    // Bidi controls and invisible format characters (Unicode Cf).
    for (const name of ["\u202Egpj.exe", "ci\u200Bdeploy", "\u2066x\u2069", "tag\u{E0041}"]) {
      const p = failed(await post(account, fai({ name })), 400, "invalid_field", "name");
      assert.match(p.detail, /Cf/);
    }
    await nothingStored(account);
    const k = await create(account, fai({ name: "n".repeat(64) }));
    assert.equal(k.name, "n".repeat(64));
    failed(await api("PATCH", keyOf(account, k.id), { name: "m".repeat(65) }), 400, "invalid_field", "name");
    failed(await api("PATCH", keyOf(account, k.id), {}), 400, "invalid_field");
    // The served schema's pattern (read as Ajv reads it) and the server agree.
    const pattern = new RegExp(doc.components.schemas.CreateKey.properties.name.pattern, "u");
    for (const name of ["a b", "Déploiement 東京 ✓", "\u{1F600}", " ", "x ", "a\u00ADb", "x\u{110BD}", "x\n", "\u202Fx"]) {
      const res = await post("acct_in_name_agree", fai({ name }));
      assert.equal(res.status === 201, pattern.test(name), `${JSON.stringify(name)}: ${show(res)}`);
    }
  });

  test("expires_in_days: 1-365", async () => {
    const account = "acct_in_days";
    for (const days of [0, 366, -1, 1.5]) {
      failed(await post(account, fai({ expires_in_days: days })), 400, "invalid_field", "expires_in_days");
    }
    await nothingStored(account);
    const k = await create(account, fai({ expires_in_days: 365 }));
    const expected = nowSeconds() + 365 * 86400;
    assert.ok(Math.abs(secondsOf(k.expires_at) - expected) < 120, `expires_at ${k.expires_at}`);
  });

  test("expires_at: in the future, at most 365 days ahead, and not with expires_in_days", async () => {
    const account = "acct_in_at";
    const soon = rfc3339At(Math.floor(nowSeconds()) + 3600);
    const p = failed(await post(account, fai({ expires_in_days: 30, expires_at: soon })), 400, "invalid_field");
    if ("field" in p) assert.ok(["expires_in_days", "expires_at"].includes(p.field), p.field);
    const past = rfc3339At(Math.floor(nowSeconds()) - 60);
    failed(await post(account, fai({ expires_at: past })), 400, "invalid_field", "expires_at");
    const tooFar = rfc3339At(Math.floor(nowSeconds()) + 366 * 86400);
    failed(await post(account, fai({ expires_at: tooFar })), 400, "invalid_field", "expires_at");
    failed(await post(account, fai({ expires_at: "tomorrow" })), 400, "invalid_field", "expires_at");
    await nothingStored(account);
    assert.equal((await create(account, fai({ expires_at: soon }))).expires_at, soon);
  });

  test("grace_seconds: 0-604800", async () => {
    const account = "acct_in_grace";
    const k = await create(account, fai());
    const rotate = (body) => api("POST", `${keyOf(account, k.id)}/rotate`, body);
    failed(await rotate({ grace_seconds: 604801 }), 400, "invalid_field", "grace_seconds");
    failed(await rotate({ grace_seconds: -1 }), 400, "invalid_field", "grace_seconds");
    failed(await rotate({ grace_seconds: "60" }), 400, "invalid_field", "grace_seconds");
    failed(await rotate({}), 400, "invalid_field", "grace_seconds");
    const still = keyView(ok(await api("GET", keyOf(account, k.id)), 200));
    assert.equal(still.status, "active");
    assert.equal(still.replaced_by, null);
    assert.equal(still.revoked_at, null);
    assert.deepEqual((await listKeys(account)).map((v) => v.id), [k.id], "a refused rotation makes no key");
    const rotated = ok(await rotate({ grace_seconds: 604800 }), 201);
    assert.equal(rotated.previous.replaced_by, rotated.id);
    assert.ok(Math.abs(secondsOf(rotated.previous.revoked_at) - (nowSeconds() + 604800)) < 60);
  });

  test("webhook_url: https, or http on localhost in dev; the secret is shown once", async () => {
    const account = "acct_in_webhook";
    for (const url of ["http://example.com", "http://example.com/localhost", "http://localhost.example.com/hook",
      "ftp://localhost/hook", "not a url",
      // Private, link-local and mapped addresses, in any notation (dev allows only this machine).
      "https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "https://[::ffff:10.0.0.1]/hook",
      "https://192.168.1.1/hook", "https://0xa9fea9fe/hook", "https://[fe80::1]/hook"]) {
      failed(await post(account, fai({ webhook_url: url })), 400, "invalid_field", "webhook_url");
    }
    await nothingStored(account);

    const local = await create(account, fai({ webhook_url: "http://localhost:9/hook" }), { webhook: true });
    assert.equal(local.webhook_url, "http://localhost:9/hook");
    const loopback = await create(account, fai({ webhook_url: "http://127.0.0.1:9/hook" }), { webhook: true });
    assert.equal(loopback.webhook_url, "http://127.0.0.1:9/hook");

    const url = "https://hooks.example.test/keygate";
    const k = await create(account, fai({ webhook_url: url }), { webhook: true });
    assert.equal(k.webhook_url, url);
    assert.notEqual(k.webhook_secret, local.webhook_secret);
    const one = keyView(ok(await api("GET", keyOf(account, k.id)), 200));
    assert.equal(one.webhook_url, url);
    const listed = await listKeys(account);
    assert.equal(listed.find((v) => v.id === k.id).webhook_url, url);
    for (const secret of [k.webhook_secret, local.webhook_secret]) {
      assert.ok(!JSON.stringify(one).includes(secret.slice(6)), "GET never shows the webhook secret");
      assert.ok(!JSON.stringify(listed).includes(secret.slice(6)), "a listing never shows the webhook secret");
    }
  });

  test("an unknown product: 400 unknown_product", async () => {
    const account = "acct_in_product";
    failed(await post(account, fai({ product: "nopeforge" })), 400, "unknown_product", "product");
    await nothingStored(account);
  });

  test("an unknown account: 404 account_not_found", async () => {
    const account = "acct_in_nobody";
    failed(await api("GET", keysOf(account)), 404, "account_not_found");
    failed(await api("GET", `/accounts/${account}`), 404, "account_not_found");
    failed(await api("GET", `/accounts/${account}/events`), 404, "account_not_found");
    failed(await api("PATCH", `/accounts/${account}`, { status: "suspended" }), 404, "account_not_found");
    failed(await api("GET", keyOf(account, "key_" + "A".repeat(17))), 404, "account_not_found");
  });

  test("an unknown key id: 404 key_not_found", async () => {
    const account = "acct_in_nokey";
    await create(account, fai());
    const missing = keyOf(account, "key_" + "Zz9".repeat(5) + "Q1");
    failed(await api("GET", missing), 404, "key_not_found");
    failed(await api("PATCH", missing, { name: "x" }), 404, "key_not_found");
    failed(await api("DELETE", missing), 404, "key_not_found");
    failed(await api("POST", `${missing}/rotate`, { grace_seconds: 0 }), 404, "key_not_found");
    // A key of another account is not found in this one.
    const other = await create("acct_in_nokey_other", fai());
    failed(await api("GET", keyOf(account, other.id)), 404, "key_not_found");
    failed(await api("DELETE", keyOf(account, other.id)), 404, "key_not_found");
    assert.equal(keyView(ok(await api("GET", keyOf("acct_in_nokey_other", other.id)), 200)).status, "active");
  });

  test("malformed account and key ids: 400 invalid_id", async () => {
    const account = "acct_in_ids";
    const k = await create(account, fai());
    for (const bad of ["a".repeat(65), "bad%20id", "caf%C3%A9"]) {
      failed(await api("GET", keysOf(bad)), 400, "invalid_id", "account");
      failed(await api("POST", keysOf(bad), fai()), 400, "invalid_id", "account");
      failed(await api("GET", `/accounts/${bad}`), 400, "invalid_id", "account");
    }
    // Paths with no canonical form are refused before any id is read.
    for (const bad of ["bad%2Fid", "bad%00id", "bad%20"]) {
      failed(await api("GET", keysOf(bad)), 400, "malformed_path", NO_FIELD);
      failed(await api("GET", `/accounts/${bad}`), 400, "malformed_path", NO_FIELD);
    }
    failed(await api("GET", keysOf("a".repeat(64))), 404, "account_not_found"); // 64 is fine
    failed(await api("GET", keysOf("Org-1_x.y:z")), 404, "account_not_found"); // every allowed character
    for (const bad of ["key_short", "key_" + "A".repeat(18), "key_" + "A".repeat(16) + "-", "kex_" + "A".repeat(17),
      k.id + "%20x"]) {
      failed(await api("GET", keyOf(account, bad)), 400, "invalid_id", "id");
      failed(await api("DELETE", keyOf(account, bad)), 400, "invalid_id", "id");
    }
    failed(await api("DELETE", keyOf(account, k.id + "%20")), 400, "malformed_path", NO_FIELD);
    assert.equal(keyView(ok(await api("GET", keyOf(account, k.id)), 200)).status, "active");
  });

  test("a body over 65536 bytes: 413 body_too_large", async () => {
    const account = "acct_in_large";
    const head = JSON.stringify(fai({ name: "" })).slice(0, -3); // {"product":"forgeai","name":
    const body = `${head}"${"x".repeat(70000 - head.length - 3)}"}`;
    assert.equal(Buffer.byteLength(body), 70000);
    failed(await post(account, body), 413, "body_too_large");
    // Without Content-Length (chunked), reading stops at the limit.
    const chunks = [Buffer.from(head), Buffer.alloc(40000, 0x78), Buffer.alloc(40000, 0x78)];
    const res = await fetch(`${gw.url}${ADMIN_PREFIX}${keysOf(account)}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      }),
      duplex: "half",
    });
    const text = await res.text();
    failed({ status: res.status, type: res.headers.get("content-type"), body: JSON.parse(text) }, 413, "body_too_large");
    await nothingStored(account);
  });

  test("scopes: each a permission of the product, no duplicates, at least one", async () => {
    const account = "acct_in_scopes";
    failed(await post(account, fai({ scopes: ["launch_rockets"] })), 400, "invalid_field", "scopes[0]");
    failed(await post(account, fai({ scopes: ["read", "launch_rockets"] })), 400, "invalid_field", "scopes[1]");
    failed(await post(account, fai({ scopes: ["read", 7] })), 400, "invalid_field", "scopes[1]");
    failed(await post(account, fai({ scopes: [] })), 400, "invalid_field", "scopes");
    const dup = failed(await post(account, fai({ scopes: ["read", "read"] })), 400, "invalid_field");
    assert.match(dup.field ?? "", /^scopes/);
    // send_campaigns is a Salesforge permission, not a ForgeAI one.
    failed(await post(account, fai({ scopes: ["send_campaigns"] })), 400, "invalid_field", "scopes[0]");
    await nothingStored(account);
    const k = await create(account, fai({ scopes: ["execute_flows"] }));
    assert.deepEqual(k.scopes, ["execute_flows"]);
    failed(await api("PATCH", keyOf(account, k.id), { scopes: ["read", "nope"] }), 400, "invalid_field", "scopes[1]");
    const d = await create(account, fai());
    assert.deepEqual(sorted(d.scopes), ["execute_flows", "read", "write"], "default: all of the product's permissions");
  });

  test("bad query values: 400 invalid_field naming the parameter", async () => {
    const account = "acct_in_query";
    await create(account, fai());
    failed(await api("GET", `${keysOf(account)}?status=bogus`), 400, "invalid_field", "status");
    // Not specified whether an unknown product in the query is unknown_product or invalid_field.
    const byProduct = await api("GET", `${keysOf(account)}?product=nopeforge`);
    assert.ok(["invalid_field", "unknown_product"].includes(byProduct.body?.code), show(byProduct));
    failed(byProduct, 400, byProduct.body.code, "product");
    for (const limit of ["0", "101", "ten"]) {
      failed(await api("GET", `/accounts/${account}/events?limit=${limit}`), 400, "invalid_field", "limit");
    }
    assert.equal((await events(account, "?limit=1")).events.length, 1);
    assert.equal((await events(account, "?limit=100")).events.length, 1);
  });

  test("an unknown endpoint: 404 not_found; a known one with another method: 405 with Allow", async () => {
    // Not in the OpenAPI document (no such path or method), so checked directly.
    for (const path of ["/", "/accounts", "/accounts/acct_x/keys/key_0000000000000000a/rotate/now", "/keys"]) {
      failed(await gw.admin("GET", path), 404, "not_found", NO_FIELD);
    }
    for (const [method, path, allow] of [
      ["PUT", keysOf("acct_x"), "GET, HEAD, POST"],
      ["POST", `/accounts/acct_x`, "GET, HEAD, PATCH"],
      ["GET", "/accounts/acct_x/keys/key_0000000000000000a/rotate", "POST"],
      ["DELETE", "/openapi.json", "GET, HEAD"],
    ]) {
      const res = await gw.admin(method, path);
      failed(res, 405, "method_not_allowed", NO_FIELD);
      assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
    }
  });

  test("a percent-encoded id reaches the same account and key as the plain one", async () => {
    const k = await create("team:42", fai());
    for (const account of ["team%3A42", "team%3a42", "%74eam:42"]) {
      const view = keyView(ok(await api("GET", keyOf(account, k.id)), 200));
      assert.equal(view.id, k.id);
      assert.equal(ok(await api("GET", `/accounts/${account}`), 200).id, "team:42");
    }
    assert.equal(keyView(ok(await api("GET", keyOf("team:42", k.id.replace("_", "%5F"))), 200)).id, k.id);
    // A double-encoded ':' (%253A) is refused before routing, as on every
    // path: an origin that decodes twice would read another character.
    failed(await api("GET", "/accounts/team%253A42"), 400, "malformed_path", NO_FIELD);
  });

  test("every operation refuses an unknown query parameter with 400 unknown_parameter", async () => {
    const account = "acct_in_params";
    const k = await create(account, fai());
    const cases = [
      ["GET", `/accounts/${account}`],
      ["PATCH", `/accounts/${account}`, { status: "active" }],
      ["GET", keysOf(account)],
      ["POST", keysOf(account), fai()],
      ["GET", keyOf(account, k.id)],
      ["PATCH", keyOf(account, k.id), { name: "renamed" }],
      ["DELETE", keyOf(account, k.id)],
      ["POST", `${keyOf(account, k.id)}/rotate`, { grace_seconds: 0 }],
      ["GET", `/accounts/${account}/events`],
    ];
    for (const [method, path, body] of cases) {
      failed(await api(method, `${path}?force=true`, body), 400, "unknown_parameter", "force");
    }
    // Nothing was done: the key is still active and not renamed.
    const view = keyView(ok(await api("GET", keyOf(account, k.id)), 200));
    assert.equal(view.status, "active");
    assert.equal(view.name, k.name);
    assert.equal((await listKeys(account)).length, 1);
  });

  test("empty or repeated query values: 400 invalid_field, as the schema says", async () => {
    const account = "acct_in_empty";
    await create(account, fai());
    for (const [path, query, field] of [
      [keysOf(account), "status=", "status"],
      [keysOf(account), "product=", "product"],
      [keysOf(account), "status=active&status=revoked", "status"],
      [`/accounts/${account}/events`, "limit=", "limit"],
      [`/accounts/${account}/events`, "cursor=", "cursor"],
    ]) {
      failed(await api("GET", `${path}?${query}`), 400, "invalid_field", field);
    }
  });

  test("several invalid members are reported at once in errors", async () => {
    const account = "acct_in_many";
    const p = failed(await post(account, fai({ name: " x", scopes: ["read", "nope", "read"], expires_in_days: 400 })),
      400, "invalid_field", "name");
    assert.deepEqual(p.errors.map((e) => e.field), ["name", "scopes[1]", "scopes[2]", "expires_in_days"]);
    for (const e of p.errors) assert.ok(e.detail.startsWith(`\`${e.field}\``), e.detail);
    const one = failed(await post(account, fai({ expires_in_days: 0 })), 400, "invalid_field", "expires_in_days");
    assert.deepEqual(one.errors.map((e) => e.field), ["expires_in_days"]);
    await nothingStored(account);
  });

  test("a body not sent as application/json: 415 unsupported_media_type, nothing made", async () => {
    const account = "acct_in_media";
    const body = JSON.stringify(fai());
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
      "application/jsonx"]) {
      failed(await api("POST", keysOf(account), body, { headers: { "Content-Type": type } }), 415,
        "unsupported_media_type", NO_FIELD);
    }
    await nothingStored(account);
    const k = await create(account, fai());
    failed(await api("PATCH", keyOf(account, k.id), JSON.stringify({ name: "x" }), { headers: { "Content-Type": "text/plain" } }),
      415, "unsupported_media_type");
    failed(await api("POST", `${keyOf(account, k.id)}/rotate`, "{\"grace_seconds\":0}", { headers: { "Content-Type": "text/plain" } }),
      415, "unsupported_media_type");
    const made = ok(await api("POST", keysOf(account), body, { headers: { "Content-Type": "application/json; charset=utf-8" } }), 201);
    assert.match(made.id, KEY_ID);
  });

  test("JSON as the schema reads it: repeated members refused, null refused, 60.0 is an integer", async () => {
    const account = "acct_in_strict";
    const p = failed(await post(account, '{"product":"salesforge","name":"dup","product":"forgeai"}'), 400, "invalid_json");
    assert.match(p.detail, /`product` is given more than once/);
    failed(await post(account, fai({ expires_in_days: null })), 400, "invalid_field", "expires_in_days");
    failed(await post(account, fai({ scopes: null })), 400, "invalid_field", "scopes");
    await nothingStored(account);
    const k = await create(account, fai({ expires_in_days: 60.0 }));
    const raw = ok(await post(account, '{"product":"forgeai","name":"float","expires_in_days":6e1}'), 201);
    assert.equal(secondsOf(raw.expires_at) - secondsOf(raw.created_at), 60 * 86400);
    failed(await post(account, fai({ expires_in_days: 60.5 })), 400, "invalid_field", "expires_in_days");
    const rotated = ok(await api("POST", `${keyOf(account, k.id)}/rotate`, '{"grace_seconds":3.6e3}'), 201);
    assert.ok(rotated.previous.revoked_at);
  });

  test("HEAD is answered wherever GET is, with no body", async () => {
    const account = "acct_in_head";
    const k = await create(account, fai());
    for (const path of [`/accounts/${account}`, keysOf(account), keyOf(account, k.id), `/accounts/${account}/events`,
      "/openapi.json"]) {
      const res = await fetch(`${gw.url}${ADMIN_PREFIX}${path}`, {
        method: "HEAD",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.equal(res.status, 200, `HEAD ${path}`);
      assert.equal(mediaType(res.headers.get("content-type")), "application/json");
      assert.equal(await res.text(), "");
    }
    const missing = await fetch(`${gw.url}${ADMIN_PREFIX}/accounts/acct_never_head`, {
      method: "HEAD",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), "");
  });
});
