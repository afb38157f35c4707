// keygate fails closed: a broken configuration or a missing secret refuses
// every request with 500 misconfigured and forwards nothing. Clients get a
// generic detail; the Worker's log names the cause, with credentials and
// queries in URLs redacted.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, problem, startGateway, startOrigin } from "./harness.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.e2e.toml"), "utf8");
let origin, badConfig, noSecret, noAdmin, leakyUpstream, noKeySecret;
// Secrets no log line could hold by chance (a random hex id may hold "abc").
const LEAKY = "https://kgUserE2e:kgPassE2e@x.test/?token=kgTokenE2e";

/** Waits until the gateway's output includes `pattern`; returns the output. */
async function logged(gw, pattern, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = gw.lines.join("");
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) assert.fail(`the log never matched ${pattern}:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A 500 misconfigured whose detail is generic. */
async function misconfigured(res) {
  const p = await problem(res);
  assert.equal(p.status, 500);
  assert.equal(p.type, "application/problem+json");
  assert.equal(p.body.code, "misconfigured");
  assert.match(p.body.detail, /Worker's log/);
  return p;
}

before(async () => {
  origin = await startOrigin();
  const mf = ["--product", "mailforge", "--account", "acct_e2e"];
  [badConfig, noSecret, noAdmin, leakyUpstream, noKeySecret] = await Promise.all([
    // Valid TOML, so minting works, but Mailforge reuses Salesforge's prefix.
    startGateway({
      template: template.replace('prefix = "mf"', 'prefix = "sf"'),
      origin: origin.url,
    }),
    startGateway({ template, origin: origin.url, keys: { mf }, secret: null }),
    startGateway({ template, origin: origin.url, keys: { mf }, adminToken: null }),
    // Valid TOML; the upstream URL carries credentials and a query.
    startGateway({
      template: template.replace(/upstream = "[^"]*\/mail[^"]*"/, `upstream = "${LEAKY}"`),
      origin: origin.url,
    }),
    startGateway({ template, origin: origin.url, keys: { mf }, keySecret: null }),
  ]);
});

after(async () => {
  await Promise.all([badConfig?.stop(), noSecret?.stop(), noAdmin?.stop(), leakyUpstream?.stop(), noKeySecret?.stop()]);
  await origin?.stop();
});

test("an invalid config: 500 misconfigured, nothing forwarded; the log names the product and field", async () => {
  for (const path of ["/salesforge/health", "/mailforge/v1", "/nowhere"]) {
    const p = await misconfigured(await fetch(badConfig.url + path));
    assert.doesNotMatch(p.body.detail, /mailforge|prefix/);
  }
  await logged(badConfig, /products\[mailforge\]\.prefix/);
});

test("an upstream with credentials: clients never see it, the log names the field without the secrets", async () => {
  for (const path of ["/salesforge/health", "/mailforge/v1", "/_keygate/v1/accounts/a/keys"]) {
    const res = await fetch(leakyUpstream.url + path);
    const text = await res.clone().text();
    for (const secret of ["kgUserE2e", "kgPassE2e", "kgTokenE2e", "x.test", "token"]) assert.ok(!text.includes(secret), `${secret} in ${text}`);
    await misconfigured(res);
  }
  const log = await logged(leakyUpstream, /products\[mailforge\]\.upstream/);
  for (const secret of ["kgUserE2e", "kgPassE2e", "kgTokenE2e"]) {
    assert.ok(!log.includes(secret), `${secret} in ${log.slice(-2000)}`);
  }
  assert.match(log, /REDACTED/);
});

test("a missing key secret: 500 misconfigured for keys and the management API alike", async () => {
  await misconfigured(await fetch(noKeySecret.url + "/mailforge/v1", {
    headers: { "X-Mailforge-Key": noKeySecret.keys.mf },
  }));
  await misconfigured(await fetch(noKeySecret.url + "/_keygate/v1/accounts/acct_e2e/keys", {
    headers: { Authorization: `Bearer ${noKeySecret.adminToken}` },
  }));
  await logged(noKeySecret, /KEYGATE_KEY_SECRET/);
});

test("a missing origin secret: 500 misconfigured, even for a valid key", async () => {
  const res = await fetch(noSecret.url + "/mailforge/v1", {
    headers: { "X-Mailforge-Key": noSecret.keys.mf },
  });
  const p = await misconfigured(res);
  assert.doesNotMatch(p.body.detail, /KEYGATE_ORIGIN_SECRET/);
  await logged(noSecret, /KEYGATE_ORIGIN_SECRET/);
});

test("a missing admin token: the management API answers 500 misconfigured, the gateway still serves", async () => {
  for (const token of [undefined, "x".repeat(40)]) {
    const res = await fetch(noAdmin.url + "/_keygate/v1/accounts/acct_e2e/keys", {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    await misconfigured(res);
  }
  await logged(noAdmin, /KEYGATE_ADMIN_TOKEN/);
  const res = await fetch(noAdmin.url + "/mailforge/v1", {
    headers: { "X-Mailforge-Key": noAdmin.keys.mf },
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).signature_valid, true);
});
