// RFC 9421 origin signatures end to end: keygate on workerd signs, and the
// demo origin verifies every request with the independent
// `http-message-signatures` package (demo/verify.mjs). Captured requests
// are then replayed straight to the origin, changed in one way each.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createSigner, createVerifier, httpbis } from "http-message-signatures";
import { ROOT, SECRET, problem, startGateway, startOrigin } from "./harness.mjs";
import { productKey } from "../../demo/verify.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.e2e.toml"), "utf8");
const CLI = process.env.KEYGATE_CLI ?? join(ROOT, "target/debug/keygate");

let origin, gw;
before(async () => {
  origin = await startOrigin();
  gw = await startGateway({
    template,
    origin: origin.url,
    keys: {
      sf: ["--product", "salesforge", "--account", "acct_sig"],
      mf: ["--product", "mailforge", "--account", "acct_sig"],
      bf: ["--product", "bodyforge", "--account", "acct_sig"],
    },
  });
});

after(async () => {
  await gw?.stop();
  await origin?.stop();
});

/** A raw HTTP/1.1 request: exact headers (Host too), optional chunked body. */
function send(url, { method = "GET", headers = {}, body, chunks } = {}) {
  return new Promise((ok, fail) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        let json = text;
        try { json = JSON.parse(text); } catch {}
        ok({ status: res.statusCode, body: json, headers: res.headers });
      });
    });
    req.on("error", fail);
    if (chunks) for (const c of chunks) req.write(c);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Forwards through keygate and returns the origin's echo. */
async function through(path, init = {}) {
  const res = await send(gw.url + path, init);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

const covered = (seen) => /^keygate=\(([^)]*)\)/.exec(seen.headers["signature-input"])[1].split(" ").map((c) => c.slice(1, -1));
const param = (seen, name) =>
  Array.from(seen.headers["signature-input"].matchAll(/;(\w+)=("?)([^;"]*)\2/g)).find((m) => m[1] === name)?.[3];

/** The headers to replay a captured request with: as the origin saw them. */
function replayHeaders(seen, changes = {}) {
  const headers = { ...seen.headers };
  delete headers.connection;
  delete headers["transfer-encoding"];
  return { ...headers, ...changes };
}

const replay = (seen, { method = seen.method, path = seen.url, headers = {}, body } = {}) =>
  send(origin.url + path, { method, headers: replayHeaders(seen, headers), body });

