// GitHub's public-key document when GitHub fails (issue 18, Low 1): a
// stand-in key endpoint answering 403 (GitHub rate-limits unauthenticated
// calls) is fetched once, not once per report, and the reports are
// refused with a code that says what failed. Its own gateway, so that no
// earlier test has fetched the document in this isolate.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startGateway, startOrigin } from "./harness.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.webhooks.toml"), "utf8");
let receiver, gw;

before(async () => {
  receiver = await startOrigin("tests/e2e/webhook-receiver.mjs");
  const res = await fetch(`${receiver.url}/_admin/github-keys-status`, {
    method: "POST",
    body: JSON.stringify({ status: 403 }),
  });
  assert.equal(res.status, 200);
  gw = await startGateway({ template, origin: receiver.url });
});

after(async () => {
  await gw?.stop();
  await receiver?.stop();
});

const fetches = async () => (await (await fetch(`${receiver.url}/_admin/github-fetches`)).json()).fetches;

test("a failing key endpoint is fetched once for ten reports, each refused as github_keys_unavailable", async () => {
  const github = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const body = JSON.stringify([{ token: "fai_live_x", type: "keygate_fai_key", url: "https://github.com/o/r", source: "content" }]);
  const signature = sign("sha256", Buffer.from(body), github.privateKey).toString("base64");
  const before = await fetches();
  for (let i = 0; i < 10; i++) {
    const res = await fetch(`${gw.url}${gw.adminPrefix}/leaks/github`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "Github-Public-Key-Identifier": "rotated-" + randomBytes(4).toString("hex"),
        "Github-Public-Key-Signature": signature,
      },
      body,
    });
    const problem = await res.json();
    assert.equal(res.status, 503, JSON.stringify(problem));
    assert.equal(problem.code, "github_keys_unavailable", "not storage_unavailable: the key store is fine");
    const retry = Number(res.headers.get("retry-after"));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${res.headers.get("retry-after")}`);
  }
  assert.equal((await fetches()) - before, 1, "one fetch for ten reports");
});
