// The canonical path end to end: an origin that routes leniently (case,
// percent-escapes, suffixes, `;` parameters, trailing dots) sits behind
// keygate, and every spelling of a protected path is either refused or
// judged by the protected rule. Requests go out through node:http, which
// sends the path exactly as written.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startGateway, startOrigin, rawRequest } from "./harness.mjs";
import { handlerFor, OWN_COOKIES, SET_COOKIES } from "./lenient-origin.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.paths.toml"), "utf8");
let origin, gw;

before(async () => {
  origin = await startOrigin("tests/e2e/lenient-origin.mjs");
  const fai = (scopes) => ["--product", "forgeai", "--account", "acct_paths", "--scopes", scopes];
  gw = await startGateway({
    template,
    origin: origin.url,
    keys: {
      limited: fai("read,write"),
      full: fai("read,write,view_logs,manage_deployments,send_campaigns,admin"),
      exact: ["--product", "exact", "--account", "acct_paths", "--scopes", "read,write"],
      sf: ["--product", "salesforge", "--account", "acct_paths"],
    },
  });
});

after(async () => {
  await gw?.stop();
  await origin?.stop();
});

/** Sends `method path` exactly as written; resolves { status, headers, body }. */
const send = (method, path, headers = {}) => rawRequest(gw.url, method, path, headers);

const bearer = (key) => ({ Authorization: `Bearer ${key}` });
const show = (res) => `${res.status} ${JSON.stringify(res.body)}`;

/** [method, path below /forgeai, the handler a lenient origin routes it to] */
const PROTECTED = [
  ["GET", "/api/v1/logs/x", "logs"],
  ["GET", "/api/v1/%6Cogs/x", "logs"],
  ["GET", "/api/v1/%6cogs/x", "logs"],
  ["GET", "/api/v1/Logs/x", "logs"],
  ["GET", "/API/V1/LOGS", "logs"],
  ["GET", "/api/v1/logs/", "logs"],
  ["GET", "/api/v1/logs.json", "logs"],
  ["HEAD", "/api/v1/logs/x", "logs"],
  ["GET", "/api/v1/x/../logs/x", "logs"],
  ["GET", "/api/v1/x/%2e%2e/logs/x", "logs"],
  ["GET", "/docs/../api/v1/logs/x", "logs"],
  ["GET", "/api/v1/Deployments/d1", "deployments"],
  ["DELETE", "/api/v1/deployments/d1/", "deployments"],
  ["GET", "/api/v1/deployments.xml", "deployments"],
  ["POST", "/v1/campaigns/1/send", "send"],
  ["POST", "/v1/campaigns/1/send/", "send"],
  ["POST", "/v1/campaigns/1/send.json", "send"],
  ["POST", "/v1/campaigns/1/SEND.xml", "send"],
  ["POST", "/v1/campaigns/1/sen%64", "send"],
  ["GET", "/admin/users", "admin"],
  ["GET", "/%61dmin/users", "admin"],
];

/** Spellings with no canonical form: refused before any rule or read. */
const MALFORMED = [
  ["GET", "/api/v1//logs/x"],
  ["GET", "/api/v1%2Flogs/x"],
  ["GET", "/api/v1%2flogs/x"],
  ["GET", "/api/v1/logs;x/y"],
  ["GET", "/api/v1/logs%3Bx/y"],
  ["GET", "/api/v1/logs./x"],
  ["GET", "/api/v1/logs%2E/x"],
  ["GET", "/api/v1/logs%00/x"],
  ["GET", "/api/v1/logs%20/x"],
  ["GET", "/api/v1/logs%5Cx"],
  ["GET", "/api/v1/logs%0d%0aX-Injected:%201"],
  ["GET", "/api/v1/logs%ff"],
  ["POST", "/v1/campaigns/1/send%20"],
  ["POST", "/v1/campaigns/1/send."],
  ["DELETE", "/docs/..%2fadmin%2fusers"],
  ["GET", "/docs/..;/admin/users"],
  ["GET", "/docs/..%3B/admin/users"],
  // Issue 18 (Low 4): what NFKC-folding, best-fit and double-decoding
  // origins route to a protected handler. (`ſ` used to be judged as `s`;
  // NFKC changes it, so it is refused now.)
  ["GET", "/api/v1/log%C5%BF/x"],
  ["GET", "/x/%EF%BC%8E%EF%BC%8E/admin/users"],
  ["GET", "/%EF%BD%81dmin/users"],
  ["GET", "/admin%EF%BC%8Fusers"],
  ["GET", "/%2561dmin/users"],
  ["GET", "/admin/users%C2%A0"],
  ["GET", "/admin/users%E3%80%80"],
  ["GET", "/admin/users%E2%80%8B"],
  ["GET", "/admin%C2%A0/users"],
  ["GET", "/admin%E3%80%80/users"],
  ["GET", "/admin%E2%80%8B/users"],
  ["GET", "/api/v1/%EF%BD%8Cogs/x"],
  ["POST", "/v1/campaigns/1/%EF%BD%93end"],
  ["GET", "/docs/%252e%252e/admin/users"],
];

