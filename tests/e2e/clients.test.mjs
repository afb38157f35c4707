// Real clients through keygate (issue 8): curl uploads and downloads with
// its default headers (Expect: 100-continue above 1 MiB), a WebSocket
// client (npm `ws`), the official MCP SDK client against an SDK server over
// streamable HTTP, SSE, cookie lists, gzip, redirects, ranges and
// conditional requests; proxy and hop-by-hop headers; the signed client IP;
// CORS answered at the edge. The origin is tests/e2e/clients-origin.mjs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ROOT, problem, startGateway, startOrigin, rawRequest } from "./harness.mjs";

export const PAGE_ORIGIN = "http://127.0.0.1:1";
const template = readFileSync(join(ROOT, "tests/e2e/wrangler.clients.toml"), "utf8").replaceAll(
  "__PAGE_ORIGIN__",
  PAGE_ORIGIN,
);
let origin, gw, scratch, upload, uploadSha;

before(async () => {
  origin = await startOrigin("tests/e2e/clients-origin.mjs");
  gw = await startGateway({
    template,
    origin: origin.url,
    keys: {
      app: ["--product", "clients", "--account", "acct_clients"],
      other: ["--product", "clients", "--account", "acct_clients"],
      trusting: ["--product", "trusting", "--account", "acct_clients"],
      bo: ["--product", "byorigin", "--account", "acct_clients"],
    },
  });
  scratch = mkdtempSync(join(tmpdir(), "keygate-clients-"));
  upload = join(scratch, "upload.bin");
  const data = randomBytes(50 << 20);
  uploadSha = createHash("sha256").update(data).digest("hex");
  writeFileSync(upload, data);
});

after(async () => {
  rmSync(scratch ?? "/nonexistent", { recursive: true, force: true });
  if (process.env.KEYGATE_E2E_DUMP) writeFileSync(process.env.KEYGATE_E2E_DUMP, gw?.lines.join("") ?? "");
  await gw?.stop();
  await origin?.stop();
});

/** curl with its default headers; returns { status, seconds, body }. */
function curl(args) {
  const out = join(scratch, `out-${Math.random()}`);
  const meta = execFileSync(
    "curl",
    ["-sS", "-o", out, "-w", "%{http_code} %{time_total}", "--max-time", "60", ...args],
    { encoding: "utf8" },
  );
  const [status, seconds] = meta.trim().split(" ");
  const body = readFileSync(out);
  rmSync(out);
  return { status: Number(status), seconds: Number(seconds), body };
}

/** node:http, which sends any header as written (Connection included). */
const send = (method, path, headers = {}) => rawRequest(gw.url, method, path, headers);

const app = () => ({ "X-App-Key": gw.keys.app });

describe("uploads and interim responses", () => {
  test("curl uploads 50 MiB with a key, with its default Expect: 100-continue", () => {
    const res = curl(["-X", "POST", "--data-binary", `@${upload}`, "-H", `X-App-Key: ${gw.keys.app}`,
      "-H", "Content-Type: application/octet-stream", `${gw.url}/clients/upload`]);
    assert.equal(res.status, 200, res.body.toString());
    const seen = JSON.parse(res.body);
    assert.equal(seen.size, 50 << 20);
    assert.equal(seen.sha256, uploadSha);
    assert.equal(seen.headers.expect, undefined, "Expect is never forwarded");
    assert.equal(seen.headers["x-app-key"], undefined);
    assert.equal(seen.signature_valid, true);
    assert.ok(res.seconds < 20, `took ${res.seconds} s`);
  });

  test("curl uploads 50 MiB on a public path without a key (PUT -T)", () => {
    const res = curl(["-T", upload, `${gw.url}/clients/public/file.bin`]);
    assert.equal(res.status, 200, res.body.toString());
    const seen = JSON.parse(res.body);
    assert.equal(seen.size, 50 << 20);
    assert.equal(seen.sha256, uploadSha);
    assert.equal(seen.headers.expect, undefined);
  });

  test("a refused upload with Expect: 100-continue is refused at once", () => {
    const res = curl(["-X", "POST", "--data-binary", `@${upload}`, "-H", "Expect: 100-continue",
      `${gw.url}/clients/upload`]);
    assert.equal(res.status, 401);
    assert.equal(JSON.parse(res.body).code, "missing_key");
    assert.ok(res.seconds < 10, `took ${res.seconds} s`);
  });

  test("an origin's stray interim answer never becomes the final one", async () => {
    const res = await fetch(`${gw.url}/clients/interim`, { headers: app() });
    await res.arrayBuffer();
    assert.ok(res.status === 200 || res.status === 502, `status ${res.status}`);
    const statuses = gw.logEntries().map((e) => e.status);
    assert.ok(statuses.every((s) => s >= 200), `logged ${statuses}`);
  });

  test("curl downloads with its default headers, whole and by range", () => {
    const whole = curl(["-H", `X-App-Key: ${gw.keys.app}`, `${gw.url}/clients/big`]);
    assert.equal(whole.status, 200);
    assert.equal(whole.body.length, 1 << 20);
    const part = curl(["-r", "10-19", "-H", `X-App-Key: ${gw.keys.app}`, `${gw.url}/clients/big`]);
    assert.equal(part.status, 206);
    assert.equal(part.body.toString(), "abcdef0123");
  });
});

