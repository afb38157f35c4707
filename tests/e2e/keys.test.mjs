// The keyed tag: forged keys cost no storage read, the previous key secret
// keeps verifying after a rotation, and KV misses are cached in the isolate.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, kvKeyOf, problem, startGateway, startOrigin } from "./harness.mjs";
import { forgedKey } from "./forge.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.e2e.toml"), "utf8");
const FORGED = Number(process.env.KEYGATE_FORGED_KEYS ?? 10_000);
const OLD_SECRET = "e2e-old-key-secret-" + randomBytes(16).toString("hex");
const NEW_SECRET = "e2e-new-key-secret-" + randomBytes(16).toString("hex");
const OTHER_SECRET = "e2e-other-key-secret-" + randomBytes(16).toString("hex");

// A key issued before keys carried a tag (README's old vector), with its record.
const LEGACY = "sf_live_00000000000000000000000000000000000000000001U0Xa1";
const legacyRecord = [{
  key: kvKeyOf(LEGACY),
  value: JSON.stringify({
    v: 1, id: "key_legacy00000000000", account: "acct_keys", product: "salesforge", environment: "live",
    name: "legacy", scopes: ["read", "write"], created_at: 1_700_000_000, prefix: "sf_live_0000", last4: "Xa1",
  }),
}];

let origin, gw, legacyOn;
const sf = (...more) => ["--product", "salesforge", "--account", "acct_keys", ...more];

before(async () => {
  origin = await startOrigin();
  // Rotated: new keys are tagged with NEW_SECRET, OLD_SECRET still verifies.
  legacyOn = startGateway({
    template: template.replace("cache_ttl_seconds = 60", "cache_ttl_seconds = 60\naccept_untagged_keys = true"),
    origin: origin.url,
    raw: legacyRecord,
  });
  gw = await startGateway({
    template,
    origin: origin.url,
    raw: legacyRecord,
    keySecret: NEW_SECRET,
    keySecretPrevious: OLD_SECRET,
    keys: {
      current: { args: sf("--name", "current"), secret: NEW_SECRET },
      previous: { args: sf("--name", "previous"), secret: OLD_SECRET },
      stranger: { args: sf("--name", "stranger"), secret: OTHER_SECRET },
      unstored: { unstored: sf(), secret: NEW_SECRET },
      missing: { unstored: sf(), secret: NEW_SECRET },
    },
  });
  legacyOn = await legacyOn;
});

after(async () => {
  await Promise.all([gw?.stop(), legacyOn?.stop?.()]);
  await origin?.stop();
});

const call = (path, key, at = gw) =>
  fetch(at.url + path, { headers: { "X-Salesforge-Key": key }, redirect: "manual" });

/** The request log lines for `path`, once `count` of them have been printed. */
async function logFor(path, count, timeoutMs = 20_000, at = gw) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = at.logEntries().filter((e) => e.path === path);
    if (lines.length >= count) return lines;
    if (Date.now() > deadline) assert.fail(`only ${lines.length} of ${count} log lines for ${path}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test(`${FORGED} forged, checksum-valid keys: every one 401 invalid_key, zero KV reads`, async () => {
  const path = "/salesforge/v1/forged";
  const keys = Array.from({ length: FORGED }, () => forgedKey("sf", "live"));
  assert.equal(new Set(keys).size, FORGED);
  const codes = new Map();
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++];
      const p = await problem(await call(path, key));
      const code = `${p.status} ${p.body.code}`;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      assert.ok(!JSON.stringify(p.body).includes(key.slice(8)), "the refusal never echoes the key");
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  assert.deepEqual([...codes], [["401 invalid_key", FORGED]]);
  const lines = await logFor(path, FORGED);
  const reads = lines.reduce((sum, e) => sum + e.kv_reads, 0);
  console.log(`# ${FORGED} forged keys caused ${reads} KV reads`);
  assert.equal(lines.length, FORGED);
  assert.equal(reads, 0);
});

test("a forged key is refused exactly like an unknown one", async () => {
  const forged = await problem(await call("/salesforge/v1/x", forgedKey("sf", "live")));
  const unknown = await problem(await call("/salesforge/v1/x", gw.keys.unstored));
  assert.deepEqual(forged.body, unknown.body);
  assert.equal(forged.challenge, unknown.challenge);
});

test("after a key-secret rotation, keys tagged with the previous secret still work", async () => {
  for (const name of ["current", "previous"]) {
    const res = await call("/salesforge/v1/leads", gw.keys[name]);
    assert.equal(res.status, 200, name);
    assert.equal((await res.json()).signature_valid, true);
  }
});

test("a key tagged with a secret this deployment never had is refused without a read", async () => {
  const path = "/salesforge/v1/stranger";
  const p = await problem(await call(path, gw.keys.stranger));
  assert.equal(p.status, 401);
  assert.equal(p.body.code, "invalid_key");
  const [line] = await logFor(path, 1);
  assert.equal(line.kv_reads, 0, "its record is in KV, but the tag stops the lookup");
});

test("a genuine key that is not stored costs one KV read, then none while the miss is cached", async () => {
  const path = "/salesforge/v1/missing";
  for (let i = 0; i < 3; i++) {
    const p = await problem(await call(path, gw.keys.missing));
    assert.equal(p.body.code, "invalid_key");
  }
  const lines = await logFor(path, 3);
  // One isolate serves wrangler dev: the first request reads, the others hit the cache.
  assert.deepEqual(lines.map((e) => e.kv_reads), [1, 0, 0]);
});

test("the log says which secret verified a key, so an operator knows when PREVIOUS can go", async () => {
  await call("/salesforge/v1/which-current", gw.keys.current);
  await call("/salesforge/v1/which-previous", gw.keys.previous);
  const [current] = await logFor("/salesforge/v1/which-current", 1);
  const [previous] = await logFor("/salesforge/v1/which-previous", 1);
  assert.equal(current.key_tag, "current");
  assert.equal(previous.key_tag, "previous");
});

test("a legacy untagged key: invalid_key without a read by default, admitted with accept_untagged_keys", async () => {
  const off = await problem(await call("/salesforge/v1/legacy", LEGACY));
  assert.equal(off.body.code, "invalid_key");
  const [offLine] = await logFor("/salesforge/v1/legacy", 1);
  assert.equal(offLine.kv_reads, 0);

  const res = await call("/salesforge/v1/legacy", LEGACY, legacyOn);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).headers["keygate-key-id"], "key_legacy00000000000");
  const [onLine] = await logFor("/salesforge/v1/legacy", 1, 20_000, legacyOn);
  assert.equal(onLine.kv_reads, 1);
  assert.equal(onLine.key_tag, "untagged");
  // The switch never excuses a tagged key from its check.
  const forged = await problem(await call("/salesforge/v1/legacy-forged", forgedKey("sf", "live"), legacyOn));
  assert.equal(forged.body.code, "invalid_key");
  const [forgedLine] = await logFor("/salesforge/v1/legacy-forged", 1, 20_000, legacyOn);
  assert.equal(forgedLine.kv_reads, 0);
});
