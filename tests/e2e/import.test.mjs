// Importing existing keys end to end (issue 21, part 1): POST
// /accounts/{account}/keys/import on workerd, by plaintext and by SHA-256
// (hex and base64), then the imported keys used through the gateway; a
// product's foreign (`legacy`) format, whose forged keys cost exactly one
// KV read each; idempotent re-imports; per-row refusals that lose nothing
// else; key_limit; and the plaintext in no response or log line.
//
// Every management API response is checked against the OpenAPI document.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_PREFIX, ROOT, startGateway, startOrigin } from "./harness.mjs";
import { loadDocument, validateResponse } from "./openapi.mjs";
import { forgedKey } from "./forge.mjs";

const LEGACY = "sk_live_";
const template = readFileSync(join(ROOT, "tests/e2e/wrangler.manage.toml"), "utf8").replace(
  "key_limit = 10\n",
  `key_limit = 10\nlegacy = { prefix = "${LEGACY}" }\n`,
);
assert.ok(template.includes(`legacy = { prefix = "${LEGACY}" }`), "the template still has forgeai's key_limit");

const fai = (account) => ["--product", "forgeai", "--account", account];
let origin, gw, doc;

before(async () => {
  doc = await loadDocument();
  origin = await startOrigin();
  gw = await startGateway({
    template,
    origin: origin.url,
    keys: {
      plain: { unstored: fai("acct_imp_1") },
      hashed: { unstored: fai("acct_imp_1") },
      again: { unstored: fai("acct_imp_2") },
      good: { unstored: fai("acct_imp_3") },
      cli: { unstored: fai("acct_imp_cli") },
    },
  });
});

after(async () => {
  await gw?.stop();
  await origin?.stop();
});

const show = (res) => `${res.status} ${typeof res.body === "string" ? res.body : JSON.stringify(res.body)}`;
const sha256 = (text) => createHash("sha256").update(text).digest();
/** Every foreign key made here, to check that no log line holds one. */
const foreignKeys = [];
const foreignKey = () => {
  const key = LEGACY + randomBytes(18).toString("base64url");
  foreignKeys.push(key);
  return key;
};

/** Calls the management API and checks the answer against the OpenAPI document. */
async function api(method, path, body, options) {
  const res = await gw.admin(method, path, body, options);
  try {
    validateResponse(doc, { method, path: path.split("?")[0], status: res.status, contentType: res.type, body: res.body, headers: res.headers });
  } catch (e) {
    throw new Error(`${method} ${path} -> ${show(res)}\ndoes not match the OpenAPI document: ${e.message}`);
  }
  return res;
}

async function importKeys(account, body, options) {
  const res = await api("POST", `/accounts/${account}/keys/import`, body, options);
  assert.equal(res.status, 200, show(res));
  return res.body;
}

const PRODUCT_AUTH = {
  forgeai: (key) => ({ Authorization: `Bearer ${key}` }),
  limitforge: (key) => ({ "X-Limitforge-Key": key }),
};

/** Calls the gateway with a key; resolves { status, body }. */
async function edge(key, path, product = "forgeai") {
  const res = await fetch(`${gw.url}/${product}${path}`, { headers: PRODUCT_AUTH[product](key), redirect: "manual" });
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, body };
}

function forwarded(res, keyId) {
  assert.equal(res.status, 200, show(res));
  assert.equal(res.body.signature_valid, true, show(res));
  assert.equal(res.body.headers["keygate-key-id"], keyId);
}