describe("what keygate signs", () => {
  test("a streamed POST: identity, Content-Length and Content-Type, no digest", async () => {
    const body = JSON.stringify({ lead: "Ada" });
    const seen = await through("/salesforge/v1/leads?x=1", {
      method: "POST",
      headers: {
        "X-Salesforge-Key": gw.keys.sf,
        "Content-Type": "application/json",
        "Content-Length": String(Buffer.byteLength(body)),
        // A client's signature headers and digest must not reach the origin.
        "Content-Digest": "sha-256=:AAAA:",
        Signature: "keygate=:AAAA:, evil=:AAAA:",
        "Signature-Input": 'evil=("@method");keyid="salesforge"',
      },
      body,
    });
    assert.equal(seen.signature_valid, true, seen.signature_error);
    assert.deepEqual(covered(seen), [
      "@method", "@authority", "@path", "@query", "keygate-product", "keygate-key-id", "keygate-account",
      "keygate-environment", "keygate-scopes", "keygate-request-id", "keygate-client-ip", "content-length",
      "content-type",
    ]);
    // workerd keeps the streamed body's Content-Length, so signing it is sound.
    assert.equal(seen.headers["content-length"], String(Buffer.byteLength(body)));
    assert.equal(seen.body_length, Buffer.byteLength(body));
    assert.equal(seen.headers["content-digest"], undefined, "a client's Content-Digest is dropped");
    assert.doesNotMatch(seen.headers.signature, /evil/);
    assert.doesNotMatch(seen.headers["signature-input"], /evil/);
    assert.equal(param(seen, "keyid"), "salesforge");
    assert.equal(param(seen, "alg"), "hmac-sha256");
    assert.equal(param(seen, "nonce"), seen.headers["keygate-request-id"]);
    assert.equal(Number(param(seen, "expires")) - Number(param(seen, "created")), 300);
    assert.ok(Math.abs(Number(param(seen, "created")) - Date.now() / 1000) < 30);
  });

  test("a chunked upload streams unsigned framing and still verifies", async () => {
    const seen = await through("/salesforge/v1/upload", {
      method: "POST",
      headers: { "X-Salesforge-Key": gw.keys.sf, "Content-Type": "text/plain" },
      chunks: ["hello ", "chunked ", "world"],
    });
    assert.equal(seen.signature_valid, true, seen.signature_error);
    assert.equal(seen.body_length, 19);
    // No Content-Length reaches the origin, and none is signed.
    assert.equal(seen.headers["content-length"], undefined);
    assert.equal(seen.headers["transfer-encoding"], "chunked");
    assert.ok(!covered(seen).includes("content-length"));
    assert.ok(covered(seen).includes("content-type"));
  });

  test("an empty POST and a GET verify", async () => {
    for (const init of [
      { method: "POST", headers: { "X-Salesforge-Key": gw.keys.sf, "Content-Length": "0" } },
      { method: "POST", headers: { "X-Salesforge-Key": gw.keys.sf }, body: "" },
      { headers: { "X-Salesforge-Key": gw.keys.sf } },
    ]) {
      const seen = await through("/salesforge/v1/empty", init);
      assert.equal(seen.signature_valid, true, `${JSON.stringify(init.headers)}: ${seen.signature_error}`);
      // An empty body's framing is not signed: nothing to protect.
      assert.ok(!covered(seen).includes("content-length"));
    }
  });

  test("a public path signs only the product, the request id and the client IP", async () => {
    const seen = await through("/salesforge/health");
    assert.equal(seen.signature_valid, true, seen.signature_error);
    assert.deepEqual(covered(seen), [
      "@method", "@authority", "@path", "@query", "keygate-product", "keygate-request-id", "keygate-client-ip",
    ]);
    // Adding an identity header to it is caught: it is not covered.
    const forged = await replay(seen, { headers: { "keygate-account": "acct_victim", "keygate-request-id": seen.headers["keygate-request-id"] } });
    assert.equal(forged.body.signature_valid, false);
    assert.match(forged.body.signature_error, /keygate-account is not signed/);
  });

  test("an odd Content-Type is refused, not forwarded unsigned", async () => {
    const res = await send(gw.url + "/salesforge/v1/leads", {
      method: "POST",
      headers: { "X-Salesforge-Key": gw.keys.sf, "Content-Type": Buffer.from("text/plain; x=\u00e9", "latin1").toString("latin1") },
      body: "x",
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, "invalid_field");
  });

  test("request ids are unique", async () => {
    const ids = new Set();
    for (let i = 0; i < 5; i++) ids.add((await through("/salesforge/health")).headers["keygate-request-id"]);
    assert.equal(ids.size, 5);
  });
});

describe("sign_body", () => {
  const post = (body, headers = {}) =>
    send(gw.url + "/bodyforge/v1/items", {
      method: "POST",
      headers: { "X-Bodyforge-Key": gw.keys.bf, "Content-Type": "application/json", ...headers },
      body,
    });

  test("signs the Content-Digest of the body it forwards", async () => {
    const body = JSON.stringify({ amount: 100 });
    const res = await post(body, { "Content-Digest": "sha-256=:AAAA:" });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const seen = res.body;
    assert.equal(seen.signature_valid, true, seen.signature_error);
    const digest = `sha-256=:${createHash("sha256").update(body).digest("base64")}:`;
    assert.equal(seen.headers["content-digest"], digest, "keygate's digest replaces the client's");
    assert.ok(covered(seen).includes("content-digest"));
    assert.equal(seen.body_sha256, createHash("sha256").update(body).digest("hex"));
    assert.equal(Number(param(seen, "expires")) - Number(param(seen, "created")), 60);
  });

  test("a chunked body is read, digested and forwarded whole", async () => {
    const res = await send(gw.url + "/bodyforge/v1/items", {
      method: "PUT",
      headers: { "X-Bodyforge-Key": gw.keys.bf },
      chunks: ["a".repeat(500), "b".repeat(524)],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.signature_valid, true, res.body.signature_error);
    assert.equal(res.body.body_length, 1024);
    assert.equal(res.body.headers["content-length"], "1024");
  });

  test("a GET signs the digest of the empty body", async () => {
    const seen = await through("/bodyforge/v1/items", { headers: { "X-Bodyforge-Key": gw.keys.bf } });
    assert.equal(seen.signature_valid, true, seen.signature_error);
    assert.equal(seen.headers["content-digest"], `sha-256=:${createHash("sha256").digest("base64")}:`);
  });

  test("over max_signed_body: 413 body_too_large, declared or chunked", async () => {
    const declared = await post("x".repeat(1025));
    assert.equal(declared.status, 413);
    assert.equal(declared.body.code, "body_too_large");
    const chunked = await send(gw.url + "/bodyforge/v1/items", {
      method: "POST",
      headers: { "X-Bodyforge-Key": gw.keys.bf },
      chunks: ["x".repeat(1000), "y".repeat(100)],
    });
    assert.equal(chunked.status, 413);
    assert.equal(chunked.body.code, "body_too_large");
    assert.equal((await post("x".repeat(1024))).status, 200, "exactly the limit passes");
  });
});

describe("replays straight to the origin", () => {
  let seen, body;
  before(async () => {
    body = JSON.stringify({ amount: 100, to: "acct_1" });
    const res = await send(gw.url + "/bodyforge/v1/pay?urgent=1", {
      method: "POST",
      headers: { "X-Bodyforge-Key": gw.keys.bf, "Content-Type": "application/json" },
      body,
    });
    seen = res.body;
    assert.equal(seen.signature_valid, true, seen.signature_error);
  });

  const refused = async (res, why) => {
    assert.equal(res.body.signature_valid, false);
    assert.match(res.body.signature_error, why);
  };

  test("unchanged, within expiry: refused as a replay (nonce already used)", async () => {
    await refused(await replay(seen, { body }), /nonce already used/);
  });

  test("a changed body (same length) fails the digest", async () => {
    const other = body.replace("100", "999");
    await refused(await replay(seen, { body: other }), /Content-Digest does not match/);
    // Changing the digest header too breaks the signature.
    const digest = `sha-256=:${createHash("sha256").update(other).digest("base64")}:`;
    await refused(await replay(seen, { body: other, headers: { "content-digest": digest } }), /mismatch/);
  });

  test("a changed host, path, query or method fails", async () => {
    const port = new URL(origin.url).port;
    await refused(await replay(seen, { body, headers: { host: `evil.example:${port}` } }), /mismatch/);
    await refused(await replay(seen, { body, path: "/body/v1/refund?urgent=1" }), /mismatch/);
    await refused(await replay(seen, { body, path: "/body/v1/pay?urgent=0" }), /mismatch/);
    await refused(await replay(seen, { body, method: "PUT" }), /mismatch/);
  });

  test("a changed product or identity fails", async () => {
    await refused(await replay(seen, { body, headers: { "keygate-product": "salesforge" } }), /mismatch/);
    await refused(await replay(seen, { body, headers: { "keygate-account": "acct_victim" } }), /mismatch/);
    const relabelled = seen.headers["signature-input"].replace('keyid="bodyforge"', 'keyid="salesforge"');
    await refused(await replay(seen, { body, headers: { "signature-input": relabelled } }), /mismatch/);
  });
});

describe("per-product keys", () => {
  const cliKey = (product) =>
    execFileSync(CLI, ["origin-key", "--product", product, "--config", join(ROOT, "wrangler.toml")], {
      env: { ...process.env, KEYGATE_ORIGIN_SECRET: SECRET },
      encoding: "utf8",
    }).trim();

  test("keygate origin-key prints the key the origin derives (HKDF)", () => {
    for (const product of ["salesforge", "mailforge"]) {
      assert.equal(cliKey(product), productKey(SECRET, product).toString("base64"));
    }
    assert.notEqual(cliKey("salesforge"), cliKey("mailforge"));
  });

  test("product A's key neither verifies nor forges product B's requests", async () => {
    const seen = await through("/salesforge/v1/leads", { headers: { "X-Salesforge-Key": gw.keys.sf } });
    assert.equal(seen.signature_valid, true);
    const message = { method: seen.method, url: `http://${seen.headers.host}${seen.url}`, headers: seen.headers };
    const withKey = (key) => ({
      keyLookup: async () => ({ id: "k", algs: ["hmac-sha256"], verify: createVerifier(key, "hmac-sha256") }),
    });
    const mfKey = Buffer.from(cliKey("mailforge"), "base64");
    const sfKey = Buffer.from(cliKey("salesforge"), "base64");
    assert.equal(await httpbis.verifyMessage(withKey(sfKey), message), true, "its own key verifies");
    assert.equal(await httpbis.verifyMessage(withKey(mfKey), message), false, "another product's key does not");

    // Mailforge's origin signs a request claiming to be Salesforge's.
    const forged = await httpbis.signMessage(
      {
        key: createSigner(mfKey, "hmac-sha256", "salesforge"),
        name: "keygate",
        fields: ["@method", "@authority", "@path", "@query", "keygate-product", "keygate-request-id"],
        params: ["created", "expires", "nonce", "keyid", "alg"],
        paramValues: { nonce: "f".repeat(32) },
      },
      {
        method: "GET",
        url: `${origin.url}/salesforge/v1/leads`,
        headers: { host: new URL(origin.url).host, "keygate-product": "salesforge", "keygate-request-id": "f".repeat(32) },
      },
    );
    const res = await send(`${origin.url}/salesforge/v1/leads`, { headers: forged.headers });
    assert.equal(res.body.signature_valid, false);
    assert.match(res.body.signature_error, /mismatch/);
    // The same request signed with Salesforge's key passes: the test can fail.
    const genuine = await httpbis.signMessage(
      {
        key: createSigner(sfKey, "hmac-sha256", "salesforge"),
        name: "keygate",
        fields: ["@method", "@authority", "@path", "@query", "keygate-product", "keygate-request-id"],
        params: ["created", "expires", "nonce", "keyid", "alg"],
        paramValues: { nonce: "e".repeat(32) },
      },
      {
        method: "GET",
        url: `${origin.url}/salesforge/v1/leads`,
        headers: { host: new URL(origin.url).host, "keygate-product": "salesforge", "keygate-request-id": "e".repeat(32) },
      },
    );
    const ok = await send(`${origin.url}/salesforge/v1/leads`, { headers: genuine.headers });
    assert.equal(ok.body.signature_valid, true, ok.body.signature_error);
  });
});

describe("the Python snippet (demo/verify.py)", () => {
  // Needs `pip install http-message-signatures==3.0.0`; PYTHON picks the
  // interpreter (`make test` passes the venv scripts/setup.sh makes, and
  // then the test must run). Skipped only when PYTHON is not given and the
  // default python3 lacks the package.
  const python = process.env.PYTHON ?? "python3";
  let available = false;
  try {
    execFileSync(python, ["-c", "import http_message_signatures"], { stdio: "ignore" });
    available = true;
  } catch {}
  const runPython = (request, products) =>
    JSON.parse(
      execFileSync(python, [join(ROOT, "demo/verify.py"), ...products], {
        input: JSON.stringify(request),
        env: { ...process.env, KEYGATE_ORIGIN_SECRET: SECRET },
        encoding: "utf8",
      }),
    );

  test("verifies what keygate forwards, and refuses a change", { skip: !available && !process.env.PYTHON && `${python} lacks http_message_signatures` }, async () => {
    const body = JSON.stringify({ amount: 7 });
    const res = await send(gw.url + "/bodyforge/v1/pay", {
      method: "POST",
      headers: { "X-Bodyforge-Key": gw.keys.bf, "Content-Type": "application/json" },
      body,
    });
    const seen = res.body;
    assert.equal(seen.signature_valid, true, seen.signature_error);
    const request = {
      method: seen.method,
      url: `http://${seen.headers.host}${seen.url}`,
      headers: seen.headers,
      body_base64: Buffer.from(body).toString("base64"),
    };
    assert.deepEqual(runPython(request, ["bodyforge"]), { ok: true, keyid: "bodyforge" });
    const tampered = runPython({ ...request, body_base64: Buffer.from(body.replace("7", "9")).toString("base64") }, ["bodyforge"]);
    assert.equal(tampered.ok, false);
    assert.match(tampered.error, /Content-Digest/);
    const otherOrigin = runPython(request, ["salesforge"]);
    assert.equal(otherOrigin.ok, false, "an origin with only another product's key refuses");
    const moved = runPython({ ...request, url: request.url.replace("/pay", "/refund") }, ["bodyforge"]);
    assert.equal(moved.ok, false);
  });
});

test("the request log carries the request id, never a signature", async () => {
  const seen = await through("/salesforge/health");
  await new Promise((r) => setTimeout(r, 300));
  const entry = gw.logEntries().find((e) => e.request_id === seen.headers["keygate-request-id"]);
  assert.ok(entry, "log line with the request id");
  assert.ok(!gw.lines.join("").includes(seen.headers.signature.slice(9, 40)));
});

test("docs/origin.md shows demo/verify.mjs and demo/verify.py as they are", () => {
  const doc = readFileSync(join(ROOT, "docs/origin.md"), "utf8");
  const mjs = readFileSync(join(ROOT, "demo/verify.mjs"), "utf8");
  assert.ok(doc.includes("```js\n" + mjs + "```"), "docs/origin.md's Node snippet is demo/verify.mjs");
  const py = readFileSync(join(ROOT, "demo/verify.py"), "utf8");
  const fn = py.slice(py.indexOf("import time"), py.indexOf("\n\nif __name__"));
  assert.ok(doc.includes("```python\n" + fn + "\n```"), "docs/origin.md's Python snippet is demo/verify.py");
});
