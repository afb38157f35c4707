// Webhooks end to end, on workerd (`wrangler dev`) with a real receiver
// process (tests/e2e/webhook-receiver.mjs) that verifies every delivery with
// the official `standardwebhooks` npm library. Deliveries come from the
// account object's alarm; the config shortens the retry schedule to three
// attempts 0.7 s apart. Each test uses its own account and receiver names.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startGateway, startOrigin } from "./harness.mjs";
import { loadDocument, validateResponse } from "./openapi.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.webhooks.toml"), "utf8");

const GITLAB_TOKEN = randomBytes(24).toString("hex");
let receiver, gw, doc;

before(async () => {
  doc = await loadDocument();
  receiver = await startOrigin("tests/e2e/webhook-receiver.mjs");
  const started = await startGateway({
    template,
    origin: receiver.url,
    vars: { KEYGATE_GITLAB_REVOCATION_TOKEN: GITLAB_TOKEN },
  });
  // Every management response is checked against the OpenAPI document.
  gw = {
    ...started,
    admin: async (method, path, body, options) => {
      const res = await started.admin(method, path, body, options);
      validateResponse(doc, {
        method,
        path: path.split("?")[0],
        status: res.status,
        contentType: res.type,
        body: res.body,
        headers: res.headers,
      });
      return res;
    },
  };
});