describe("pass-through stays unchanged", () => {
  test("SSE events arrive as they are sent", async () => {
    const res = await fetch(`${gw.url}/clients/sse`, { headers: app() });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /text\/event-stream/);
    const reader = res.body.getReader();
    const arrivals = [];
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      arrivals.push(Date.now());
    }
    const events = text.split("\n\n").filter(Boolean);
    assert.equal(events.length, 3);
    assert.ok(arrivals.length >= 3, "streamed, not buffered");
    assert.ok(arrivals.at(-1) - arrivals[0] >= 400, `spread ${arrivals.at(-1) - arrivals[0]} ms`);
  });

  test("Set-Cookie lists, gzip, redirects and conditional requests", async () => {
    const cookies = await fetch(`${gw.url}/clients/cookies`, { headers: app() });
    assert.deepEqual(cookies.headers.getSetCookie(), [
      "a=1; Path=/; HttpOnly", "b=2; Path=/; Secure", "c=3, with comma; Path=/",
    ]);
    const zipped = await send("GET", "/clients/gzip", { ...app(), "Accept-Encoding": "gzip" });
    assert.equal(zipped.headers["content-encoding"], "gzip");
    const unzipped = await fetch(`${gw.url}/clients/gzip`, { headers: app() });
    assert.equal((await unzipped.json()).zipped, true);
    const redirect = await fetch(`${gw.url}/clients/redirect`, { headers: app(), redirect: "manual" });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("location"), "/clients/elsewhere?from=redirect");
    const fresh = await fetch(`${gw.url}/clients/big`, { headers: { ...app(), "If-None-Match": '"v1"' } });
    assert.equal(fresh.status, 304);
    assert.equal(fresh.headers.get("etag"), '"v1"');
    const empty = await fetch(`${gw.url}/clients/empty`, { headers: app() });
    assert.equal(empty.status, 204);
    assert.equal(empty.headers.get("keygate-leak"), null);
    assert.equal(empty.headers.get("x-kind"), "empty");
  });
});

