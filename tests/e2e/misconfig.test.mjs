// keygate fails closed: a broken configuration or a missing secret refuses
// every request with 500 misconfigured and forwards nothing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, problem, startGateway, startOrigin } from "./harness.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.e2e.toml"), "utf8");
let origin, badConfig, noSecret;

before(async () => {
  origin = await startOrigin();
  const mf = ["--product", "mailforge", "--account", "acct_e2e"];
  [badConfig, noSecret] = await Promise.all([
    // Valid TOML, so minting works, but Mailforge reuses Salesforge's prefix.
    startGateway({
      template: template.replace('prefix = "mf"', 'prefix = "sf"'),
      origin: origin.url,
    }),
    startGateway({ template, origin: origin.url, keys: { mf }, secret: null }),
  ]);
});

after(async () => {
  await Promise.all([badConfig?.stop(), noSecret?.stop()]);
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