describe("every spelling of a protected path is judged by its rule", () => {
  test("the lenient origin model routes the spellings where the test says", () => {
    for (const [method, path, handler] of PROTECTED) assert.equal(handlerFor(method, path), handler, path);
  });

  test("a key without the permission is refused for every spelling", async () => {
    for (const [method, path] of PROTECTED) {
      const res = await send(method, "/forgeai" + path, bearer(gw.keys.limited));
      assert.equal(res.status, 403, `${method} ${path}: ${show(res)}`);
      if (method !== "HEAD") assert.equal(res.body.code, "insufficient_scope", path);
    }
  });

  test("a key with the permission reaches the handler, with the canonical path", async () => {
    for (const [method, path, handler] of PROTECTED) {
      const res = await send(method, "/forgeai" + path, bearer(gw.keys.full));
      assert.equal(res.status, 200, `${method} ${path}: ${show(res)}`);
      if (method === "HEAD") continue;
      assert.equal(res.body.handler, handler, path);
      // What the policy judged is what the origin received: canonical form.
      assert.doesNotMatch(res.body.url, /%(?:[46][1-9A-F]|[57][0-9A]|2[DE]|5F|7E)|\/\.\.?\/|\/\//i, path);
    }
    const res = await send("GET", "/forgeai/api/v1/%6Cogs/x?q=%6C", bearer(gw.keys.full));
    assert.equal(res.body.url, "/api/v1/logs/x?q=%6C", "path canonical, query untouched");
  });

  test("paths with no canonical form are refused with 400 malformed_path and no read", async () => {
    const before = gw.logEntries().length;
    for (const [method, path] of MALFORMED) {
      for (const headers of [bearer(gw.keys.full), {}]) {
        const res = await send(method, "/forgeai" + path, headers);
        assert.equal(res.status, 400, `${method} ${path}: ${show(res)}`);
        assert.equal(res.body.code, "malformed_path", path);
        assert.match(res.body.detail, /refused: .+\./, path);
      }
    }
    await new Promise((r) => setTimeout(r, 1000)); // let wrangler flush the log
    const entries = gw.logEntries().slice(before).filter((e) => e.outcome === "malformed_path");
    assert.equal(entries.length, MALFORMED.length * 2);
    assert.equal(entries.reduce((n, e) => n + e.kv_reads, 0), 0, "no storage read");
  });

  test("every other spelling either is refused or reaches another handler", async () => {
    const tries = [];
    for (const [method, path] of [...PROTECTED, ...MALFORMED]) {
      for (const twist of ["", "/", "%20", ".", ";x", ".json", "/..", "/.", "%2F.."]) {
        tries.push([method, path + twist]);
      }
    }
    let forwarded = 0;
    for (const [method, path] of tries) {
      const res = await send(method, "/forgeai" + path, bearer(gw.keys.limited));
      if (res.status === 200) {
        forwarded += 1;
        if (method !== "HEAD") {
          assert.ok(!["logs", "deployments", "send", "admin"].includes(res.body.handler),
            `${method} ${path} reached ${res.body.handler} without its permission`);
        }
      } else {
        assert.ok([400, 403].includes(res.status), `${method} ${path}: ${show(res)}`);
      }
    }
    assert.ok(forwarded > 0, "some spellings are ordinary paths and are forwarded");
  });
});

describe("the lenient origin model folds and decodes twice", () => {
  test("the issue's spellings reach the admin and logs handlers of a lenient origin", () => {
    for (const path of [
      "/x/%EF%BC%8E%EF%BC%8E/admin/users",
      "/%EF%BD%81dmin/users",
      "/admin%EF%BC%8Fusers",
      "/%2561dmin/users",
      "/admin/users%C2%A0",
      "/admin%E3%80%80/users",
      "/admin%E2%80%8B/users",
      "/docs/%252e%252e/admin/users",
    ]) {
      assert.equal(handlerFor("GET", path), "admin", path);
    }
    assert.equal(handlerFor("GET", "/api/v1/log%C5%BF/x"), "logs");
    assert.equal(handlerFor("GET", "/caf%C3%A9"), "other");
  });

  test("ordinary non-ASCII paths still pass", async () => {
    for (const path of ["/docs/caf%C3%A9", "/docs/%E6%97%A5%E6%9C%AC", "/docs/100%25"]) {
      const res = await send("GET", "/forgeai" + path);
      assert.equal(res.status, 200, `${path}: ${show(res)}`);
      assert.equal(res.body.handler, "docs", path);
    }
  });
});

describe("cookies from the origin", () => {
  // Issue 18 (Low 3): an origin sharing a host with the API Keys page
  // must not set keygate's cookie; every other Set-Cookie passes intact.
  test("Set-Cookie for keygate's own cookie names never reaches the client", async () => {
    const res = await send("GET", "/forgeai/docs/set-cookies");
    assert.equal(res.status, 200, show(res));
    assert.equal(res.body.handler, "docs");
    const got = res.headers["set-cookie"] ?? [];
    const kept = SET_COOKIES.filter((_, i) => !OWN_COOKIES.includes(i));
    assert.deepEqual(got, kept, "the others pass intact, one header each, in order");
    assert.ok(!got.some((c) => /^\s*(__host-|__secure-)?keygate/i.test(c.replace(/^\s*=\s*/, ""))), got.join(" | "));
    // Through a key-protected path too.
    const keyed = await send("GET", "/forgeai/api/v1/x/set-cookies", bearer(gw.keys.limited));
    assert.equal(keyed.status, 200, show(keyed));
    assert.deepEqual(keyed.headers["set-cookie"], kept);
  });

  test("a response without keygate's cookies passes unchanged", async () => {
    const res = await send("GET", "/forgeai/docs/plain");
    assert.equal(res.status, 200);
    assert.equal(res.headers["set-cookie"], undefined);
  });
});

describe("public paths", () => {
  test("admit only their methods without a key", async () => {
    for (const method of ["GET", "HEAD", "OPTIONS"]) {
      assert.equal((await send(method, "/forgeai/docs/guide")).status, 200, method);
    }
    for (const method of ["DELETE", "POST", "PUT", "PROPFIND", "PURGE"]) {
      const res = await send(method, "/forgeai/docs/guide");
      assert.equal(res.status, 401, `${method}: ${show(res)}`);
      assert.equal(res.body.code, "missing_key");
    }
    assert.equal((await send("POST", "/forgeai/hooks/in")).status, 200);
    assert.equal((await send("GET", "/forgeai/hooks/in")).status, 401);
    // A key with `write` may still DELETE there: the entry only adds a
    // keyless way in for its methods.
    assert.equal((await send("DELETE", "/forgeai/docs/guide", bearer(gw.keys.limited))).status, 200);
  });

  test("TRACE and TRACK are refused everywhere, never forwarded", async () => {
    // The runtime answers TRACE itself (501); whatever reaches keygate gets 405.
    for (const method of ["TRACE", "TRACK"]) {
      for (const path of ["/forgeai/docs/guide", "/forgeai/api/v1/x"]) {
        const res = await send(method, path, bearer(gw.keys.full));
        assert.ok([405, 501].includes(res.status), `${method} ${path}: ${show(res)}`);
        assert.equal(res.body.handler, undefined, "not forwarded");
        if (res.status === 405) {
          assert.equal(res.body.code, "method_not_allowed");
          assert.ok(res.headers.allow);
        }
      }
    }
  });
});

describe("override headers", () => {
  test("are refused with 400, naming the header, even on public paths", async () => {
    const headers = [
      ["X-HTTP-Method-Override", "DELETE"],
      ["X-HTTP-Method", "DELETE"],
      ["X-Method-Override", "PUT"],
      ["X-Original-URL", "/admin/users"],
      ["X-Rewrite-URL", "/admin/users"],
      ["X_HTTP_Method_Override", "DELETE"],
    ];
    for (const [name, value] of headers) {
      for (const auth of [{}, bearer(gw.keys.full)]) {
        const res = await send("GET", "/forgeai/docs/guide", { [name]: value, ...auth });
        assert.equal(res.status, 400, `${name}: ${show(res)}`);
        assert.equal(res.body.code, "override_header");
        assert.ok(res.body.detail.toLowerCase().includes(name.toLowerCase()), res.body.detail);
      }
    }
    // Express's method-override and others read `_method` from the query too.
    for (const query of ["_method=DELETE", "a=1&%5Fmethod=DELETE"]) {
      const res = await send("POST", `/forgeai/hooks/in?${query}`);
      assert.equal(res.status, 400, show(res));
      assert.equal(res.body.code, "override_header");
      assert.match(res.body.detail, /_method/);
    }
  });
});

describe("headers that must not reach the origin", () => {
  test("client identity headers are stripped in any spelling, `_` included", async () => {
    const res = await send("GET", "/forgeai/docs/guide", {
      "Keygate-Account": "acct_victim",
      Keygate_Account: "acct_victim",
      keygate_key_id: "key_victim",
      "Keygate-Scopes": "admin",
    });
    assert.equal(res.status, 200);
    const names = Object.keys(res.body.headers);
    assert.ok(!names.some((n) => /^keygate[-_](account|key[-_]id|scopes)$/.test(n) &&
      res.body.headers[n].includes("victim")), names.join(","));
    assert.ok(!names.includes("keygate_account") && !names.includes("keygate_key_id"), names.join(","));
    assert.notEqual(res.body.headers["keygate-scopes"], "admin");
  });

  test("another product's key in Authorization under any scheme never reaches the origin", async () => {
    for (const value of [`Token ${gw.keys.full}`, gw.keys.full, `Bearer ${gw.keys.full}`, `Basic x, ${gw.keys.full}`]) {
      const res = await send("GET", "/v1/things", {
        Host: "api.salesforge.test",
        "X-Salesforge-Key": gw.keys.sf,
        Authorization: value,
      });
      assert.equal(res.status, 200, show(res));
      assert.equal(res.body.headers.authorization, undefined, value.split(" ")[0]);
    }
    const own = await send("GET", "/v1/things", {
      Host: "api.salesforge.test",
      "X-Salesforge-Key": gw.keys.sf,
      Authorization: "Bearer origin-session-token",
    });
    assert.equal(own.body.headers.authorization, "Bearer origin-session-token", "the origin's own token passes");
  });

  test("the origin's keygate-* response headers never reach the client", async () => {
    const res = await send("GET", "/forgeai/docs/guide");
    assert.equal(res.status, 200);
    assert.equal(res.body.handler, "docs");
    assert.equal(res.headers["keygate-account"], undefined);
  });
});

describe("hosts and per-product path options", () => {
  test("a trailing dot or upper case in Host routes like the canonical host", async () => {
    for (const host of ["api.salesforge.test", "api.salesforge.test.", "API.Salesforge.TEST.:443"]) {
      const res = await send("GET", "/v1/things", { Host: host, "X-Salesforge-Key": gw.keys.sf });
      assert.equal(res.status, 200, `${host}: ${show(res)}`);
      assert.equal(res.body.headers["keygate-product"], "salesforge", host);
    }
  });

  test("path_case = sensitive matches exactly; allow_path_params ignores ;params in rules", async () => {
    const key = { "X-Exact-Key": gw.keys.exact };
    assert.equal((await send("GET", "/exact/admin/users", key)).status, 403);
    assert.equal((await send("GET", "/exact/admin;jsessionid=1/users", key)).status, 403);
    const upper = await send("GET", "/exact/Admin/users", key);
    assert.equal(upper.status, 200, "the operator declared this origin case-sensitive");
    const params = await send("GET", "/exact/files;v=2/a", key);
    assert.equal(params.status, 200);
    assert.equal(params.body.url, "/files;v=2/a", "parameters are forwarded as sent");
    assert.equal((await send("GET", "/exact/files/..;/admin/users", key)).status, 400);
  });
});