describe("proxy headers, hop-by-hop headers, client IP", () => {
  const spoofed = {
    "X-Forwarded-For": "6.6.6.6",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Prefix": "/admin",
    Forwarded: "for=6.6.6.6;host=evil.example",
    "X-Real-IP": "6.6.6.6",
    "True-Client-IP": "6.6.6.6",
    X_Forwarded_For: "6.6.6.6",
  };

  test("client proxy headers are dropped, and the signed client IP is sent", async () => {
    const res = await send("GET", "/clients/who", { ...app(), ...spoofed, "Keygate-Client-Ip": "6.6.6.6" });
    assert.equal(res.status, 200);
    const got = res.body.headers;
    for (const name of Object.keys(spoofed)) assert.equal(got[name.toLowerCase()], undefined, name);
    assert.match(got["keygate-client-ip"], /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
    assert.match(got["signature-input"], /"keygate-client-ip"/);
    assert.equal(res.body.signature_valid, true);
  });

  test("trust_forwarded = true keeps them", async () => {
    const res = await send("GET", "/trusting/who", { Authorization: `Bearer ${gw.keys.trusting}`, ...spoofed });
    assert.equal(res.status, 200);
    assert.equal(res.body.headers["x-forwarded-for"], "6.6.6.6");
    assert.equal(res.body.headers.forwarded, "for=6.6.6.6;host=evil.example");
    assert.ok(res.body.headers["keygate-client-ip"]);
  });

  // wrangler dev's own proxy drops Connection (though not the headers it
  // names) before the Worker runs, so this goes to the runtime's socket.
  test("headers named by Connection are dropped with it", async () => {
    const direct = await gw.runtimeUrl();
    const res = await rawRequest(direct, "GET", "/clients/who", {
      ...app(), Connection: "close, X-Foo, x_bar", "X-Foo": "hop", "X-Bar": "hop", "X-Kept": "end",
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.headers["x-foo"], undefined);
    assert.equal(res.body.headers["x-bar"], undefined);
    assert.equal(res.body.headers["x-kept"], "end");
  });
});

describe("CORS without a browser", () => {
  const preflight = (path, origin, extra = {}) =>
    fetch(`${gw.url}${path}`, {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-app-key, content-type", ...extra },
    });

  test("a preflight is answered at the edge with no key and no storage read", async () => {
    const before = gw.logEntries().length;
    const res = await preflight("/clients/anything", PAGE_ORIGIN);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), PAGE_ORIGIN);
    assert.match(res.headers.get("access-control-allow-headers"), /X-App-Key/);
    assert.equal(res.headers.get("access-control-allow-methods"), "GET, POST");
    assert.equal(res.headers.get("access-control-max-age"), "60");
    assert.equal(res.headers.get("vary"), "Origin");
    assert.equal(res.headers.get("access-control-allow-credentials"), null);
    await new Promise((r) => setTimeout(r, 200));
    const entries = gw.logEntries().slice(before);
    assert.equal(entries.at(-1).kv_reads, 0);
  });

  test("a disallowed origin gets no CORS headers", async () => {
    const res = await preflight("/clients/anything", "https://evil.example");
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    const answer = await fetch(`${gw.url}/clients/who`, { headers: { ...app(), Origin: "https://evil.example" } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("access-control-allow-origin"), null);
    assert.match(answer.headers.get("vary"), /Origin/);
  });

  test("answers and refusals carry CORS headers and expose WWW-Authenticate", async () => {
    const ok = await fetch(`${gw.url}/clients/who`, { headers: { ...app(), Origin: PAGE_ORIGIN } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), PAGE_ORIGIN);
    const refused = await fetch(`${gw.url}/clients/who`, { headers: { Origin: PAGE_ORIGIN } });
    const p = await problem(refused);
    assert.equal(p.status, 401);
    assert.equal(p.body.code, "missing_key");
    assert.equal(refused.headers.get("access-control-allow-origin"), PAGE_ORIGIN);
    assert.match(refused.headers.get("access-control-expose-headers"), /WWW-Authenticate/);
    assert.match(refused.headers.get("access-control-expose-headers"), /X-Kind/);
  });

  test('cors = "origin" passes preflights to the origin without a key', async () => {
    const res = await preflight("/byorigin/cors-by-origin", "https://app.example");
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("x-answered-by"), "origin");
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
    // Anything else still needs the key.
    const plain = await fetch(`${gw.url}/byorigin/cors-by-origin`, { method: "OPTIONS" });
    assert.equal(plain.status, 401);
  });
});

/** Opens a socket; resolves { ws, hello } or rejects with the HTTP status. */
function openSocket(path, { headers = {}, protocols } = {}) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`${gw.url.replace("http", "ws")}${path}`, protocols, { headers });
    ws.once("unexpected-response", (_req, res) =>
      fail(Object.assign(new Error("refused"), { status: res.statusCode, headers: res.headers })),
    );
    ws.once("error", fail);
    ws.once("message", (data) => ok({ ws, hello: JSON.parse(data.toString()).hello }));
  });
}

const nextMessage = (ws) => new Promise((ok) => ws.once("message", (data, binary) => ok({ data, binary })));
const closed = (ws) => new Promise((ok) => ws.once("close", (code, reason) => ok({ code, reason: reason.toString(), at: Date.now() })));

