// The management API can move to a host of its own, or be turned off; the
// gateway's products are unaffected either way.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_TOKEN, ROOT, startGateway, startOrigin } from "./harness.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.e2e.toml"), "utf8");
const withManagement = (table) =>
  template.replace("[[vars.KEYGATE_CONFIG.products]]", `${table}\n\n[[vars.KEYGATE_CONFIG.products]]`);
const ADMIN_HOST = "admin.keygate.test";
let origin, onHost, off;

before(async () => {
  origin = await startOrigin();
  const mf = ["--product", "mailforge", "--account", "acct_cfg"];
  [onHost, off] = await Promise.all([
    startGateway({
      template: withManagement(`[vars.KEYGATE_CONFIG.management]\nhost = "${ADMIN_HOST}"\npath_prefix = "/"`),
      origin: origin.url,
      keys: { mf },
    }),
    startGateway({
      template: withManagement("[vars.KEYGATE_CONFIG.management]\nenabled = false"),
      origin: origin.url,
      keys: { mf },
    }),
  ]);
});

after(async () => {
  await Promise.all([onHost?.stop(), off?.stop()]);
  await origin?.stop();
});

/** A request with an explicit Host header (fetch cannot set one). */
function send(gw, { host, method = "GET", path, headers = {}, body }) {
  return new Promise((ok, fail) => {
    const req = httpRequest(gw.url + path, { method, headers: { Host: host, ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => ok({ status: res.statusCode, type: res.headers["content-type"], body: text ? JSON.parse(text) : null }));
    });
    req.on("error", fail);
    req.end(body);
  });
}
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" };

test("on its own host, at the root: served there and only there", async () => {
  const doc = await send(onHost, { host: ADMIN_HOST, path: "/openapi.json" });
  assert.equal(doc.status, 200);
  assert.equal(doc.body.openapi.slice(0, 4), "3.1.");
  assert.deepEqual(doc.body.servers.map((s) => s.url), [`https://${ADMIN_HOST}`], "names this deployment");
  const created = await send(onHost, {
    host: ADMIN_HOST,
    method: "POST",
    path: "/accounts/acct_host/keys",
    headers: admin,
    body: JSON.stringify({ product: "mailforge", name: "on the admin host" }),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.match(created.body.key, /^mf_live_/);
  // The created key works through the gateway on the ordinary host.
  const used = await send(onHost, {
    host: "api.example.test",
    path: "/mailforge/v1/x",
    headers: { "X-Mailforge-Key": created.body.key },
  });
  assert.equal(used.status, 200);
  assert.equal(used.body.signature_valid, true);
  // Elsewhere, neither the root nor the default prefix is the API.
  for (const path of ["/openapi.json", "/_keygate/v1/openapi.json", "/accounts/acct_host/keys"]) {
    const res = await send(onHost, { host: "api.example.test", path, headers: admin });
    assert.equal(res.status, 404, path);
    assert.equal(res.body.code, "no_route", path);
  }
});

test("turned off: the prefix is no route, and the gateway still serves", async () => {
  for (const path of ["/_keygate/v1/openapi.json", "/_keygate/v1/accounts/acct_cfg/keys"]) {
    const res = await send(off, { host: "api.example.test", path, headers: admin });
    assert.equal(res.status, 404, path);
    assert.equal(res.body.code, "no_route", path);
  }
  const res = await send(off, {
    host: "api.example.test",
    path: "/mailforge/v1/x",
    headers: { "X-Mailforge-Key": off.keys.mf },
  });
  assert.equal(res.status, 200);
});
