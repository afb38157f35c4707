// keygate fails closed: a broken configuration or a missing secret refuses
// every request with 500 misconfigured and forwards nothing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, problem, startGateway, startOrigin } from "./harness.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.e2e.toml"), "utf8");
let origin, badConfig, noSecret, noAdmin;

before(async () => {
  origin = await startOrigin();
  const mf = ["--product", "mailforge", "--account", "acct_e2e"];
  [badConfig, noSecret, noAdmin] = await Promise.all([
    // Valid TOML, so minting works, but Mailforge reuses Salesforge's prefix.
    startGateway({
      template: template.replace('prefix = "mf"', 'prefix = "sf"'),
      origin: origin.url,
    }),
    startGateway({ template, origin: origin.url, keys: { mf }, secret: null }),
    startGateway({ template, origin: origin.url, keys: { mf }, adminToken: null }),
  ]);
});

after(async () => {
  await Promise.all([badConfig?.stop(), noSecret?.stop(), noAdmin?.stop()]);
  await origin?.stop();
});

test("an invalid config: 500 misconfigured naming the product and field, nothing forwarded", async () => {
  for (const path of ["/salesforge/health", "/mailforge/v1", "/nowhere"]) {
    const p = await problem(await fetch(badConfig.url + path));
    assert.equal(p.status, 500);
    assert.equal(p.type, "application/problem+json");
    assert.equal(p.body.code, "misconfigured");
    assert.match(p.body.detail, /products\[mailforge\]\.prefix/);
  }
});

test("a missing origin secret: 500 misconfigured, even for a valid key", async () => {
  const res = await fetch(noSecret.url + "/mailforge/v1", {
    headers: { "X-Mailforge-Key": noSecret.keys.mf },
  });
  const p = await problem(res);
  assert.equal(p.status, 500);
  assert.equal(p.body.code, "misconfigured");
  assert.match(p.body.detail, /KEYGATE_ORIGIN_SECRET/);
});

test("a missing admin token: the management API answers 500 misconfigured, the gateway still serves", async () => {
  for (const token of [undefined, "x".repeat(40)]) {
    const res = await fetch(noAdmin.url + "/_keygate/v1/accounts/acct_e2e/keys", {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    const p = await problem(res);
    assert.equal(p.status, 500);
    assert.equal(p.body.code, "misconfigured");
    assert.match(p.body.detail, /KEYGATE_ADMIN_TOKEN/);
  }
  const res = await fetch(noAdmin.url + "/mailforge/v1", {
    headers: { "X-Mailforge-Key": noAdmin.keys.mf },
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).signature_valid, true);
});
