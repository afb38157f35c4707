// Idempotency-Key and the paged key list, end to end on workerd (`wrangler
// dev`, with the Account Durable Object): a retried or duplicated create
// makes one key and answers the same (its key value, Location and ETag
// included); another body under the same Idempotency-Key is 422; a walk of
// every page of the key list sees each key once. Every management response
// is checked against the OpenAPI document first.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_PREFIX, ROOT, startGateway, startOrigin } from "./harness.mjs";
import { loadDocument, validateResponse } from "./openapi.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.manage.toml"), "utf8");
let origin, gw, doc;

before(async () => {
  doc = await loadDocument();
  origin = await startOrigin();
  gw = await startGateway({ template, origin: origin.url });
});

after(async () => {
  await gw?.stop();
  await origin?.stop();
});

const show = (res) => `${res.status} ${typeof res.body === "string" ? res.body : JSON.stringify(res.body)}`;

/** Calls the management API and checks the answer against the document. */
async function api(method, path, body, headers = {}) {
  const res = await gw.admin(method, path, body, { headers });
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
    throw new Error(`${method} ${path} -> ${show(res)}\ndoes not match the OpenAPI document: ${e.message}`);
  }
  return res;
}

function problem(res, status, code, field) {
  assert.equal(res.status, status, show(res));
  assert.equal(res.body.code, code, show(res));
  if (field !== undefined) assert.equal(res.body.field, field, show(res));
}

