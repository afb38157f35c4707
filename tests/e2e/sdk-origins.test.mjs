// The origin libraries (sdk/) end to end: a real origin built on each
// (Express on @keygate/origin, FastAPI under uvicorn on keygate-origin,
// axum on the keygate-origin crate) behind keygate on workerd verifies
// every forwarded request, keyed and public, with and without sign_body,
// and returns the identity it verified. Each library also runs in an
// origin that holds a wrong secret, which must refuse everything: so
// these tests fail when the secret is wrong. Captured requests replayed
// straight to an origin are refused.
//
// Needs what `make build` makes: sdk/js/dist (tsc) and
// target/debug/examples/axum-origin; and a Python with sdk/python,
// FastAPI and uvicorn (PYTHON, which `make e2e` sets to the venv
// scripts/setup.sh makes; default .tools/venv/bin/python).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { ROOT, SECRET, startGateway, startOriginCommand } from "./harness.mjs";

const PYTHON = process.env.PYTHON ?? join(ROOT, ".tools/venv/bin/python");
const AXUM = join(ROOT, "target/debug/examples/axum-origin");
const WRONG = "wrong-origin-secret-" + "x".repeat(32);

/** How each library's origin starts: a command and its arguments, before the products. */
const ORIGINS = {
  express: [process.execPath, [join(ROOT, "tests/e2e/sdk-origin-express.mjs")]],
  fastapi: [PYTHON, [join(ROOT, "tests/e2e/sdk_origin_fastapi.py")]],
  axum: [AXUM, []],
};

const origins = {};
let gw;

before(async () => {
  assert.ok(existsSync(join(ROOT, "sdk/js/dist/express.js")), "sdk/js/dist missing: run make build (tsc -p sdk/js)");
  assert.ok(existsSync(AXUM), "axum origin missing: run make build (cargo build -p keygate-origin --example axum-origin)");
  let template = readFileSync(join(ROOT, "tests/e2e/wrangler.sdk.toml"), "utf8");
  for (const [lang, [command, args]] of Object.entries(ORIGINS)) {
    const ok = await startOriginCommand(command, [...args, lang, `${lang}body`], { env: { KEYGATE_SIGN_BODY: `${lang}body` } });
    const wrong = await startOriginCommand(command, [...args, `${lang}wrong`], { secret: WRONG });
    origins[lang] = { ok, wrong };
    const up = lang.toUpperCase();
    template = template.replaceAll(`__${up}_WRONG__`, wrong.url).replaceAll(`__${up}__`, ok.url);
  }
  assert.doesNotMatch(template, /__(EXPRESS|FASTAPI|AXUM)/);
  const keys = {};
  for (const lang of Object.keys(ORIGINS)) {
    for (const product of [lang, `${lang}body`, `${lang}wrong`]) {
      keys[product] = ["--product", product, "--account", "acct_sdk", "--scopes", "read,write"];
    }
  }
  gw = await startGateway({ template, keys });
});

after(async () => {
  await gw?.stop();
  for (const { ok, wrong } of Object.values(origins)) {
    await ok?.stop();
    await wrong?.stop();
  }
});

/** A raw HTTP/1.1 request with exact headers; resolves { status, body (parsed JSON or text), headers }. */
function send(url, { method = "GET", headers = {}, body } = {}) {
  return new Promise((ok, fail) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        let json = text;
        try { json = JSON.parse(text); } catch {}
        ok({ status: res.statusCode, body: json, headers: res.headers });
      });
    });
    req.on("error", fail);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The refusal's rule: `code` in problem+json, or in FastAPI's `detail`. */
const rule = (body) => body?.code ?? body?.detail?.code;

const header = (product) => `X-${product[0].toUpperCase()}${product.slice(1)}-Key`;