/** The request log lines for `path`, once `count` of them are printed. */
async function logFor(path, count, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = gw.logEntries().filter((e) => e.path === path);
    if (lines.length >= count) return lines;
    if (Date.now() > deadline) assert.fail(`only ${lines.length} of ${count} log lines for ${path}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("keys imported by plaintext and by hash (hex and base64) work through the gateway", async () => {
  const legacy = foreignKey();
  const body = await importKeys("acct_imp_1", {
    keys: [
      { key: gw.keys.plain, product: "forgeai", name: "by plaintext", owner_id: "user_1" },
      { sha256: sha256(gw.keys.hashed).toString("hex").toUpperCase(), product: "forgeai", name: "by hex", scopes: ["read"] },
      { sha256: sha256(legacy).toString("base64"), product: "forgeai", name: "by base64" },
    ],
  });
  assert.deepEqual([body.created, body.already_present, body.refused], [3, 0, 0], JSON.stringify(body));
  assert.deepEqual(body.results.map((r) => r.status), ["created", "created", "created"]);
  const [plain, hashed, foreign] = body.results.map((r) => r.id);
  assert.equal(new Set([plain, hashed, foreign]).size, 3);
  // Before the import these keys were unknown; now each is found.
  forwarded(await edge(gw.keys.plain, "/v1/imported-plain"), plain);
  forwarded(await edge(gw.keys.hashed, "/v1/imported-hashed"), hashed);
  forwarded(await edge(legacy, "/v1/imported-legacy"), foreign);
  // A view of a key imported by plaintext shows its prefix; by hash, none.
  const plainView = (await api("GET", `/accounts/acct_imp_1/keys/${plain}`)).body;
  assert.equal(plainView.prefix, gw.keys.plain.slice(0, 13));
  assert.equal(plainView.masked, `${gw.keys.plain.slice(0, 13)}…${gw.keys.plain.slice(-4)}`);
  assert.equal(plainView.owner_id, "user_1");
  const hashedView = (await api("GET", `/accounts/acct_imp_1/keys/${hashed}`)).body;
  assert.equal(hashedView.prefix, "");
  assert.deepEqual(hashedView.scopes, ["read"]);
  // Each created key has a key.created event marked imported.
  const events = (await api("GET", "/accounts/acct_imp_1/events")).body.events;
  const imported = events.filter((e) => e.type === "key.created" && e.data.imported === true);
  assert.deepEqual(imported.map((e) => e.key_id).sort(), [plain, hashed, foreign].sort());
  // Another account cannot take a key this one holds: refused, and the
  // key still answers for its own account.
  const taken = await importKeys("acct_imp_other", {
    keys: [{ sha256: sha256(gw.keys.plain).toString("hex"), product: "forgeai", name: "not yours" }],
  });
  assert.deepEqual([taken.created, taken.refused], [0, 1], JSON.stringify(taken));
  assert.equal(taken.results[0].field, "keys[0]");
  assert.match(taken.results[0].detail, /another account/);
  forwarded(await edge(gw.keys.plain, "/v1/imported-plain-still"), plain);
  // Revoking an imported key works as for any other.
  assert.equal((await api("DELETE", `/accounts/acct_imp_1/keys/${hashed}`)).status, 200);
});

test("a foreign-format key works, and a forged one costs exactly one KV read", async () => {
  const real = foreignKey();
  const body = await importKeys("acct_imp_4", {
    keys: [{ key: real, product: "forgeai", name: "legacy by plaintext" }],
  });
  assert.equal(body.created, 1, JSON.stringify(body));
  assert.ok(!JSON.stringify(body).includes(real), "the answer never holds the key");
  forwarded(await edge(real, "/v1/legacy-real"), body.results[0].id);

  const forged = foreignKey();
  const path = "/v1/legacy-forged";
  for (let i = 0; i < 3; i++) {
    const res = await edge(forged, path);
    assert.equal(res.status, 401, show(res));
    assert.equal(res.body.code, "invalid_key");
  }
  const lines = await logFor(`/forgeai${path}`, 3);
  // One read finds nothing; the not-found cache answers the repeats.
  assert.deepEqual(lines.map((e) => e.kv_reads), [1, 0, 0]);
  // Each new forged value costs one read (unlike keygate keys, whose tag
  // stops a forgery before any read).
  const many = "/v1/legacy-forged-many";
  for (let i = 0; i < 5; i++) assert.equal((await edge(foreignKey(), many)).status, 401);
  const manyLines = await logFor(`/forgeai${many}`, 5);
  assert.equal(manyLines.reduce((sum, e) => sum + e.kv_reads, 0), 5);
  const keygateForged = "/v1/keygate-forged";
  for (let i = 0; i < 5; i++) assert.equal((await edge(forgedKey("fai", "live"), keygateForged)).status, 401);
  const keygateLines = await logFor(`/forgeai${keygateForged}`, 5);
  assert.equal(keygateLines.reduce((sum, e) => sum + e.kv_reads, 0), 0);
  // Another product takes no foreign keys: refused before any read.
  const other = await edge(real, "/v1/legacy-elsewhere", "limitforge");
  assert.equal(other.status, 401, show(other));
  assert.equal(other.body.code, "malformed_key");
});

test("a re-import is idempotent: the same keys, nothing new", async () => {
  const legacy = foreignKey();
  const body = {
    keys: [
      { key: gw.keys.again, product: "forgeai", name: "a" },
      { sha256: sha256(legacy).toString("base64url").replace(/=+$/, ""), product: "forgeai", name: "b" },
      // The first key again, by its hash: one key, reported as present.
      { sha256: sha256(gw.keys.again).toString("hex"), product: "forgeai", name: "a again" },
    ],
  };
  const first = await importKeys("acct_imp_2", body);
  assert.deepEqual([first.created, first.already_present, first.refused], [2, 1, 0]);
  assert.equal(first.results[2].id, first.results[0].id);
  const second = await importKeys("acct_imp_2", body);
  assert.deepEqual([second.created, second.already_present, second.refused], [0, 3, 0]);
  assert.deepEqual(second.results.map((r) => r.id), first.results.map((r) => r.id));
  const keys = (await api("GET", "/accounts/acct_imp_2/keys")).body.keys;
  assert.equal(keys.length, 2);
  // An Idempotency-Key replays the first answer.
  const headers = { "Idempotency-Key": `import-${randomBytes(8).toString("hex")}` };
  const k = { keys: [{ sha256: sha256(foreignKey()).toString("hex"), product: "forgeai", name: "once" }] };
  const once = await importKeys("acct_imp_2", k, { headers });
  const replay = await importKeys("acct_imp_2", k, { headers });
  assert.equal(once.created, 1);
  assert.deepEqual(replay, once);
});

test("a bad row gets a clear per-row error and loses nothing else", async () => {
  const forged = forgedKey("fai", "live");
  const body = await importKeys("acct_imp_3", {
    keys: [
      { key: forged, product: "forgeai", name: "forged" },
      { key: gw.keys.good, product: "forgeai", name: "good" },
      { sha256: "not a digest", product: "forgeai", name: "bad hash" },
      { sha256: sha256("x").toString("hex"), product: "nowhere", name: "bad product" },
      { key: gw.keys.good.slice(0, -1), product: "forgeai", name: "truncated" },
      { sha256: sha256("y").toString("hex"), product: "forgeai", name: "extra", colour: "red" },
      { sha256: sha256("z").toString("hex"), product: "forgeai", name: "" },
      42,
      { sha256: sha256("w").toString("hex"), product: "forgeai", name: "good too", expires_in_days: 30 },
    ],
  });
  assert.deepEqual([body.created, body.already_present, body.refused], [2, 0, 7], JSON.stringify(body));
  const byIndex = Object.fromEntries(body.results.map((r) => [r.index, r]));
  const refusal = (i, code, field) => {
    assert.equal(byIndex[i].status, "refused", JSON.stringify(byIndex[i]));
    assert.equal(byIndex[i].code, code, JSON.stringify(byIndex[i]));
    assert.equal(byIndex[i].field, field);
    assert.ok(byIndex[i].detail.length > 10);
  };
  refusal(0, "invalid_field", "keys[0].key");
  assert.match(byIndex[0].detail, /not minted by this deployment/);
  refusal(2, "invalid_field", "keys[2].sha256");
  refusal(3, "invalid_field", "keys[3].product");
  refusal(4, "invalid_field", "keys[4].key");
  refusal(5, "unknown_field", "keys[5].colour");
  refusal(6, "invalid_field", "keys[6].name");
  refusal(7, "invalid_field", "keys[7]");
  assert.equal(byIndex[1].status, "created");
  assert.equal(byIndex[8].status, "created");
  forwarded(await edge(gw.keys.good, "/v1/good-row"), byIndex[1].id);
  const text = JSON.stringify(body);
  for (const key of [forged, gw.keys.good, gw.keys.good.slice(0, -1)]) {
    assert.ok(!text.includes(key.slice(9)), "no refusal echoes a key");
  }
});

test("imported keys count towards key_limit unless the call says otherwise", async () => {
  // limitforge has key_limit = 2.
  const three = () => Array.from({ length: 3 }, (_, i) => ({ sha256: sha256(`lf-${i}-${Math.random()}`).toString("hex"), product: "limitforge", name: `k${i}` }));
  const limited = await importKeys("acct_imp_5", { keys: three() });
  assert.deepEqual([limited.created, limited.refused], [2, 1]);
  assert.equal(limited.results[2].code, "key_limit_reached");
  // (Other keys: acct_imp_5 holds those, so another account is refused them.)
  const unlimited = await importKeys("acct_imp_6", { keys: three(), ignore_key_limit: true });
  assert.equal(unlimited.created, 3);
});

test("the call as a whole: 400 keys fit, more are refused, nothing half-lands", async () => {
  const keys = Array.from({ length: 400 }, (_, i) => ({
    sha256: sha256(`bulk-${i}-${Math.random()}`).toString("hex"),
    product: "forgeai",
    name: `imported key ${i}`,
    owner_id: `user_${String(i).padStart(8, "0")}`,
    scopes: ["execute_flows"],
  }));
  const text = JSON.stringify({ keys, ignore_key_limit: true });
  assert.ok(text.length > 65_536, "more than any other route's body");
  const body = await importKeys("acct_imp_7", text);
  assert.equal(body.created, 400);
  assert.equal(body.results.length, 400);

  const tooMany = await api("POST", "/accounts/acct_imp_8/keys/import", { keys: [...keys, keys[0]] });
  assert.equal(tooMany.status, 400, show(tooMany));
  assert.equal(tooMany.body.field, "keys");
  const unknown = await api("POST", "/accounts/acct_imp_8/keys/import", { keys: keys.slice(0, 1), force: true });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.code, "unknown_field");
  const huge = await api("POST", "/accounts/acct_imp_8/keys/import", JSON.stringify({ keys: [{ name: "x".repeat(600_000) }] }));
  assert.equal(huge.status, 413, show(huge));
  assert.equal(huge.body.code, "body_too_large");
  // The account was never made: nothing landed.
  assert.equal((await api("GET", "/accounts/acct_imp_8")).status, 404);
});

// --- the CLI -----------------------------------------------------------------

const CLI = process.env.KEYGATE_CLI ?? join(ROOT, "target/debug/keygate");

/** Runs the CLI; resolves { code, stdout, stderr }. `url`/`token` null: not given. */
function cli(args, { url = gw.url + ADMIN_PREFIX, token = gw.adminToken } = {}) {
  return new Promise((ok, fail) => {
    const env = { ...process.env };
    delete env.KEYGATE_ADMIN_TOKEN;
    delete env.KEYGATE_URL;
    if (token !== null) env.KEYGATE_ADMIN_TOKEN = token;
    const full = url === null ? args : [...args, "--url", url];
    const child = spawn(CLI, full, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", fail);
    child.on("close", (code) => ok({ code, stdout, stderr }));
  });
}

const file = (name, text) => {
  const path = join(gw.dir, name);
  writeFileSync(path, text);
  return path;
};

test("keygate keys import --dry-run checks a CSV and a JSON Lines file and sends nothing", async () => {
  const hex = sha256(`dry-${Math.random()}`).toString("hex");
  const csv = file("dry.csv", [
    "sha256,product,name,scopes,owner_id",
    `${hex},forgeai,"Acme, Inc.",execute_flows,user_1`,
    "not-a-digest,forgeai,bad hash,,",
    `${hex},nowhere,bad product,,`,
    `${hex},forgeai,same key again,,`,
  ].join("\n") + "\n");
  const config = join(gw.dir, "wrangler.toml");
  const dry = await cli(["keys", "import", "--account", "acct_imp_dry", "--file", csv, "--dry-run", "--config", config], { url: null, token: null });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /nothing was sent/);
  assert.match(dry.stdout, /would import 1, already present 1, refused 2/);
  assert.match(dry.stdout, /line 3: invalid_field \(sha256\)/);
  assert.match(dry.stdout, /line 4: invalid_field \(product\)/);

  const jsonl = file("dry.jsonl", [
    JSON.stringify({ key: gw.keys.cli, product: "forgeai", name: "plain" }),
    "",
    JSON.stringify({ sha256: hex, product: "forgeai", name: "" }),
    JSON.stringify({ sha256: hex, product: "forgeai", name: "x", colour: 1 }),
  ].join("\n"));
  const dryJsonl = await cli(["keys", "import", "--account", "acct_imp_dry", "--file", jsonl, "--dry-run", "--config", config], { url: null, token: null });
  assert.equal(dryJsonl.code, 0, dryJsonl.stderr);
  assert.match(dryJsonl.stdout, /would import 1, already present 0, refused 2/);
  assert.match(dryJsonl.stdout, /line 3: invalid_field \(name\)/);
  assert.match(dryJsonl.stdout, /line 4: unknown_field \(colour\)/);
  assert.ok(!(dryJsonl.stdout + dryJsonl.stderr).includes(gw.keys.cli), "the key is never printed");
  // Nothing reached the account.
  assert.equal((await api("GET", "/accounts/acct_imp_dry")).status, 404);
});

test("keygate keys import sends the file, shows progress, and a re-run imports nothing twice", async () => {
  const legacy = foreignKey();
  const jsonl = file("real.jsonl", [
    JSON.stringify({ key: gw.keys.cli, product: "forgeai", name: "plain", owner_id: "user_7" }),
    JSON.stringify({ sha256: sha256(legacy).toString("hex"), product: "forgeai", name: "legacy" }),
    JSON.stringify({ key: forgedKey("fai", "live"), product: "forgeai", name: "forged" }),
  ].join("\n") + "\n");
  const args = ["keys", "import", "--account", "acct_imp_cli", "--file", jsonl];
  const first = await cli(args);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /imported 3\/3 rows/);
  assert.match(first.stdout, /imported 2, already present 0, refused 1/);
  assert.match(first.stdout, /line 3: invalid_field \(key\): .*not minted by this deployment/);
  assert.ok(!(first.stdout + first.stderr).includes(gw.keys.cli), "the key is never printed");
  const keys = (await api("GET", "/accounts/acct_imp_cli/keys")).body.keys;
  assert.equal(keys.length, 2);
  forwarded(await edge(gw.keys.cli, "/v1/cli-plain"), keys.find((k) => k.name === "plain").id);
  forwarded(await edge(legacy, "/v1/cli-legacy"), keys.find((k) => k.name === "legacy").id);
  const again = await cli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /imported 0, already present 2, refused 1/);
  const csv = file("real.csv", `key,product,name\n${gw.keys.cli},forgeai,plain\n`);
  const fromCsv = await cli(["keys", "import", "--account", "acct_imp_cli", "--file", csv]);
  assert.equal(fromCsv.code, 0, fromCsv.stderr);
  assert.match(fromCsv.stdout, /imported 0, already present 1, refused 0/);
});

test("no plaintext key is in any log line", async () => {
  const printed = gw.lines.join("");
  for (const name of ["plain", "hashed", "again", "good", "cli"]) {
    assert.ok(!printed.includes(gw.keys[name]), `${name} is not logged`);
  }
  assert.ok(foreignKeys.length > 5);
  for (const key of foreignKeys) assert.ok(!printed.includes(key.slice(LEGACY.length)), "no foreign key is logged");
});
