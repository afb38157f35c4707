// Unit tests of @keygate/origin (run on the compiled dist/): the README's
// test vector verifies, and each replay case is refused with its rule.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { KeygateError, MemoryNonceStore, Verifier, productKey, verify } from "../dist/index.js";
import { keygate as express } from "../dist/express.js";
import { keygate as hono } from "../dist/hono.js";

// The README's test vector (src/signature/tests.rs asserts the same).
const SECRET = "keygate-test-origin-secret-0123456789";
const KEY = "VWgn+CerwFD/VvHau0HY2AebG6nW+Mklg6PZoSvUHPE=";
const NONCE = "0123456789abcdef0123456789abcdef";
const CREATED = 1795416000;
const BODY = '{"name":"Ada"}';
const INPUT =
  'keygate=("@method" "@authority" "@path" "@query" "keygate-product" "keygate-key-id" "keygate-account" ' +
  '"keygate-environment" "keygate-scopes" "keygate-request-id" "content-digest" "content-length" "content-type")' +
  ';created=1795416000;expires=1795416300;nonce="0123456789abcdef0123456789abcdef";keyid="salesforge";alg="hmac-sha256"';
const SIGNATURE = "keygate=:l9mBd3My/QvYZQ8uByxV45F94c1lJUvKcrA05WtDS/s=:";
const HEADERS = {
  host: "origin.salesforge.example",
  "keygate-product": "salesforge",
  "keygate-key-id": "key_0c586b3T70e9ieZfx",
  "keygate-account": "acct_demo",
  "keygate-environment": "live",
  "keygate-scopes": "read write",
  "keygate-request-id": NONCE,
  "content-digest": "sha-256=:iLq22PbcaKh3Bk1YTLtbbFDnT2F+pQ2B06U8Lub/vE8=:",
  "content-length": "14",
  "content-type": "application/json",
  "signature-input": INPUT,
  signature: SIGNATURE,
};

/** A neutral request like the vector's, with changes. */
const vector = ({ method = "POST", authority = "origin.salesforge.example", path = "/v2/leads", query = "page=2", headers = {}, body = BODY } = {}) => ({
  method,
  authority,
  path,
  query,
  headers: Object.entries({ ...HEADERS, ...headers }).filter(([, v]) => v !== undefined),
  body: async () => new TextEncoder().encode(body),
});

const at = (seconds) => () => seconds * 1000;
const verifier = (extra = {}) => new Verifier({ keys: { salesforge: KEY }, nonces: new MemoryNonceStore(), now: at(CREATED), ...extra });

async function refused(promise, rule) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof KeygateError, String(e));
    assert.equal(e.rule, rule, e.message);
    return true;
  });
}

/** Signs like keygate (independently of the library, with node:crypto). */
function sign({ key = Buffer.from(KEY, "base64"), product = "salesforge", nonce, created = CREATED, expires = created + 300, components, values }) {
  const list = `(${components.map((c) => `"${c}"`).join(" ")})`;
  const params = `${list};created=${created};expires=${expires};nonce="${nonce}";keyid="${product}";alg="hmac-sha256"`;
  const base = components.map((c) => `"${c}": ${values[c]}`).concat(`"@signature-params": ${params}`).join("\n");
  return { "signature-input": `keygate=${params}`, signature: `keygate=:${createHmac("sha256", key).update(base).digest("base64")}:` };
}

