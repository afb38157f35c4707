// Self-test of the OpenAPI document and its validators. Starts no server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkDocument, loadDocument, validateResponse } from "./openapi.mjs";

const doc = loadDocument();
const copy = () => structuredClone(doc);

const ACCOUNT = "acct_42";
const KEY_ID = "key_8Hq2Xn1Lr5Tb7Vc9Z";
const NEW_KEY_ID = "key_1Bv9Kc3Mn5Pq7Rs2T";
const KEY_PATH = `/accounts/${ACCOUNT}/keys/${KEY_ID}`;
const JSON_TYPE = "application/json";
const PROBLEM_TYPE = "application/problem+json";

const keyView = (over = {}) => ({
  id: KEY_ID,
  name: "CI pipeline",
  product: "forgeai",
  environment: "live",
  prefix: "fai_live_Ab12",
  masked: "fai_live_Ab12\u20269xQz",
  scopes: ["read", "execute_flows"],
  status: "active",
  created_at: "2026-11-23T06:40:00Z",
  expires_at: "2027-02-21T06:40:00Z",
  revoked_at: null,
  last_used_at: null,
  webhook_url: null,
  replaced_by: null,
  owner_id: null,
  enabled: true,
  meta: null,
  allowed_ips: [],
  ...over,
});
const createdKey = (over = {}) => ({
  ...keyView(),
  key: "fai_live_Ab12" + "x7".repeat(24) + "Qz" + "9xQz",
  ...over,
});
const problem = (code, status, over = {}) => ({
  type: `urn:keygate:error:${code}`,
  title: "Something",
  status,
  code,
  detail: "What went wrong and what to do.",
  ...over,
});
const event = (over = {}) => ({
  id: "evt_12",
  type: "key.created",
  at: "2026-11-23T06:40:00Z",
  key_id: KEY_ID,
  product: "forgeai",
  data: { name: "CI pipeline", scopes: ["read"], expires_at: null },
  ...over,
});

const ok = (res) => validateResponse(doc, res);
const rejects = (res, pattern) => assert.throws(() => validateResponse(doc, res), pattern);

// ---- the document ----------------------------------------------------------------

test("the document is a valid OpenAPI 3.1 document with the agreed shape", () => {
  checkDocument(doc);
  assert.equal(doc.openapi, "3.1.0");
  assert.equal(doc.info.title, "keygate management API");
  assert.equal(doc.info.version, "1");
  assert.deepEqual(doc.servers, [{ url: "/_keygate/v1", description: doc.servers[0].description }]);
  assert.deepEqual(doc.security, [{ adminToken: [] }]);
  assert.deepEqual(doc.components.securitySchemes.adminToken.type, "http");
  assert.deepEqual(doc.components.securitySchemes.adminToken.scheme, "bearer");
  assert.deepEqual(doc.paths["/openapi.json"].get.security, []);
  for (const name of [
    "KeyView", "CreatedKey", "RotatedKey", "KeyList", "Account", "Event", "EventPage",
    "CreateKey", "UpdateKey", "RotateKey", "UpdateAccount", "Problem", "LookupKey", "FoundKey",
  ]) {
    assert.ok(doc.components.schemas[name], `schema ${name}`);
  }
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([k]) => k !== "parameters")
      .map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
  );
  assert.deepEqual(operations.sort(), [
    "DELETE /accounts/{account}/keys/{id} revokeKey",
    "GET /accounts/{account} getAccount",
    "GET /accounts/{account}/events listEvents",
    "GET /accounts/{account}/keys listKeys",
    "GET /accounts/{account}/keys/{id} getKey",
    "GET /openapi.json getOpenApi",
    "PATCH /accounts/{account} updateAccount",
    "PATCH /accounts/{account}/keys/{id} updateKey",
    "POST /accounts/{account}/keys createKey",
    "POST /accounts/{account}/keys/import importKeys",
    "POST /accounts/{account}/keys/{id}/rotate rotateKey",
    "POST /keys/lookup lookupKey",
    "POST /verify verifyKey",
    "GET /accounts/{account}/webhooks listWebhooks",
    "POST /accounts/{account}/webhooks createWebhook",
    "DELETE /accounts/{account}/webhooks/{webhook_id} deleteWebhook",
    "POST /accounts/{account}/keys/{id}/events relayEvent",
    "GET /accounts/{account}/keys/{id}/deliveries listDeliveries",
    "POST /accounts/{account}/keys/{id}/deliveries/{delivery_id}/retry retryDelivery",
    "POST /accounts/{account}/keys/{id}/webhook-secret/rotate rotateWebhookSecret",
    "POST /leaks/github reportLeakGithub",
    "GET /leaks/gitlab/revocable_token_types gitlabRevocableTokenTypes",
    "POST /leaks/gitlab/revoke_tokens gitlabRevokeTokens",
  ].sort());
});