after(async () => {
  await gw?.stop();
  await receiver?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const unique = (what) => `${what}-${randomBytes(4).toString("hex")}`;
const show = (res) => `${res.status} ${typeof res.body === "string" ? res.body : JSON.stringify(res.body)}`;

async function secrets(name, list) {
  const res = await fetch(`${receiver.url}/_admin/secrets`, {
    method: "POST",
    body: JSON.stringify({ name, secrets: list }),
  });
  assert.equal(res.status, 200);
}

async function log(name) {
  const res = await fetch(`${receiver.url}/_admin/log?name=${encodeURIComponent(name)}`);
  return res.json();
}

/** Waits until `name`'s deliveries satisfy `done`; returns them. */
async function waitFor(name, done, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let seen = [];
  while (Date.now() < deadline) {
    seen = await log(name);
    if (done(seen)) return seen;
    await sleep(200);
  }
  assert.fail(`${what}: timed out; ${name} received ${JSON.stringify(seen.map((d) => d.body))}`);
}

const typesOf = (deliveries) => deliveries.map((d) => JSON.parse(d.body).type);

/** Creates a key whose webhook is the receiver's /<mode>/<name>; registers its secret. */
async function keyWithHook(account, mode, name, product = "forgeai") {
  const res = await gw.admin("POST", `/accounts/${account}/keys`, {
    product,
    name,
    webhook_url: `${receiver.url}/${mode}/${name}`,
  });
  assert.equal(res.status, 201, show(res));
  assert.match(res.body.webhook_secret, /^whsec_/);
  await secrets(name, [res.body.webhook_secret]);
  return res.body;
}

/** Registers an account-level endpoint at the receiver's /ok/<name>. */
async function endpoint(account, name, eventTypes = []) {
  const res = await gw.admin("POST", `/accounts/${account}/webhooks`, {
    url: `${receiver.url}/ok/${name}`,
    event_types: eventTypes,
  });
  assert.equal(res.status, 201, show(res));
  assert.match(res.body.id, /^whk_[0-9a-f]{24}$/);
  await secrets(name, [res.body.secret]);
  return res.body;
}

function assertVerified(deliveries) {
  for (const d of deliveries) {
    assert.deepEqual(d.verified_by, [true], `the official library verifies ${d.body}`);
    assert.match(d.headers["webhook-id"], /^msg_[0-9a-f]{32}$/);
    assert.equal(d.headers["content-type"], "application/json");
    const body = JSON.parse(d.body);
    assert.deepEqual(Object.keys(body), ["type", "timestamp", "data"]);
    assert.doesNotMatch(d.body, /whsec_/, "no secret in a payload");
  }
}

describe("delivery", () => {
  test("every event type reaches the key's webhook and the account's endpoint, verified by the official library", async () => {
    const account = unique("acct-events");
    const hook = unique("key");
    const ops = unique("ops");
    const first = await keyWithHook(account, "ok", hook);
    await endpoint(account, ops);

    let res = await gw.admin("PATCH", `/accounts/${account}/keys/${first.id}`, { name: "renamed" });
    assert.equal(res.status, 200, show(res));
    res = await gw.admin("POST", `/accounts/${account}/keys/${first.id}/rotate`, { grace_seconds: 60 });
    assert.equal(res.status, 201, show(res));
    const second = res.body;
    res = await gw.admin("PATCH", `/accounts/${account}`, { status: "suspended" });
    assert.equal(res.status, 200, show(res));
    res = await gw.admin("PATCH", `/accounts/${account}`, { status: "active" });
    assert.equal(res.status, 200, show(res));
    res = await gw.admin("POST", `/accounts/${account}/keys/${second.id}/events`, {
      type: "job.completed",
      data: { job: "j_1" },
    });
    assert.equal(res.status, 202, show(res));
    assert.equal(res.body.type, "job.completed");
    res = await gw.admin("DELETE", `/accounts/${account}/keys/${second.id}`);
    assert.equal(res.status, 200, show(res));
    // limitforge allows one working key: the second create is refused.
    res = await gw.admin("POST", `/accounts/${account}/keys`, { product: "limitforge", name: "one" });
    assert.equal(res.status, 201, show(res));
    res = await gw.admin("POST", `/accounts/${account}/keys`, { product: "limitforge", name: "two" });
    assert.equal(res.status, 409, show(res));

    const keyTypes = [
      "key.created", "key.updated", "key.rotated", "account.suspended", "account.reactivated",
      "job.completed", "key.revoked",
    ];
    const toKey = await waitFor(
      hook,
      (d) => keyTypes.every((t) => typesOf(d).includes(t)),
      "the key's webhook",
    );
    assertVerified(toKey);
    const endpointTypes = [
      "key.created", "key.updated", "key.rotated", "account.suspended", "account.reactivated",
      "key.revoked", "key.limit_reached",
    ];
    const toEndpoint = await waitFor(
      ops,
      (d) => endpointTypes.every((t) => typesOf(d).includes(t)),
      "the account endpoint",
    );
    assertVerified(toEndpoint);
    assert.ok(!typesOf(toEndpoint).includes("job.completed"), "a relay goes to the key's webhook only");

    const byType = (list, type) => JSON.parse(list.find((d) => JSON.parse(d.body).type === type).body);
    const created = byType(toKey, "key.created");
    assert.equal(created.data.key_id, first.id);
    assert.equal(created.data.account, account);
    assert.equal(created.data.key.id, first.id);
    assert.equal(created.data.key.webhook_secret, undefined);
    assert.deepEqual(byType(toKey, "key.updated").data.changed, ["name"]);
    assert.equal(byType(toKey, "key.rotated").data.new_key_id, second.id);
    assert.deepEqual(byType(toKey, "job.completed").data, { job: "j_1" });
    assert.equal(byType(toEndpoint, "key.limit_reached").data.limit, 1);
    // Each event has its own webhook-id; the key and the endpoint each get it once.
    const ids = toKey.map((d) => d.headers["webhook-id"]);
    assert.equal(new Set(ids).size, ids.length);
  });

  test("a receiver that fails twice, then answers 200, sees the same webhook-id three times", async () => {
    const account = unique("acct-retry");
    const hook = unique("flaky");
    const key = await keyWithHook(account, "fail2", hook);
    const seen = await waitFor(hook, (d) => d.length >= 3, "three attempts");
    await sleep(1500);
    const all = await log(hook);
    assert.equal(all.length, 3, "no attempt after the 200");
    assertVerified(all);
    assert.equal(new Set(all.map((d) => d.headers["webhook-id"])).size, 1);
    assert.ok(seen[1].at - seen[0].at >= 500, "the retry waits its turn in the schedule");

    const res = await gw.admin("GET", `/accounts/${account}/keys/${key.id}/deliveries`);
    assert.equal(res.status, 200, show(res));
    const [delivery] = res.body.deliveries;
    assert.equal(delivery.status, "delivered");
    assert.equal(delivery.attempts, 3);
    assert.equal(delivery.event_id, all[0].headers["webhook-id"]);
    assert.deepEqual(delivery.log.map((a) => a.status), [500, 500, 200]);
    assert.ok(delivery.log.every((a) => typeof a.latency_ms === "number"));
    assert.equal(delivery.next_attempt_at, null);
    const view = await gw.admin("GET", `/accounts/${account}/keys/${key.id}`);
    assert.equal(view.body.webhook.state, "healthy", "the last attempt succeeded: " + show(view));
    assert.equal(view.body.webhook.last_attempt.status, 200);
    assert.equal(view.body.webhook.retrying_deliveries, 0);
  });

  test("a 410 disables the webhook, and the disabling is an event", async () => {
    const account = unique("acct-gone");
    const hook = unique("gone");
    const ops = unique("ops-gone");
    // The endpoint first, so it exists when the key is created.
    const res0 = await gw.admin("POST", `/accounts/${account}/keys`, { product: "forgeai", name: "seed" });
    assert.equal(res0.status, 201, show(res0));
    await endpoint(account, ops, ["webhook.disabled"]);
    const key = await keyWithHook(account, "gone", hook);
    await waitFor(hook, (d) => d.length >= 1, "the first attempt");
    const told = await waitFor(ops, (d) => d.length >= 1, "webhook.disabled");
    assertVerified(told);
    const event = JSON.parse(told[0].body);
    assert.equal(event.type, "webhook.disabled");
    assert.deepEqual(event.data.webhook, { kind: "key", id: key.id });
    assert.equal(event.data.status, 410);

    let res = await gw.admin("PATCH", `/accounts/${account}/keys/${key.id}`, { name: "after" });
    assert.equal(res.status, 200, show(res));
    res = await gw.admin("POST", `/accounts/${account}/keys/${key.id}/events`, { type: "job.done", data: {} });
    assert.equal(res.status, 409, show(res));
    assert.equal(res.body.code, "webhook_unavailable");
    await sleep(2000);
    assert.equal((await log(hook)).length, 1, "nothing more is sent after a 410");
    res = await gw.admin("GET", `/accounts/${account}/keys/${key.id}/deliveries`);
    assert.equal(res.body.deliveries.at(-1).status, "disabled");
    res = await gw.admin("GET", `/accounts/${account}/keys/${key.id}`);
    assert.equal(res.body.webhook.state, "disabled", "the key's view shows it: " + show(res));
    assert.match(res.body.webhook.disabled_at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(res.body.webhook.last_attempt.status, 410);
    res = await gw.admin("GET", `/accounts/${account}/events`);
    const recorded = res.body.events.find((e) => e.type === "webhook.disabled");
    assert.ok(recorded, "the disabling is in the audit log: " + show(res));
    assert.equal(recorded.key_id, key.id);
    assert.deepEqual({ ...recorded.data }, { webhook: { kind: "key", id: key.id }, url: `${receiver.url}/gone/${hook}`, status: 410 });
  });

  test("a redirect is never followed, and a failed delivery can be retried by hand", async () => {
    const account = unique("acct-redirect");
    const hook = unique("moved");
    const key = await keyWithHook(account, "redirect", hook);
    await waitFor(hook, (d) => d.length >= 3, "three attempts");
    let res;
    for (let i = 0; i < 50; i++) {
      res = await gw.admin("GET", `/accounts/${account}/keys/${key.id}/deliveries`);
      if (res.body.deliveries?.[0]?.status === "failed") break;
      await sleep(200);
    }
    const [delivery] = res.body.deliveries;
    assert.equal(delivery.status, "failed", show(res));
    assert.deepEqual(delivery.log.map((a) => a.status), [302, 302, 302]);
    assert.match(delivery.log[0].error, /redirects are not followed/);
    assert.deepEqual(await log(`${hook}-followed`), [], "the redirect target is never contacted");
    const view = await gw.admin("GET", `/accounts/${account}/keys/${key.id}`);
    assert.deepEqual(
      { state: view.body.webhook.state, failed: view.body.webhook.failed_deliveries, status: view.body.webhook.last_attempt.status },
      { state: "failing", failed: 1, status: 302 },
      "the key's view shows the failing webhook: " + show(view),
    );
    assert.match(view.body.webhook.last_attempt.error, /redirects are not followed/);

    res = await gw.admin("POST", `/accounts/${account}/keys/${key.id}/deliveries/${delivery.id}/retry`);
    assert.equal(res.status, 202, show(res));
    const again = await waitFor(hook, (d) => d.length >= 4, "the manual retry");
    assert.equal(again[3].headers["webhook-id"], again[0].headers["webhook-id"]);

    res = await gw.admin("POST", `/accounts/${account}/keys/${key.id}/deliveries/dlv_000000000000000000000000/retry`);
    assert.equal(res.status, 404, show(res));
    assert.equal(res.body.code, "webhook_not_found");
  });

  test("internal addresses are refused as webhook targets", async () => {
    const account = unique("acct-ssrf");
    for (const url of [
      "https://10.0.0.1/hook",
      "https://169.254.169.254/latest/meta-data",
      "http://192.168.1.1/x",
      "https://[fd00::1]/x",
      "ftp://example.com/x",
      "https://user:pw@example.com/x",
    ]) {
      let res = await gw.admin("POST", `/accounts/${account}/keys`, { product: "forgeai", name: "k", webhook_url: url });
      assert.equal(res.status, 400, `${url}: ${show(res)}`);
      res = await gw.admin("POST", `/accounts/${account}/webhooks`, { url });
      assert.equal(res.status, 400, `${url}: ${show(res)}`);
    }
  });
});

describe("send-time name resolution", () => {
  test("a public name that resolves to a private address is never sent to", async () => {
    const account = unique("acct-dns");
    const firstError = async (url) => {
      const res = await gw.admin("POST", `/accounts/${account}/keys`, { product: "forgeai", name: "dns", webhook_url: url });
      assert.equal(res.status, 201, `${url} is a public name when registered: ${show(res)}`);
      for (let i = 0; i < 100; i++) {
        const list = await gw.admin("GET", `/accounts/${account}/keys/${res.body.id}/deliveries`);
        const error = list.body.deliveries?.[0]?.log?.[0]?.error;
        if (error) return error;
        await sleep(100);
      }
      assert.fail(`no attempt to ${url}`);
    };
    assert.match(
      await firstError("https://hooks.inward.test/h"),
      /^not sent: hooks\.inward\.test resolves to an address that is not public: its host is a private network address$/,
    );
    assert.match(await firstError("https://gone.nowhere.test/h"), /could not be resolved: the name does not exist/);
    // Resolved to a public address, it passes the check, and only the dev
    // rule (this machine only) keeps it from the Internet.
    assert.match(await firstError("https://hooks.public.test/h"), /KEYGATE_DEV sends webhooks only to this machine/);
    const lookups = await (await fetch(`${receiver.url}/_admin/lookups`)).json();
    const asked = lookups.filter((l) => l.name === "hooks.inward.test");
    assert.deepEqual([...new Set(asked.map((l) => l.type))].sort(), ["A", "AAAA"], "both record types");
    assert.ok(asked.every((l) => l.accept === "application/dns-json"));
    assert.ok(!lookups.some((l) => l.name === "127.0.0.1" || l.name === "localhost"), "this machine is never looked up");
  });
});

describe("time-based events", () => {
  test("an expiring key produces key.expiring and key.expired with no other traffic", async () => {
    const account = unique("acct-expiry");
    const hook = unique("expiring");
    const ops = unique("ops-expiry");
    let res = await gw.admin("POST", `/accounts/${account}/keys`, { product: "expireforge", name: "seed" });
    assert.equal(res.status, 201, show(res));
    await endpoint(account, ops, ["key.expiring", "key.expired"]);
    const expiresAt = Math.floor(Date.now() / 1000) + 9;
    const expiresIso = new Date(expiresAt * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    res = await gw.admin("POST", `/accounts/${account}/keys`, {
      product: "expireforge",
      name: hook,
      expires_at: expiresIso,
      webhook_url: `${receiver.url}/ok/${hook}`,
    });
    assert.equal(res.status, 201, show(res));
    await secrets(hook, [res.body.webhook_secret]);
    const keyId = res.body.id;
    // No request to keygate from here on: the account object's alarm alone.
    const toKey = await waitFor(hook, (d) => typesOf(d).includes("key.expired"), "key.expired", 30_000);
    assertVerified(toKey);
    assert.deepEqual(typesOf(toKey), ["key.created", "key.expiring", "key.expired"]);
    const expiring = JSON.parse(toKey[1].body);
    assert.equal(expiring.data.key_id, keyId);
    assert.equal(expiring.data.seconds_before, 4);
    assert.equal(expiring.data.expires_at, expiresIso);
    assert.ok(toKey[1].at >= (expiresAt - 4) * 1000 - 1000, "not before its moment");
    assert.ok(toKey[2].at >= expiresAt * 1000 - 1000, "key.expired at the expiry");
    assert.equal(JSON.parse(toKey[2].body).data.expired_at, expiresIso);
    const toEndpoint = await waitFor(ops, (d) => d.length >= 2, "the endpoint's reminders");
    assertVerified(toEndpoint);
    assert.deepEqual(typesOf(toEndpoint), ["key.expiring", "key.expired"]);
    await sleep(1500);
    assert.equal((await log(hook)).length, 3, "each reminder once");
  });
});

describe("secret rotation", () => {
  test("after a rotation each delivery carries both signatures, each verified by the official library", async () => {
    const account = unique("acct-rotate");
    const hook = unique("rotating");
    const key = await keyWithHook(account, "ok", hook);
    await waitFor(hook, (d) => d.length >= 1, "key.created");
    const res = await gw.admin("POST", `/accounts/${account}/keys/${key.id}/webhook-secret/rotate`);
    assert.equal(res.status, 200, show(res));
    const fresh = res.body.webhook_secret;
    assert.match(fresh, /^whsec_/);
    assert.notEqual(fresh, key.webhook_secret);
    const until = Date.parse(res.body.previous_secret_expires_at);
    assert.ok(Math.abs(until - Date.now() - 86_400_000) < 60_000, "the old secret signs for 24 h");
    await secrets(hook, [key.webhook_secret, fresh]);
    const patched = await gw.admin("PATCH", `/accounts/${account}/keys/${key.id}`, { name: "after-rotation" });
    assert.equal(patched.status, 200, show(patched));
    const seen = await waitFor(hook, (d) => d.length >= 2, "key.updated");
    const [before, after] = seen;
    assert.deepEqual(before.verified_by, [true, false], "before: the old secret only");
    assert.equal(after.headers["webhook-signature"].split(" ").length, 2);
    assert.deepEqual(after.verified_by, [true, true], "both secrets verify during the overlap");
    // The key's view never shows a secret.
    const view = await gw.admin("GET", `/accounts/${account}/keys/${key.id}`);
    assert.ok(!JSON.stringify(view.body).includes(fresh));
    const none = await gw.admin("POST", `/accounts/${account}/keys`, { product: "forgeai", name: "no-hook" });
    const refused = await gw.admin("POST", `/accounts/${account}/keys/${none.body.id}/webhook-secret/rotate`);
    assert.equal(refused.status, 409, show(refused));
  });
});

describe("account endpoints", () => {
  test("the secret is shown once; list and delete", async () => {
    const account = unique("acct-endpoints");
    let res = await gw.admin("GET", `/accounts/${account}/webhooks`);
    assert.equal(res.status, 404, show(res));
    res = await gw.admin("POST", `/accounts/${account}/keys`, { product: "forgeai", name: "k" });
    assert.equal(res.status, 201, show(res));
    const name = unique("ep");
    const created = await endpoint(account, name, ["key.revoked"]);
    res = await gw.admin("GET", `/accounts/${account}/webhooks`);
    assert.equal(res.status, 200, show(res));
    assert.equal(res.body.webhooks.length, 1);
    assert.equal(res.body.webhooks[0].id, created.id);
    assert.deepEqual(res.body.webhooks[0].event_types, ["key.revoked"]);
    assert.equal(res.body.webhooks[0].secret, undefined);
    assert.ok(!JSON.stringify(res.body).includes(created.secret));

    res = await gw.admin("POST", `/accounts/${account}/webhooks`, { url: `${receiver.url}/ok/x`, event_types: ["key.nope"] });
    assert.equal(res.status, 400, show(res));
    assert.equal(res.body.field, "event_types[0]");

    res = await gw.admin("DELETE", `/accounts/${account}/webhooks/${created.id}`);
    assert.equal(res.status, 204, show(res));
    res = await gw.admin("DELETE", `/accounts/${account}/webhooks/${created.id}`);
    assert.equal(res.status, 404, show(res));
    res = await gw.admin("DELETE", `/accounts/${account}/webhooks/not-an-id`);
    assert.equal(res.status, 400, show(res));
    assert.equal(res.body.code, "invalid_id");
  });

  test("a relay needs a webhook and a type outside keygate's namespaces", async () => {
    const account = unique("acct-relay");
    let res = await gw.admin("POST", `/accounts/${account}/keys`, { product: "forgeai", name: "plain" });
    const plain = res.body;
    res = await gw.admin("POST", `/accounts/${account}/keys/${plain.id}/events`, { type: "job.done", data: {} });
    assert.equal(res.status, 409, show(res));
    const hook = unique("relay");
    const key = await keyWithHook(account, "ok", hook);
    res = await gw.admin("POST", `/accounts/${account}/keys/${key.id}/events`, { type: "key.revoked", data: {} });
    assert.equal(res.status, 400, show(res));
    assert.equal(res.body.field, "type");
    res = await gw.admin("POST", `/accounts/${account}/keys/${key.id}/events`, { type: "job.done", data: [] });
    assert.equal(res.status, 400, show(res));
    res = await gw.admin("POST", `/accounts/${account}/keys/${key.id}/events`, { type: "job.done", extra: 1 });
    assert.equal(res.status, 400, show(res));
    assert.equal(res.body.code, "unknown_field");
    res = await gw.admin("POST", `/accounts/${account}/keys/${key.id}/events`, { type: "job.done", data: { n: 1 } }, { token: null });
    assert.equal(res.status, 401, show(res));
  });
});

describe("leaked keys", () => {
  const github = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const KEY_ID = "e2e-" + randomBytes(8).toString("hex");
  const signed = (body, key = github.privateKey) => sign("sha256", Buffer.from(body), key).toString("base64");
  const sha256 = (text) => createHash("sha256").update(text).digest("hex");
  const report = (body, signature, keyId = KEY_ID) =>
    fetch(`${gw.url}${gw.adminPrefix}/leaks/github`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "Github-Public-Key-Identifier": keyId,
        "Github-Public-Key-Signature": signature,
      },
      body,
    });
  const through = (key) =>
    fetch(`${gw.url}/strictforge/data`, { headers: { "X-Strictforge-Key": key } });

  before(async () => {
    const pem = github.publicKey.export({ type: "spki", format: "pem" });
    const res = await fetch(`${receiver.url}/_admin/github-keys`, {
      method: "POST",
      body: JSON.stringify({ public_keys: [{ key_identifier: KEY_ID, key: pem, is_current: true }] }),
    });
    assert.equal(res.status, 200);
  });

  test("a bad signature is refused with 401 and changes nothing", async () => {
    const account = unique("acct-badleak");
    const created = await gw.admin("POST", `/accounts/${account}/keys`, { product: "strictforge", name: "k" });
    assert.equal(created.status, 201, show(created));
    const key = created.body.key;
    const body = JSON.stringify([{ token: key, type: "keygate_st_key", url: "https://github.com/o/r/blob/x", source: "content" }]);
    for (const [what, res] of [
      ["signed by another key", await report(body, signed(body, stranger.privateKey))],
      ["signed over other bytes", await report(body, signed(body + " "))],
      ["an unknown key id", await report(body, signed(body), "nope")],
      ["no signature", await report(body, "")],
    ]) {
      assert.equal(res.status, 401, what);
      await res.arrayBuffer();
    }
    const res = await through(key);
    assert.equal(res.status, 200, "the key still works");
    await res.arrayBuffer();
    const view = await gw.admin("GET", `/accounts/${account}/keys/${created.body.id}`);
    assert.equal(view.body.status, "active");
  });

  test("a GitHub report signed with the published key revokes a live key; the edge refuses it next request", async () => {
    const account = unique("acct-leak");
    const hook = unique("leaked");
    const created = await keyWithHook(account, "ok", hook, "strictforge");
    const key = created.key;
    let res = await through(key);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const bogus = "st_live_" + "A".repeat(58);
    const body = JSON.stringify([
      { token: key, type: "keygate_st_key", url: "https://github.com/o/r/blob/main/.env", source: "content" },
      { token: bogus, type: "keygate_st_key", url: "https://github.com/o/r/blob/main/x", source: "content" },
    ]);
    res = await report(body, signed(body));
    assert.equal(res.status, 200);
    const answer = await res.json();
    assert.deepEqual(answer, [
      { token_hash: sha256(key), token_type: "keygate_st_key", label: "true_positive" },
      { token_hash: sha256(bogus), token_type: "keygate_st_key", label: "false_positive" },
    ]);
    assert.ok(!JSON.stringify(answer).includes(key), "the answer never echoes a token");
    // Strict mode asks the account's object: refused at once.
    res = await through(key);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).code, "revoked_key");
    const leaked = await waitFor(hook, (d) => typesOf(d).includes("key.leaked"), "key.leaked");
    assertVerified(leaked);
    const event = JSON.parse(leaked.find((d) => JSON.parse(d.body).type === "key.leaked").body);
    assert.equal(event.data.url, "https://github.com/o/r/blob/main/.env");
    assert.equal(event.data.action, "revoked");
    assert.equal(event.data.reporter, "github");
    const audit = await gw.admin("GET", `/accounts/${account}/events`);
    const types = audit.body.events.map((e) => e.type);
    assert.deepEqual(types.slice(0, 2), ["key.revoked", "key.leaked"], "newest first: the leak, then its revocation");
    const recorded = audit.body.events[1];
    assert.equal(recorded.key_id, created.id);
    assert.deepEqual(
      { ...recorded.data },
      {
        reporter: "github",
        url: "https://github.com/o/r/blob/main/.env",
        source: "content",
        action: "revoked",
        occurrences: 1,
        earlier_repeats: 0,
      },
    );
    // Reported again, it is no longer live.
    res = await report(body, signed(body));
    assert.equal((await res.json())[0].label, "false_positive");
  });

  test("GitLab's revocation API takes its bearer token and revokes", async () => {
    const auth = { Authorization: `Bearer ${GITLAB_TOKEN}` };
    let res = await fetch(`${gw.url}${gw.adminPrefix}/leaks/gitlab/revocable_token_types`, { headers: auth });
    assert.equal(res.status, 200);
    const { types } = await res.json();
    assert.ok(types.includes("keygate_st_key") && types.includes("keygate_fai_key"), JSON.stringify(types));
    res = await fetch(`${gw.url}${gw.adminPrefix}/leaks/gitlab/revocable_token_types`, {
      headers: { Authorization: `Bearer ${gw.adminToken}` },
    });
    assert.equal(res.status, 401, "the admin token is not GitLab's");
    await res.arrayBuffer();

    const account = unique("acct-gitlab");
    const created = await gw.admin("POST", `/accounts/${account}/keys`, { product: "strictforge", name: "k" });
    const revoke = JSON.stringify([{ type: "keygate_st_key", token: created.body.key, location: "https://gitlab.com/g/p/-/blob/main/.env" }]);
    res = await fetch(`${gw.url}${gw.adminPrefix}/leaks/gitlab/revoke_tokens`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: revoke,
    });
    assert.equal(res.status, 204);
    res = await through(created.body.key);
    assert.equal(res.status, 401);
    await res.arrayBuffer();
    res = await fetch(`${gw.url}${gw.adminPrefix}/leaks/gitlab/revoke_tokens`, { method: "POST", body: revoke });
    assert.equal(res.status, 401);
    await res.arrayBuffer();
  });

  // Issue 18 (Low 5): on_leak = "flag" keeps the key live, so one report
  // listing it 50 times made 50 events and deliveries, and a replay as many.
  test("a flagged key listed 50 times, and the report replayed, makes one key.leaked", async () => {
    const account = unique("acct-flag");
    const hook = unique("flagged");
    const created = await keyWithHook(account, "ok", hook, "flagforge");
    const entry = { token: created.key, type: "keygate_fl_key", url: "https://github.com/o/r/blob/main/.env", source: "content" };
    const body = JSON.stringify(Array.from({ length: 50 }, () => entry));
    let res = await report(body, signed(body));
    assert.equal(res.status, 200);
    const answer = await res.json();
    assert.equal(answer.length, 50, "every entry is answered");
    assert.ok(answer.every((f) => f.label === "true_positive" && f.token_hash === sha256(created.key)));
    await waitFor(hook, (d) => typesOf(d).includes("key.leaked"), "key.leaked");
    res = await report(body, signed(body));
    assert.equal(res.status, 200);
    assert.ok((await res.json()).every((f) => f.label === "true_positive"), "still live");
    await sleep(2_000);
    const deliveries = await log(hook);
    const leaked = deliveries.filter((d) => JSON.parse(d.body).type === "key.leaked");
    assert.equal(leaked.length, 1, typesOf(deliveries).join(","));
    assertVerified(leaked);
    const data = JSON.parse(leaked[0].body).data;
    assert.equal(data.occurrences, 50);
    assert.equal(data.earlier_repeats, 0);
    assert.equal(data.action, "flagged");
    const audit = await gw.admin("GET", `/accounts/${account}/events`);
    assert.equal(audit.body.events.filter((e) => e.type === "key.leaked").length, 1);
    res = await fetch(`${gw.url}/flagforge/x`, { headers: { "X-Flagforge-Key": created.key } });
    assert.equal(res.status, 200, "a flagged key keeps working");
    await res.arrayBuffer();
  });

  // README promised both; the audit log had them, the deliveries did not.
  test("a delivered key.revoked carries its audit data: the leak's reason, the replacement revoked", async () => {
    const account = unique("acct-payload");
    const hook = unique("payload");
    const leakedKey = await keyWithHook(account, "ok", hook, "strictforge");
    const body = JSON.stringify([{ token: leakedKey.key, type: "keygate_st_key", url: "https://github.com/o/r/blob/main/x", source: "content" }]);
    let res = await report(body, signed(body));
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    let seen = await waitFor(hook, (d) => typesOf(d).includes("key.revoked"), "key.revoked");
    const revoked = JSON.parse(seen.find((d) => JSON.parse(d.body).type === "key.revoked").body);
    assert.equal(revoked.data.reason, "leaked");
    assert.equal(revoked.data.reporter, "github");
    assert.equal(revoked.data.url, "https://github.com/o/r/blob/main/x");

    const hook2 = unique("grace");
    const old = await keyWithHook(account, "ok", hook2, "forgeai");
    res = await gw.admin("POST", `/accounts/${account}/keys/${old.id}/rotate`, { grace_seconds: 3600 });
    assert.equal(res.status, 201, show(res));
    const replacement = res.body.id;
    res = await gw.admin("DELETE", `/accounts/${account}/keys/${replacement}`);
    assert.equal(res.status, 200, show(res));
    seen = await waitFor(
      hook2,
      (d) => d.some((x) => JSON.parse(x.body).type === "key.revoked" && JSON.parse(x.body).data.key_id === old.id),
      "the old key's key.revoked",
    );
    const ended = JSON.parse(seen.find((d) => {
      const e = JSON.parse(d.body);
      return e.type === "key.revoked" && e.data.key_id === old.id;
    }).body);
    assert.equal(ended.data.replacement_revoked, replacement);
    const audit = await gw.admin("GET", `/accounts/${account}/events`);
    const recorded = audit.body.events.find((e) => e.type === "key.revoked" && e.key_id === old.id);
    for (const [name, value] of Object.entries(recorded.data)) {
      assert.deepEqual(ended.data[name], value, name);
    }
  });
});