test("the README's test vector: key derivation and verification", async () => {
  assert.equal(Buffer.from(await productKey(SECRET, "salesforge")).toString("base64"), KEY);
  assert.equal(Buffer.from(await productKey(SECRET, "mailforge")).toString("base64"), "fsqABOjoL55VN2zNlmG7HAejZo+4rORh5CSKh5qD9wI=");
  assert.equal(Buffer.from(await productKey(`  ${SECRET}\n`, "salesforge")).toString("base64"), KEY, "the secret is trimmed");
  for (const options of [{ keys: { salesforge: KEY } }, { secret: SECRET, products: ["salesforge", "mailforge"] }]) {
    const identity = await new Verifier({ ...options, nonces: new MemoryNonceStore(), now: at(CREATED), signBody: true }).verify(vector());
    assert.deepEqual(identity, {
      product: "salesforge",
      keyId: "key_0c586b3T70e9ieZfx",
      account: "acct_demo",
      environment: "live",
      scopes: ["read", "write"],
      meta: null,
      clientIp: null,
      requestId: NONCE,
      created: CREATED,
      expires: CREATED + 300,
    });
  }
  // The signer used below agrees with the vector.
  const components = /\(([^)]*)\)/.exec(INPUT)[1].split(" ").map((c) => c.slice(1, -1));
  const values = { "@method": "POST", "@authority": "origin.salesforge.example", "@path": "/v2/leads", "@query": "?page=2", ...HEADERS };
  assert.deepEqual(sign({ nonce: NONCE, components, values }), { "signature-input": INPUT, signature: SIGNATURE });
});

test("a standard Request verifies; verify() keeps the nonces across calls", async () => {
  const request = () =>
    new Request("http://origin.salesforge.example/v2/leads?page=2", { method: "POST", headers: HEADERS, body: BODY });
  const options = { keys: { salesforge: KEY }, now: at(CREATED + 10) };
  assert.equal((await verify(request(), options)).account, "acct_demo");
  await refused(verify(request(), options), "replay");
  await refused(verify(request(), { ...options }), "replay"); // one default store per process
});

test("every replay case is refused, each by its rule", async () => {
  const cases = [
    ["changed body", vector({ body: '{"name":"Eve"}' }), "digest_mismatch"],
    ["changed body and digest", vector({ body: "{}", headers: { "content-digest": "sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:" } }), "signature_mismatch"],
    ["changed host", vector({ authority: "evil.example" }), "signature_mismatch"],
    ["changed path", vector({ path: "/v2/leads/1" }), "signature_mismatch"],
    ["changed query", vector({ query: "page=3" }), "signature_mismatch"],
    ["no query", vector({ query: null }), "signature_mismatch"],
    ["changed method", vector({ method: "PUT" }), "signature_mismatch"],
    ["changed product", vector({ headers: { "keygate-product": "mailforge" } }), "product_mismatch"],
    ["changed account", vector({ headers: { "keygate-account": "acct_victim" } }), "signature_mismatch"],
    ["added Keygate-* header", vector({ headers: { "Keygate-Admin": "true" } }), "uncovered_header"],
    ["added Keygate_ header", vector({ headers: { keygate_account: "acct_victim" } }), "uncovered_header"],
    ["nonce not the request id", vector({ headers: { "keygate-request-id": "f".repeat(32) } }), "nonce_mismatch"],
    ["covered header removed", vector({ headers: { "content-type": undefined } }), "missing_header"],
    ["no signature", vector({ headers: { signature: undefined } }), "malformed"],
    ["two signatures", vector({ headers: { signature: `${SIGNATURE}, other=:AAAA:` } }), "malformed"],
    ["other label", vector({ headers: { "signature-input": INPUT.replace("keygate=", "other=") } }), "malformed"],
    ["other alg", vector({ headers: { "signature-input": INPUT.replace('"hmac-sha256"', '"ed25519"') } }), "algorithm"],
    ["another product's keyid", vector({ headers: { "signature-input": INPUT.replace('"salesforge"', '"mailforge"'), "keygate-product": "mailforge" } }), "unknown_product"],
    ["unknown parameter", vector({ headers: { "signature-input": INPUT + ';tag="x"' } }), "malformed"],
  ];
  for (const [what, request, rule] of cases) await refused(verifier().verify(request), rule).catch((e) => assert.fail(`${what}: ${e.message}`));
});

test("a reused nonce is refused; the nonce is kept only for a request that verified", async () => {
  const v = verifier();
  await refused(v.verify(vector({ path: "/other" })), "signature_mismatch");
  await v.verify(vector());
  await refused(v.verify(vector()), "replay");
});