describe("WebSockets", () => {
  test("an upgrade with the key header is verified, signed and proxied both ways", async () => {
    const { ws, hello } = await openSocket("/clients/ws?room=1", { headers: app() });
    assert.equal(hello.url, "/clients/ws?room=1");
    assert.equal(hello.headers["x-app-key"], undefined);
    assert.ok(hello.headers["keygate-key-id"]);
    assert.ok(hello.headers["keygate-client-ip"]);
    assert.equal(hello.signature_valid, true);
    ws.send("ping");
    assert.equal((await nextMessage(ws)).data.toString(), "ping");
    ws.send(Buffer.from([0, 1, 2, 255]));
    const binary = await nextMessage(ws);
    assert.equal(binary.binary, true);
    assert.deepEqual([...binary.data], [0, 1, 2, 255]);
    const done = closed(ws);
    ws.send("close-me");
    const { code, reason } = await done;
    assert.equal(code, 4001);
    assert.equal(reason, "asked");
  });

  test("the key may come from a protocol entry or the query, and never reaches the origin", async () => {
    const key = gw.keys.other;
    const byProtocol = await openSocket("/clients/ws", { protocols: ["chat.v1", key] });
    assert.equal(byProtocol.hello.protocol, "chat.v1");
    assert.equal(byProtocol.ws.protocol, "chat.v1");
    assert.doesNotMatch(JSON.stringify(byProtocol.hello), new RegExp(key));
    byProtocol.ws.close();
    const byQuery = await openSocket(`/clients/ws?api_key=${key}&room=2`);
    assert.equal(byQuery.hello.url, "/clients/ws?room=2");
    assert.doesNotMatch(JSON.stringify(byQuery.hello), new RegExp(key));
    assert.equal(byQuery.hello.signature_valid, true, "the signed @query is the one forwarded");
    byQuery.ws.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.doesNotMatch(gw.lines.join(""), new RegExp(key), "the key is never logged");
  });

  test("an upgrade without a valid key is refused before the origin", async () => {
    await assert.rejects(openSocket("/clients/ws"), (e) => e.status === 401);
    await assert.rejects(openSocket("/clients/ws?api_key=cl_live_nope"), (e) => e.status === 400 || e.status === 401);
  });

  // Issue 18 (Low 3): a refused upgrade's answer went back untouched.
  test("an origin's refused upgrade passes without keygate's cookies or Keygate-* headers", async () => {
    await assert.rejects(openSocket("/clients/ws/refuse-upgrade", { headers: app() }), (e) => {
      assert.equal(e.status, 403);
      assert.deepEqual(e.headers["set-cookie"], ["sid=1; Path=/"]);
      assert.equal(e.headers["keygate-account"], undefined);
      return true;
    });
  });

  test("keygate closes a socket after max_connection_seconds", async () => {
    const started = Date.now();
    const { ws } = await openSocket("/clients/ws", { headers: app() });
    const { code, at } = await closed(ws);
    assert.equal(code, 1008);
    const held = at - started;
    assert.ok(held >= 2500 && held < 8000, `held ${held} ms`);
  });
});

describe("MCP", () => {
  test("the SDK client calls an SDK server; progress arrives before the call ends", async () => {
    const transport = new StreamableHTTPClientTransport(new URL(`${gw.url}/clients/mcp`), {
      requestInit: { headers: app() },
    });
    const client = new Client({ name: "e2e-client", version: "1.0.0" });
    await client.connect(transport);
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === "count"));
    const progress = [];
    const started = Date.now();
    const result = await client.callTool({ name: "count", arguments: { n: 4 } }, undefined, {
      onprogress: (p) => progress.push({ ...p, at: Date.now() }),
    });
    const ended = Date.now();
    assert.equal(result.content[0].text, "counted to 4");
    assert.deepEqual(progress.map((p) => p.progress), [1, 2, 3, 4]);
    assert.ok(ended - progress[0].at >= 300, `first progress ${ended - progress[0].at} ms before the end`);
    assert.ok(progress[0].at - started < ended - started - 300);
    await client.close();
    const refused = new Client({ name: "no-key", version: "1.0.0" });
    await assert.rejects(refused.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/clients/mcp`))));
  });
});