for (const lang of Object.keys(ORIGINS)) {
  describe(`${lang} origin`, () => {
    const through = async (path, { key, ...init } = {}) => {
      const headers = { ...(init.headers ?? {}) };
      if (key) headers[header(key)] = gw.keys[key];
      const res = await send(gw.url + path, { ...init, headers });
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
      return res.body;
    };

    test("a keyed request: the library returns the identity keygate signed", async () => {
      const seen = await through(`/${lang}/v1/leads?page=2&x=%20y`, { key: lang });
      assert.equal(seen.product, lang);
      assert.match(seen.key_id, /^key_/);
      assert.equal(seen.account, "acct_sdk");
      assert.equal(seen.environment, "live");
      assert.deepEqual(seen.scopes, ["read", "write"]);
      assert.deepEqual(seen.meta, {}, "forward_meta: the key has no plan");
      assert.equal(seen.request_id, seen.headers["keygate-request-id"]);
      assert.equal(typeof seen.client_ip, "string");
      assert.equal(seen.client_ip, seen.headers["keygate-client-ip"]);
    });

    test("the key's forwarded meta arrives, verified", async () => {
      const created = await gw.admin("POST", "/accounts/acct_sdk/keys", { product: lang, name: "meta", meta: { plan: "pro", org: "kept back" } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const res = await send(`${gw.url}/${lang}/v1/leads`, { headers: { [header(lang)]: created.body.key } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.meta, { plan: "pro" });
    });

    test("a public path verifies, with no key identity", async () => {
      const seen = await through(`/${lang}/health`);
      assert.equal(seen.product, lang);
      assert.equal(seen.key_id, null);
      assert.equal(seen.account, null);
      assert.deepEqual(seen.scopes, []);
    });

    test("a POST without sign_body verifies; its body reaches the handler", async () => {
      const body = JSON.stringify({ lead: "Ada" });
      const seen = await through(`/${lang}/v1/leads`, { key: lang, method: "POST", headers: { "Content-Type": "application/json" }, body });
      assert.equal(seen.body_length, body.length);
      assert.equal(seen.headers["content-digest"], undefined);
    });

    test("sign_body: the digest is checked against the body, keyed and public", async () => {
      const body = JSON.stringify({ amount: 100 });
      const seen = await through(`/${lang}body/v1/pay`, { key: `${lang}body`, method: "POST", headers: { "Content-Type": "application/json" }, body });
      assert.equal(seen.product, `${lang}body`);
      assert.equal(seen.body_length, body.length, "the handler still reads the body");
      assert.match(seen.headers["content-digest"], /^sha-256=:/);
      const pub = await through(`/${lang}body/health`);
      assert.equal(pub.key_id, null);
      assert.match(pub.headers["content-digest"], /^sha-256=:/);
    });

    test("an origin holding a wrong secret refuses every forwarded request", async () => {
      for (const init of [{ [header(`${lang}wrong`)]: gw.keys[`${lang}wrong`] }, {}]) {
        const path = Object.keys(init).length ? `/${lang}wrong/v1/leads` : `/${lang}wrong/health`;
        const res = await send(gw.url + path, { headers: init });
        assert.equal(res.status, 401, `${path}: ${JSON.stringify(res.body)}`);
        assert.equal(rule(res.body), "signature_mismatch");
      }
    });

    test("replays straight to the origin are refused", async () => {
      const body = JSON.stringify({ amount: 100, to: "acct_1" });
      const seen = await through(`/${lang}body/v1/pay?urgent=1`, { key: `${lang}body`, method: "POST", headers: { "Content-Type": "application/json" }, body });
      const headers = { ...seen.headers };
      delete headers.connection;
      delete headers["transfer-encoding"];
      const replay = (changes = {}) =>
        send(`${origins[lang].ok.url}${changes.path ?? `/${lang}body/v1/pay?urgent=1`}`, {
          method: changes.method ?? "POST",
          headers: { ...headers, ...(changes.headers ?? {}) },
          body: changes.body ?? body,
        });
      const refusedWith = async (res, want) => {
        assert.equal(res.status, 401, JSON.stringify(res.body));
        assert.equal(rule(res.body), want);
      };
      await refusedWith(await replay(), "replay");
      await refusedWith(await replay({ body: body.replace("100", "999") }), "digest_mismatch");
      await refusedWith(await replay({ path: `/${lang}body/v1/refund?urgent=1` }), "signature_mismatch");
      await refusedWith(await replay({ path: `/${lang}body/v1/pay?urgent=0` }), "signature_mismatch");
      await refusedWith(await replay({ method: "PUT" }), "signature_mismatch");
      await refusedWith(await replay({ headers: { host: "evil.example" } }), "signature_mismatch");
      await refusedWith(await replay({ headers: { "keygate-product": lang } }), "product_mismatch");
      await refusedWith(await replay({ headers: { "keygate-admin": "true" } }), "uncovered_header");
    });
  });
}
