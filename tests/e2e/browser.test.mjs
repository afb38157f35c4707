// CORS in a real browser: Debian's Chromium, driven by playwright-core
// with executablePath. A page served from another origin (a small node
// server on another port) calls a product with its key header, and reads a
// 200 and a 401's `code`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { ROOT, freePort, startGateway, startOrigin } from "./harness.mjs";

let origin, gw, page, browser, profile, pageServer, pageOrigin;

before(async () => {
  const port = await freePort();
  pageOrigin = `http://127.0.0.1:${port}`;
  pageServer = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>app</title><p>app");
  });
  await new Promise((ok) => pageServer.listen(port, "127.0.0.1", ok));
  const template = readFileSync(join(ROOT, "tests/e2e/wrangler.clients.toml"), "utf8")
    .replaceAll("__PAGE_ORIGIN__", pageOrigin);
  origin = await startOrigin("tests/e2e/clients-origin.mjs");
  gw = await startGateway({
    template,
    origin: origin.url,
    keys: { app: ["--product", "clients", "--account", "acct_browser"] },
  });
  profile = mkdtempSync(join(tmpdir(), "keygate-chromium-"));
  // A fresh --user-data-dir: playwright takes it as the persistent
  // context's directory.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage();
  await page.goto(`${pageOrigin}/`);
});

after(async () => {
  await browser?.close();
  pageServer?.close();
  rmSync(profile ?? "/nonexistent", { recursive: true, force: true });
  await gw?.stop();
  await origin?.stop();
});

test("a page on another origin calls with its key header and reads a 200 and a 401's code", async () => {
  const result = await page.evaluate(async ({ url, key }) => {
    const ok = await fetch(`${url}/clients/who`, {
      method: "POST",
      headers: { "X-App-Key": key, "Content-Type": "application/json" },
      body: "{}",
    });
    const okBody = await ok.json();
    const refused = await fetch(`${url}/clients/who`, { headers: { "X-App-Key": "cl_live_bad" } });
    const refusedBody = await refused.json();
    return {
      ok: ok.status,
      forwardedKey: okBody.headers["x-app-key"] ?? null,
      keyId: okBody.headers["keygate-key-id"] ?? null,
      refused: refused.status,
      code: refusedBody.code,
      challenge: refused.headers.get("www-authenticate"),
    };
  }, { url: gw.url, key: gw.keys.app });
  assert.equal(result.ok, 200);
  assert.equal(result.forwardedKey, null);
  assert.ok(result.keyId);
  assert.ok(result.refused === 401 || result.refused === 400, `status ${result.refused}`);
  assert.ok(result.code, "the refusal's code is readable");
  assert.ok(result.challenge, "WWW-Authenticate is exposed");
});

test("a disallowed page origin cannot read answers", async () => {
  const other = await browser.newPage();
  await other.goto(`http://localhost:${new URL(pageOrigin).port}/`);
  const outcome = await other.evaluate(async ({ url, key }) => {
    try {
      await fetch(`${url}/clients/who`, { headers: { "X-App-Key": key } });
      return "read";
    } catch (e) {
      return "blocked";
    }
  }, { url: gw.url, key: gw.keys.app });
  assert.equal(outcome, "blocked");
  await other.close();
});