test("stale and future signatures are refused, with the skew", async () => {
  await verifier({ now: at(CREATED + 300) }).verify(vector());
  await verifier({ now: at(CREATED - 5) }).verify(vector());
  await refused(verifier({ now: at(CREATED + 301) }).verify(vector()), "expired");
  await refused(verifier({ now: at(CREATED - 6) }).verify(vector()), "not_yet_valid");
  await refused(verifier({ now: at(CREATED - 60), maxSkew: 30 }).verify(vector()), "not_yet_valid");
});

test("another product's key, or the wrong secret, does not verify", async () => {
  const mailforgeKey = Buffer.from(await productKey(SECRET, "mailforge")).toString("base64");
  await refused(verifier({ keys: { salesforge: mailforgeKey } }).verify(vector()), "signature_mismatch");
  await refused(verifier({ keys: undefined, secret: SECRET + "x", products: ["salesforge"] }).verify(vector()), "signature_mismatch");
  assert.throws(() => new Verifier({ secret: "short", products: ["salesforge"] }), /at least 32/);
  assert.throws(() => new Verifier({ keys: { salesforge: "AAAA" } }), /32 bytes/);
  assert.throws(() => new Verifier({}), /secret and products, or keys/);
});

test("core components must be covered; signBody needs content-digest; an uncovered Content-Digest is refused", async () => {
  const values = { "@method": "GET", "@authority": "o.example", "@path": "/x", "@query": "?", "keygate-product": "salesforge", "keygate-request-id": "a".repeat(32) };
  const req = (components, extra = {}) => ({
    method: "GET", authority: "o.example", path: "/x", query: null,
    headers: Object.entries({ "keygate-product": "salesforge", "keygate-request-id": "a".repeat(32), ...sign({ nonce: "a".repeat(32), components, values }), ...extra }),
    body: async () => new Uint8Array(),
  });
  const all = ["@method", "@authority", "@path", "@query", "keygate-product", "keygate-request-id"];
  assert.equal((await verifier().verify(req(all))).keyId, null, "a public path verifies");
  for (const c of all) await refused(verifier().verify(req(all.filter((x) => x !== c))), "not_covered");
  await refused(verifier({ signBody: ["salesforge"] }).verify(req(all)), "digest_required");
  await refused(verifier({ signBody: true }).verify(req(all)), "digest_required");
  await verifier({ signBody: ["bodyforge"] }).verify(req(all));
  await refused(verifier().verify(req(all, { "content-digest": "sha-256=:AAAA:" })), "uncovered_header");
});

test("identity: meta and client IP, signed", async () => {
  const components = ["@method", "@authority", "@path", "@query", "keygate-product", "keygate-key-id", "keygate-account",
    "keygate-environment", "keygate-scopes", "keygate-key-meta", "keygate-request-id", "keygate-client-ip"];
  const headers = { "keygate-product": "salesforge", "keygate-key-id": "key_x", "keygate-account": "acct_a", "keygate-environment": "test",
    "keygate-scopes": "read", "keygate-key-meta": '{"org":"acme","plan":"pro"}', "keygate-request-id": "b".repeat(32), "keygate-client-ip": "203.0.113.7" };
  const values = { "@method": "GET", "@authority": "o.example:8788", "@path": "/x", "@query": "?a=1", ...headers };
  const req = { method: "GET", authority: "O.example:8788", path: "/x", query: "a=1",
    headers: Object.entries({ ...headers, ...sign({ nonce: "b".repeat(32), components, values }) }), body: async () => new Uint8Array() };
  const id = await verifier().verify(req);
  assert.deepEqual([id.environment, id.scopes, id.meta, id.clientIp], ["test", ["read"], { org: "acme", plan: "pro" }, "203.0.113.7"]);
  await refused(verifier().verify({ ...req, headers: req.headers.map(([n, v]) => [n, n === "keygate-client-ip" ? "198.51.100.1" : v]) }), "signature_mismatch");
});