test("every schema example validates against its own schema", async () => {
  const { default: Ajv2020 } = await import("ajv/dist/2020.js");
  const { default: addFormats } = await import("ajv-formats");
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, "https://keygate.invalid/doc.json");
  let count = 0;
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    const validate = ajv.getSchema(`https://keygate.invalid/doc.json#/components/schemas/${name}`);
    for (const example of schema.examples ?? []) {
      assert.ok(validate(example), `${name} example: ${ajv.errorsText(validate.errors)}`);
      count++;
    }
  }
  assert.ok(count >= 8);
});

test("a dangling $ref is rejected", () => {
  const d = copy();
  d.paths["/accounts/{account}/keys/{id}"].get.responses["200"].content[JSON_TYPE].schema = {
    $ref: "#/components/schemas/KeyVeiw",
  };
  assert.throws(() => checkDocument(d), /\$ref #\/components\/schemas\/KeyVeiw does not resolve/);

  const d2 = copy();
  d2.components.schemas.KeyList.properties.keys.items = { $ref: "#/components/schemas/Nope" };
  assert.throws(() => checkDocument(d2), /Nope does not resolve/);

  const d3 = copy();
  d3.paths["/accounts/{account}"].get.responses["404"] = { $ref: "#/components/responses/Gone" };
  assert.throws(() => checkDocument(d3), /Gone does not resolve/);
});

test("an operation without responses is rejected", () => {
  const d = copy();
  delete d.paths["/accounts/{account}/keys"].post.responses;
  assert.throws(() => checkDocument(d), /must have required property 'responses'/);

  const d2 = copy();
  d2.paths["/accounts/{account}/keys"].post.responses = {};
  assert.throws(() => checkDocument(d2), /must NOT have fewer than 1 properties/);
});

test("other broken documents are rejected", () => {
  const broken = [
    ["the wrong OpenAPI version", (d) => { d.openapi = "3.0.3"; }, /\/openapi must match pattern/],
    ["a missing info.title", (d) => { delete d.info.title; }, /\/info must have required property 'title'/],
    ["a response without a description", (d) => { delete d.components.responses.InvalidId.description; },
      /\/components\/responses\/InvalidId must have required property 'description'/],
    ["a bogus status key", (d) => { d.paths["/openapi.json"].get.responses["2xx"] = { description: "x" }; },
      /additional properties \(2xx\)/],
    ["a path not starting with /", (d) => { d.paths["accounts"] = {}; }, /additional properties \(accounts\)/],
    ["an unknown member of an operation", (d) => { d.paths["/openapi.json"].get.respones = {}; },
      /additional properties \(respones\)/],
    ["a path parameter that is not required", (d) => { d.components.parameters.Account.required = false; },
      /\/components\/parameters\/Account\/required must be equal to constant \(true\)/],
    ["an undeclared path parameter", (d) => { d.paths["/accounts/{account}/events"].parameters = []; },
      /no path parameter declared for \{account\}/],
    ["a path parameter missing from the template", (d) => {
      d.paths["/accounts/{account}/events"].parameters.push({ $ref: "#/components/parameters/KeyId" });
    }, /path parameter id is not in the template/],
    ["a duplicate operationId", (d) => { d.paths["/accounts/{account}"].patch.operationId = "getAccount"; },
      /operationId getAccount is also used/],
    ["an undeclared security scheme", (d) => { d.security = [{ apiKey: [] }]; },
      /security scheme apiKey is not declared/],
    ["a remote $ref", (d) => { d.components.schemas.KeyList.properties.keys.items = { $ref: "https://example.com/x.json" }; },
      /is not local to the document/],
    ["a $ref to something that is not a schema", (d) => {
      d.components.schemas.Account.properties.id = { $ref: "#/info/title" };
    }, /\$ref #\/info\/title points to "keygate management API", not an object/],
    ["an invalid component schema", (d) => { d.components.schemas.Account.properties.status.type = "strin"; },
      /#\/components\/schemas\/Account: not a valid JSON Schema 2020-12/],
    ["an invalid regular expression", (d) => { d.components.schemas.Account.properties.id.pattern = "(["; },
      /#\/components\/schemas\/Account: does not compile: Invalid regular expression/],
    ["an invalid inline response schema", (d) => {
      d.paths["/accounts/{account}"].get.responses["200"].content[JSON_TYPE].schema = { minLength: -1 };
    }, /#\/paths\/~1accounts~1\{account\}\/get\/responses\/200\/content\/application~1json\/schema: not a valid JSON Schema/],
  ];
  for (const [what, breakIt, message] of broken) {
    const d = copy();
    breakIt(d);
    assert.throws(() => checkDocument(d), message, what);
  }
  assert.throws(() => checkDocument(null), /not a JSON object/);
  assert.throws(() => checkDocument([]), /not a JSON object/);
});

// ---- valid responses -------------------------------------------------------------

test("valid responses validate and name their operation", () => {
  assert.equal(ok({ method: "GET", path: KEY_PATH, status: 200, contentType: JSON_TYPE, body: keyView() }), "getKey");
  assert.equal(
    ok({ method: "get", path: KEY_PATH, status: "200", contentType: "application/json; charset=utf-8", body: keyView() }),
    "getKey",
  );
  assert.equal(
    ok({
      method: "POST", path: `/accounts/${ACCOUNT}/keys`, status: 201, contentType: JSON_TYPE,
      body: createdKey(),
    }),
    "createKey",
  );
  assert.equal(
    ok({
      method: "POST", path: `/accounts/${ACCOUNT}/keys`, status: 201, contentType: JSON_TYPE,
      body: createdKey({
        webhook_url: "https://hooks.example.com/keygate",
        webhook_secret: "whsec_" + "Ab+/".repeat(10) + "xyz=",
      }),
    }),
    "createKey",
  );
  assert.equal(
    ok({
      method: "POST", path: `${KEY_PATH}/rotate`, status: 201, contentType: JSON_TYPE,
      body: {
        ...createdKey({ id: NEW_KEY_ID }),
        previous: keyView({ revoked_at: "2026-11-24T06:40:00Z", replaced_by: NEW_KEY_ID }),
      },
    }),
    "rotateKey",
  );
  assert.equal(
    ok({
      method: "DELETE", path: KEY_PATH, status: 200, contentType: JSON_TYPE,
      body: keyView({ status: "revoked", revoked_at: "2026-11-23T07:00:00Z" }),
    }),
    "revokeKey",
  );
  assert.equal(
    ok({
      method: "GET", path: `/accounts/${ACCOUNT}/keys`, status: 200, contentType: JSON_TYPE,
      body: { keys: [keyView(), keyView({ id: NEW_KEY_ID, environment: "test", prefix: "fai_test_Zz99", masked: "fai_test_Zz99\u2026abcd", status: "expired", scopes: [] })], next_cursor: `1795416000.${NEW_KEY_ID}` },
    }),
    "listKeys",
  );
  assert.equal(
    ok({
      method: "GET", path: `/accounts/${ACCOUNT}/events`, status: 200, contentType: JSON_TYPE,
      body: {
        events: [
          event({ id: "evt_13", type: "key.rotated", data: { new_key_id: NEW_KEY_ID, grace_seconds: 0, old_key_revoked_at: "2026-11-23T06:41:00Z" } }),
          event({ id: "evt_14", type: "key.limit_reached", key_id: null, data: { limit: 10 } }),
          event({ id: "evt_15", type: "account.suspended", key_id: null, product: null, data: {} }),
          event({ id: "evt_16", type: "key.updated", data: { name: { from: "a", to: "b" } } }),
          event(),
        ],
        next_cursor: "evt_12",
      },
    }),
    "listEvents",
  );
  assert.equal(
    ok({
      method: "PATCH", path: "/accounts/acct.x:y-z_1", status: 200, contentType: JSON_TYPE,
      body: { id: "acct.x:y-z_1", status: "suspended", created_at: "2026-11-23T06:40:00Z", updated_at: "2026-11-23T06:41:00Z" },
    }),
    "updateAccount",
  );
  assert.equal(ok({ method: "GET", path: "/openapi.json", status: 200, contentType: JSON_TYPE, body: doc }), "getOpenApi");
});

test("valid problems validate, with their headers", () => {
  assert.equal(
    ok({ method: "GET", path: KEY_PATH, status: 404, contentType: PROBLEM_TYPE, body: problem("key_not_found", 404) }),
    "getKey",
  );
  assert.equal(
    ok({
      method: "GET", path: "/accounts/bad!/keys", status: 400, contentType: PROBLEM_TYPE,
      body: problem("invalid_id", 400, { field: "account" }),
    }),
    "listKeys",
  );
  assert.equal(
    ok({
      method: "GET", path: `/accounts/${ACCOUNT}/keys`, status: 400, contentType: PROBLEM_TYPE,
      body: problem("invalid_field", 400, { field: "status", errors: [{ field: "status", detail: "`status` is bad." }] }),
    }),
    "listKeys",
  );
  assert.equal(
    ok({
      method: "POST", path: `/accounts/${ACCOUNT}/keys`, status: 400, contentType: PROBLEM_TYPE,
      body: problem("unknown_field", 400, { field: "nme" }),
    }),
    "createKey",
  );
  assert.equal(
    ok({
      method: "POST", path: `/accounts/${ACCOUNT}/keys`, status: 409, contentType: PROBLEM_TYPE,
      body: problem("key_limit_reached", 409),
    }),
    "createKey",
  );
  assert.equal(
    ok({
      method: "GET", path: `/accounts/${ACCOUNT}`, status: 401, contentType: PROBLEM_TYPE,
      body: problem("unauthorized", 401),
      headers: new Headers({ "www-authenticate": 'Bearer realm="keygate-admin"', "keygate-request-id": "0".repeat(32) }),
    }),
    "getAccount",
  );
  assert.equal(
    ok({
      method: "PATCH", path: KEY_PATH, status: 503, contentType: PROBLEM_TYPE,
      body: problem("storage_unavailable", 503), headers: { "Retry-After": "1", "Keygate-Request-Id": "0".repeat(32) },
    }),
    "updateKey",
  );
});

// ---- invalid responses -------------------------------------------------------------

test("an extra field is rejected", () => {
  rejects(
    { method: "GET", path: KEY_PATH, status: 200, contentType: JSON_TYPE, body: keyView({ hash: "abc" }) },
    /must NOT have additional properties \(hash\)/,
  );
  rejects(
    { method: "GET", path: KEY_PATH, status: 404, contentType: PROBLEM_TYPE, body: problem("key_not_found", 404, { extra: 1 }) },
    /additional properties \(extra\)/,
  );
  // The full key never appears outside CreatedKey.
  rejects(
    { method: "GET", path: KEY_PATH, status: 200, contentType: JSON_TYPE, body: { ...keyView(), key: createdKey().key } },
    /additional properties \(key\)/,
  );
});

test("every key view carries its IP allowlist, as range texts", () => {
  ok({ method: "GET", path: KEY_PATH, status: 200, contentType: JSON_TYPE, body: keyView({ allowed_ips: ["203.0.113.0/24", "2001:db8::/32"] }) });
  const { allowed_ips, ...without } = keyView();
  assert.deepEqual(allowed_ips, []);
  rejects(
    { method: "GET", path: KEY_PATH, status: 200, contentType: JSON_TYPE, body: without },
    /must have required property 'allowed_ips'/,
  );
  rejects(
    { method: "GET", path: KEY_PATH, status: 200, contentType: JSON_TYPE, body: keyView({ allowed_ips: ["not a range"] }) },
    /allowed_ips\/0 must match pattern/,
  );
});

test("a wrong enum value is rejected", () => {
  rejects(
    { method: "GET", path: KEY_PATH, status: 200, contentType: JSON_TYPE, body: keyView({ status: "disabled" }) },
    /\/status must be equal to one of the allowed values/,
  );
  rejects(
    { method: "DELETE", path: KEY_PATH, status: 200, contentType: JSON_TYPE, body: keyView() },
    /\/status must be equal to constant \("revoked"\)/,
  );
  rejects(
    { method: "GET", path: KEY_PATH, status: 404, contentType: PROBLEM_TYPE, body: problem("not_found", 404) },
    /\/code must be equal to one of the allowed values/,
  );
  rejects(
    { method: "PATCH", path: KEY_PATH, status: 409, contentType: PROBLEM_TYPE, body: problem("key_limit_reached", 409) },
    // One-code responses narrow with a one-value enum (generators cannot merge a const).
    /\/code must be equal to one of the allowed values \("key_not_active"\)/,
  );
});

test("a missing required field is rejected", () => {
  const { revoked_at, ...noRevokedAt } = keyView();
  rejects(
    { method: "GET", path: KEY_PATH, status: 200, contentType: JSON_TYPE, body: noRevokedAt },
    /must have required property 'revoked_at'/,
  );
  const { key, ...noKey } = createdKey();
  rejects(
    { method: "POST", path: `/accounts/${ACCOUNT}/keys`, status: 201, contentType: JSON_TYPE, body: noKey },
    /must have required property 'key'/,
  );
  const { detail, ...noDetail } = problem("key_not_found", 404);
  rejects(
    { method: "GET", path: KEY_PATH, status: 404, contentType: PROBLEM_TYPE, body: noDetail },
    /must have required property 'detail'/,
  );
  rejects(
    { method: "GET", path: `/accounts/${ACCOUNT}/events`, status: 200, contentType: JSON_TYPE, body: { events: [] } },
    /must have required property 'next_cursor'/,
  );
  rejects(
    { method: "POST", path: `${KEY_PATH}/rotate`, status: 201, contentType: JSON_TYPE, body: createdKey() },
    /must have required property 'previous'/,
  );
});

test("an undocumented status, content type or endpoint is rejected", () => {
  rejects(
    { method: "GET", path: KEY_PATH, status: 403, contentType: PROBLEM_TYPE, body: problem("account_suspended", 403) },
    /status 403 is not documented for getKey/,
  );
  rejects(
    { method: "POST", path: `/accounts/${ACCOUNT}/keys`, status: 200, contentType: JSON_TYPE, body: createdKey() },
    /status 200 is not documented for createKey/,
  );
  rejects(
    // createKey lists 404 only as not_found (every operation lists 404 and 405).
    { method: "POST", path: `/accounts/${ACCOUNT}/keys`, status: 404, contentType: PROBLEM_TYPE, body: problem("account_not_found", 404) },
    /body does not match the createKey 404 schema/,
  );
  rejects(
    { method: "GET", path: KEY_PATH, status: 404, contentType: JSON_TYPE, body: problem("key_not_found", 404) },
    /content type application\/json is not documented/,
  );
  rejects(
    { method: "GET", path: KEY_PATH, status: 200, contentType: PROBLEM_TYPE, body: keyView() },
    /content type application\/problem\+json is not documented/,
  );
  rejects({ method: "GET", path: KEY_PATH, status: 200, body: keyView() }, /no content type/);
  rejects({ method: "PUT", path: KEY_PATH, status: 200, contentType: JSON_TYPE, body: keyView() }, /has no PUT operation \(documented: GET, DELETE, PATCH\)/);
  rejects({ method: "GET", path: `/_keygate/v1${KEY_PATH}`, status: 200, contentType: JSON_TYPE, body: keyView() }, /without the server prefix/);
  rejects({ method: "GET", path: `${KEY_PATH}?x=1`, status: 200, contentType: JSON_TYPE, body: keyView() }, /query string/);
  rejects({ method: "GET", path: `${KEY_PATH}/extra`, status: 200, contentType: JSON_TYPE, body: keyView() }, /no path template/);
  rejects({ method: "GET", path: "/accounts//keys", status: 200, contentType: JSON_TYPE, body: { keys: [] } }, /no path template/);
});

test("contract details are enforced", () => {
  const get = (body) => ({ method: "GET", path: KEY_PATH, status: 200, contentType: JSON_TYPE, body });
  const create = (body) => ({ method: "POST", path: `/accounts/${ACCOUNT}/keys`, status: 201, contentType: JSON_TYPE, body });
  // Times: RFC 3339 UTC, second precision.
  rejects(get(keyView({ created_at: "2026-11-23T06:40:00.123Z" })), /\/created_at must match pattern/);
  rejects(get(keyView({ created_at: "2026-11-23T06:40:00+01:00" })), /\/created_at must match pattern/);
  rejects(get(keyView({ created_at: "2026-13-23T06:40:00Z" })), /\/created_at must match format "date-time"/);
  // Ids.
  rejects(get(keyView({ id: "key_short" })), /\/id must match pattern/);
  rejects(get(keyView({ replaced_by: "key_8Hq2Xn1Lr5Tb7Vc9" })), /\/replaced_by must match pattern/);
  // Status agrees with the times; a replaced key has a revocation time.
  rejects(get(keyView({ status: "revoked" })), /\/revoked_at must be string/);
  rejects(get(keyView({ status: "expired", expires_at: null })), /\/expires_at must be string/);
  rejects(get(keyView({ replaced_by: NEW_KEY_ID })), /\/revoked_at must be string/);
  // Display forms agree with the environment.
  rejects(get(keyView({ environment: "test" })), /\/prefix must match pattern/);
  rejects(get(keyView({ masked: "fai_live_Ab12...9xQz" })), /\/masked must match pattern/);
  // Names and scopes.
  rejects(get(keyView({ name: "" })), /\/name must NOT have fewer than 1 characters/);
  rejects(get(keyView({ name: "x".repeat(65) })), /\/name must NOT have more than 64 characters/);
  rejects(get(keyView({ name: "tab\there" })), /\/name must match pattern/);
  rejects(get(keyView({ scopes: ["read", "read"] })), /\/scopes must NOT have duplicate items/);
  // A new key is active and unused; its webhook secret comes exactly with a webhook URL.
  rejects(create(createdKey({ last_used_at: "2026-11-23T06:40:00Z" })), /\/last_used_at must be null/);
  rejects(create(createdKey({ webhook_url: "https://hooks.example.com/k" })), /must have required property 'webhook_secret'/);
  rejects(create(createdKey({ webhook_secret: "whsec_" + "A".repeat(43) + "=" })), /\/webhook_url must be string/);
  rejects(
    create(createdKey({ webhook_url: "https://h.example/k", webhook_secret: "whsec_short" })),
    /\/webhook_secret must match pattern/,
  );
  rejects(create(createdKey({ webhook_url: "http://hooks.example.com/k", webhook_secret: "whsec_" + "A".repeat(43) + "=" })), /\/webhook_url must match pattern/);
  assert.equal(
    ok(create(createdKey({ webhook_url: "http://127.0.0.1:8080/hook", webhook_secret: "whsec_" + "A".repeat(43) + "=" }))),
    "createKey",
  );
  rejects(create(createdKey({ key: "fai_live_tooShort" })), /\/key must match pattern/);
  // The old key of a rotation names its successor.
  rejects(
    {
      method: "POST", path: `${KEY_PATH}/rotate`, status: 201, contentType: JSON_TYPE,
      body: { ...createdKey({ id: NEW_KEY_ID }), previous: keyView() },
    },
    /\/previous\/revoked_at must be string/,
  );
  // Problems: type, status and code agree; field rules.
  const notFound = (body) => ({ method: "GET", path: KEY_PATH, status: 404, contentType: PROBLEM_TYPE, body });
  rejects(notFound(problem("key_not_found", 404, { type: "urn:keygate:error:not_found" })), /\/type must be equal to constant/);
  rejects(notFound(problem("key_not_found", 400)), /\/status must be equal to constant \(404\)/);
  rejects(notFound(problem("key_not_found", 404, { field: "id" })), /forbidden/);
  rejects(
    { method: "GET", path: KEY_PATH, status: 400, contentType: PROBLEM_TYPE, body: problem("invalid_id", 400) },
    /must have required property 'field'/,
  );
  rejects(
    { method: "GET", path: KEY_PATH, status: 400, contentType: PROBLEM_TYPE, body: problem("invalid_id", 400, { field: "name" }) },
    /\/field must be equal to one of the allowed values/,
  );
  rejects(
    {
      method: "GET", path: `/accounts/${ACCOUNT}`, status: 401, contentType: PROBLEM_TYPE,
      body: problem("unauthorized", 401), headers: {},
    },
    /required header WWW-Authenticate is missing/,
  );
  rejects(
    {
      method: "GET", path: `/accounts/${ACCOUNT}`, status: 401, contentType: PROBLEM_TYPE,
      body: problem("unauthorized", 401), headers: { "WWW-Authenticate": "ApiKey realm=\"keygate\"" },
    },
    /header WWW-Authenticate/,
  );
  // Events: per-type data, page size.
  const events = (list) => ({
    method: "GET", path: `/accounts/${ACCOUNT}/events`, status: 200, contentType: JSON_TYPE,
    body: { events: list, next_cursor: null },
  });
  rejects(events([event({ type: "key.deleted" })]), /\/events\/0\/type must be equal to one of the allowed values/);
  rejects(events([event({ data: {} })]), /\/events\/0\/data must have required property 'name'/);
  rejects(events([event({ type: "key.limit_reached", data: { limit: 10 } })]), /\/events\/0\/key_id must be null/);
  rejects(events([event({ type: "key.rotated", data: { new_key_id: NEW_KEY_ID, grace_seconds: 604801, old_key_revoked_at: "2026-11-23T06:40:00Z" } })]), /grace_seconds must be <= 604800/);
  rejects(events([event({ data: [] })]), /\/events\/0\/data must be object/);
  rejects(events(Array.from({ length: 101 }, () => event())), /\/events must NOT have more than 100 items/);
});