/** The ids of every key, walking the list `limit` at a time. */
async function walk(account, limit, filter = "") {
  const ids = [];
  let cursor = null;
  for (let pages = 0; pages < 100; pages++) {
    const query = `limit=${limit}${filter}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const res = await api("GET", `/accounts/${account}/keys?${query}`);
    assert.equal(res.status, 200, show(res));
    assert.ok(res.body.keys.length <= limit);
    ids.push(...res.body.keys.map((k) => k.id));
    cursor = res.body.next_cursor;
    if (cursor === null) return ids;
  }
  throw new Error("the walk did not end");
}

const create = (account, body, key) =>
  api("POST", `/accounts/${account}/keys`, body, key === undefined ? {} : { "Idempotency-Key": key });

test("a retried create answers the same, key value included, and makes one key", async () => {
  const account = "acct_idem_retry";
  const key = randomUUID();
  const body = { product: "forgeai", name: "CI" };
  const first = await create(account, body, key);
  assert.equal(first.status, 201, show(first));
  assert.match(first.body.key, /^fai_live_/);
  const again = await create(account, body, key);
  assert.equal(again.status, 201, show(again));
  assert.deepEqual(again.body, first.body);
  assert.ok(first.headers.get("location"));
  for (const header of ["location", "etag"]) {
    assert.equal(again.headers.get(header), first.headers.get(header), header);
  }
  // Each answer still has its own request id.
  assert.notEqual(again.headers.get("keygate-request-id"), first.headers.get("keygate-request-id"));
  assert.deepEqual(await walk(account, 10), [first.body.id]);
  // Without the header (or with another key), a create is a new key.
  const other = await create(account, body, randomUUID());
  assert.notEqual(other.body.id, first.body.id);
  assert.equal((await walk(account, 10)).length, 2);
});

test("the same Idempotency-Key with another body or path is 422 and changes nothing", async () => {
  const account = "acct_idem_reuse";
  const key = randomUUID();
  const first = await create(account, { product: "forgeai", name: "CI" }, key);
  assert.equal(first.status, 201, show(first));
  problem(await create(account, { product: "forgeai", name: "other" }, key), 422, "idempotency_key_reused");
  // The same body, serialised differently, is another body.
  const spaced = await api("POST", `/accounts/${account}/keys`, JSON.stringify({ product: "forgeai", name: "CI" }, null, 1), {
    "Idempotency-Key": key,
  });
  problem(spaced, 422, "idempotency_key_reused");
  problem(
    await api("POST", `/accounts/${account}/keys/${first.body.id}/rotate`, { grace_seconds: 0 }, { "Idempotency-Key": key }),
    422,
    "idempotency_key_reused",
  );
  assert.deepEqual(await walk(account, 10), [first.body.id]);
});

test("concurrent duplicates make one key and all get its answer", async () => {
  const account = "acct_idem_race";
  const key = randomUUID();
  const body = { product: "salesforge", name: "raced" };
  const answers = await Promise.all(Array.from({ length: 6 }, () => create(account, body, key)));
  for (const res of answers) {
    assert.equal(res.status, 201, show(res));
    assert.deepEqual(res.body, answers[0].body);
  }
  assert.deepEqual(await walk(account, 10), [answers[0].body.id]);
});

test("a retried rotate answers the same and rotates once", async () => {
  const account = "acct_idem_rotate";
  const made = await create(account, { product: "forgeai", name: "CI" });
  assert.equal(made.status, 201, show(made));
  const key = randomUUID();
  const rotate = () =>
    api("POST", `/accounts/${account}/keys/${made.body.id}/rotate`, { grace_seconds: 60 }, { "Idempotency-Key": key });
  const first = await rotate();
  assert.equal(first.status, 201, show(first));
  const again = await rotate();
  assert.equal(again.status, 201, show(again));
  assert.deepEqual(again.body, first.body);
  assert.equal(again.headers.get("location"), first.headers.get("location"));
  // Without the key, a second rotate of the same key is refused: it was rotated.
  problem(await api("POST", `/accounts/${account}/keys/${made.body.id}/rotate`, { grace_seconds: 0 }), 409, "key_not_active");
  assert.equal((await walk(account, 10)).length, 2);
});

test("a malformed Idempotency-Key is 400 naming the header, before anything changes", async () => {
  const account = "acct_idem_bad";
  for (const bad of ["has space", "k".repeat(256), "tab\there", "quote\"d,comma two"]) {
    problem(await create(account, { product: "forgeai", name: "CI" }, bad), 400, "invalid_field", "Idempotency-Key");
  }
  problem(await api("GET", `/accounts/${account}`), 404, "account_not_found");
  // The longest one is taken.
  const made = await create(account, { product: "forgeai", name: "CI" }, "k".repeat(255));
  assert.equal(made.status, 201, show(made));
  // Lookup changes nothing: the header is checked only.
  const lookup = (key) => api("POST", "/keys/lookup", { key: made.body.key }, { "Idempotency-Key": key });
  problem(await lookup("two words"), 400, "invalid_field", "Idempotency-Key");
  for (let n = 0; n < 2; n++) {
    const found = await lookup("lookup-1");
    assert.equal(found.status, 200, show(found));
    assert.equal(found.body.key.id, made.body.id);
  }
});

test("paging walks every key once, newest first, and filters by status", async () => {
  const account = "acct_idem_pages";
  const made = [];
  for (let n = 0; n < 7; n++) {
    const res = await create(account, { product: "salesforge", name: `k${n}` });
    assert.equal(res.status, 201, show(res));
    made.push(res.body.id);
  }
  const all = await walk(account, 2);
  assert.equal(all.length, 7);
  assert.equal(new Set(all).size, 7);
  assert.deepEqual([...all].sort(), [...made].sort());
  // Newest first: the last one made comes first (ties broken by id).
  const full = await api("GET", `/accounts/${account}/keys?limit=100`);
  assert.deepEqual(full.body.keys.map((k) => k.id), all);
  assert.equal(full.body.next_cursor, null);
  const times = full.body.keys.map((k) => Date.parse(k.created_at));
  assert.deepEqual(times, [...times].sort((a, b) => b - a));
  // Revoke two: status=active pages over the other five.
  for (const id of made.slice(0, 2)) {
    assert.equal((await api("DELETE", `/accounts/${account}/keys/${id}`)).status, 200);
  }
  const active = await walk(account, 2, "&status=active");
  assert.deepEqual([...active].sort(), [...made.slice(2)].sort());
  const revoked = await walk(account, 1, "&status=revoked");
  assert.deepEqual([...revoked].sort(), [...made.slice(0, 2)].sort());
  // A cursor is what a page gave, nothing else.
  for (const cursor of ["x", "1.key_short", "-1.key_00000000000000000"]) {
    problem(await api("GET", `/accounts/${account}/keys?cursor=${encodeURIComponent(cursor)}`), 400, "invalid_field", "cursor");
  }
  for (const limit of ["0", "101", "1.5"]) {
    problem(await api("GET", `/accounts/${account}/keys?limit=${limit}`), 400, "invalid_field", "limit");
  }
});