test("the memory store is bounded and forgets expired nonces", () => {
  const store = new MemoryNonceStore(2);
  assert.equal(store.remember("a", 100, 50), true);
  assert.equal(store.remember("a", 100, 60), false);
  assert.equal(store.remember("b", 100, 60), true);
  assert.throws(() => store.remember("c", 200, 60), (e) => e.rule === "nonce_store_full");
  assert.equal(store.remember("c", 200, 101), true, "expired nonces make room");
  assert.equal(store.size, 1);
  assert.equal(store.remember("a", 300, 150), true, "an expired nonce is forgotten");
});

test("Express middleware: identity on req.keygate, 401 problem+json naming the rule", async () => {
  const mw = express({ keys: { salesforge: KEY }, nonces: new MemoryNonceStore(), now: at(CREATED) });
  const run = (req) =>
    new Promise((ok) => {
      const res = { code: 0, headers: {}, status(c) { this.code = c; return this; }, set(n, v) { this.headers[n] = v; return this; }, send(b) { ok({ res: this, body: JSON.parse(b) }); } };
      mw(req, res, (e) => ok({ next: true, error: e, req }));
    });
  const req = () => ({
    method: "POST", originalUrl: "/v2/leads?page=2", headers: HEADERS,
    rawHeaders: Object.entries(HEADERS).flat(), body: Buffer.from(BODY), on() {},
  });
  const ok = await run(req());
  assert.equal(ok.next, true);
  assert.equal(ok.req.keygate.account, "acct_demo");
  const again = await run(req());
  assert.equal(again.res.code, 401);
  assert.equal(again.res.headers["Content-Type"], "application/problem+json");
  assert.equal(again.body.code, "replay");
});

test("Express middleware reads an unread body itself, up to maxBody", async () => {
  const { EventEmitter } = await import("node:events");
  const run = (maxBody) =>
    new Promise((ok) => {
      const mw = express({ keys: { salesforge: KEY }, nonces: new MemoryNonceStore(), now: at(CREATED), maxBody });
      const req = Object.assign(new EventEmitter(), {
        method: "POST", originalUrl: "/v2/leads?page=2", headers: HEADERS, rawHeaders: Object.entries(HEADERS).flat(),
      });
      const res = { status(c) { this.code = c; return this; }, set() { return this; }, send(b) { ok({ code: this.code, body: JSON.parse(b) }); } };
      mw(req, res, (e) => ok({ next: true, error: e, req }));
      req.emit("data", Buffer.from(BODY.slice(0, 5)));
      req.emit("data", Buffer.from(BODY.slice(5)));
      req.emit("end");
    });
  const ok = await run(undefined);
  assert.equal(ok.next, true, JSON.stringify(ok));
  assert.equal(Buffer.from(ok.req.rawBody).toString(), BODY);
  const small = await run(4);
  assert.equal(small.code, 401);
  assert.equal(small.body.code, "body_unavailable");
});

test("Hono middleware: identity in c.get('keygate'), 401 otherwise", async () => {
  const mw = hono({ keys: { salesforge: KEY }, nonces: new MemoryNonceStore(), now: at(CREATED) });
  const ctx = () => {
    const raw = new Request("http://origin.salesforge.example/v2/leads?page=2", { method: "POST", headers: HEADERS, body: BODY });
    const vars = {};
    return { vars, req: { raw, arrayBuffer: () => raw.clone().arrayBuffer() }, set: (k, v) => (vars[k] = v) };
  };
  const c = ctx();
  let called = false;
  assert.equal(await mw(c, async () => { called = true; }), undefined);
  assert.ok(called);
  assert.equal(c.vars.keygate.keyId, "key_0c586b3T70e9ieZfx");
  const res = await mw(ctx(), async () => assert.fail("next must not run"));
  assert.equal(res.status, 401);
  assert.equal((await res.json()).code, "replay");
});
