// The API Keys page in a real browser (Debian's Chromium via
// playwright-core): a product's user opens the link, creates a key and
// copies it from the page once, calls the gateway with it, edits it and sees
// the gateway enforce the change, rotates and revokes it. Screenshots of the
// list, the create dialog with the key shown once, and the revoke dialog
// are written to docs/ (KEYGATE_SCREENSHOTS=0 skips writing them).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { ROOT, startGateway, startOrigin } from "./harness.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.portal.toml"), "utf8");
const shotDir = process.env.KEYGATE_SCREENSHOTS === "1" ? join(ROOT, "docs") : mkdtempSync(join(tmpdir(), "keygate-shots-"));
const shot = (name) => page.screenshot({ path: join(shotDir, name), fullPage: name === "portal-list.png" });
let origin, gw, browser, profile, page, problems, expiring;

before(async () => {
  origin = await startOrigin();
  gw = await startGateway({ template, origin: origin.url });
  const seeded = await gw.admin("POST", "/accounts/acct_browser/keys", {
    product: "forgeai", name: "Production server", scopes: ["read", "execute_flows"],
    allowed_ips: ["203.0.113.0/24"],
  });
  assert.equal(seeded.status, 201);
  // A link that will have expired by the last test (60 s is the least).
  const short = await gw.admin("POST", "/accounts/acct_browser/portal-sessions", {
    return_url: "http://localhost:3000/settings", expires_in_seconds: 60,
  });
  assert.equal(short.status, 201);
  expiring = { url: short.body.url, at: Date.now() };
  profile = mkdtempSync(join(tmpdir(), "keygate-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1100, height: 760 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    permissions: ["clipboard-read", "clipboard-write"],
  });
  page = await browser.newPage();
  problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(String(e)));
});

after(async () => {
  await browser?.close();
  rmSync(profile ?? "/nonexistent", { recursive: true, force: true });
  await gw?.stop();
  await origin?.stop();
});

const call = (key, path = "/forgeai/api/v1/logs/1") =>
  fetch(`${gw.url}${path}`, { headers: { Authorization: `Bearer ${key}` } }).then((r) => r.status);

test("create, copy once, use, edit, rotate and revoke a key from the page", async () => {
  const granted = await gw.admin("POST", "/accounts/acct_browser/portal-sessions", {
    return_url: "http://localhost:3000/settings", products: ["forgeai"],
  });
  assert.equal(granted.status, 201);
  await page.goto(granted.body.url);
  assert.equal(new URL(page.url()).pathname, "/_keygate/keys/", "the token leaves the address bar");
  await page.getByRole("heading", { name: "API keys" }).waitFor();
  await page.locator(".key-name", { hasText: "Production server" }).waitFor();
  // The key's IP allowlist is shown; this page may not edit it (the
  // operator has not set portal.editable_allowed_ips).
  const seededRow = page.locator("li.key", { hasText: "Production server" });
  assert.equal(await seededRow.locator("dd.networks").textContent(), "203.0.113.0/24");
  await seededRow.getByRole("button", { name: "Edit Production server" }).click();
  assert.equal(await page.locator("li.key.editing textarea").count(), 0, "no allowlist editor");
  await page.locator("li.key.editing").getByRole("button", { name: "Cancel" }).click();
  await shot("portal-list.png");

  // Create: permissions pre-checked from the product's defaults.
  await page.getByRole("button", { name: "Create key" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name").fill("CI runner");
  assert.equal(await dialog.getByRole("checkbox", { name: /execute_flows/ }).isChecked(), true);
  assert.equal(await dialog.getByRole("checkbox", { name: /view_logs/ }).isChecked(), false);
  await dialog.getByLabel(/Expires after/).fill("30");
  await dialog.getByRole("button", { name: "Create key" }).click();
  const shown = dialog.locator("#new-key");
  await shown.waitFor();
  const key = await shown.inputValue();
  assert.match(key, /^fai_live_/);
  await dialog.getByRole("button", { name: "Copy" }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
  await shot("portal-create.png");
  await dialog.getByRole("button", { name: "I have stored it" }).click();
  assert.equal(await page.locator("#new-key").count(), 0, "the key is never shown again");
  assert.equal(await page.getByText(key).count(), 0);
  assert.equal(await call(key), 403, "view_logs was not granted");

  // Errors are shown next to the field that they name.
  await page.getByRole("button", { name: "Edit CI runner" }).click();
  const row = page.locator("li.key.editing");
  await row.getByLabel("Name").fill("");
  await row.getByRole("button", { name: "Save" }).click();
  await row.locator("#err-name").waitFor();

  // Edit: rename and grant view_logs; the gateway enforces it at once (strict).
  await row.getByLabel("Name").fill("CI runner (logs)");
  await row.getByRole("checkbox", { name: /view_logs/ }).check();
  await row.getByRole("button", { name: "Save" }).click();
  await page.locator(".key-name", { hasText: "CI runner (logs)" }).waitFor();
  assert.equal(await call(key), 200);

  // Rotate with no grace: the old key stops, the new one works.
  const edited = page.locator("li.key", { hasText: "CI runner (logs)" });
  await edited.getByRole("button", { name: /^Rotate/ }).click();
  await page.getByRole("dialog").getByLabel("Grace period").selectOption("0");
  await page.getByRole("dialog").getByRole("button", { name: "Rotate key" }).click();
  const rotatedField = page.locator("#rotated-key");
  await rotatedField.waitFor();
  const rotated = await rotatedField.inputValue();
  await page.getByRole("dialog").getByRole("button", { name: "I have stored it" }).click();
  assert.equal(await call(key), 401);
  assert.equal(await call(rotated), 200);

  // Revoke: only after typing the key's name.
  const live = page.locator("li.key.status-active", { hasText: "CI runner (logs)" });
  await live.getByRole("button", { name: /^Revoke/ }).click();
  const confirm = page.getByRole("dialog");
  const revoke = confirm.getByRole("button", { name: "Revoke key" });
  assert.equal(await revoke.isDisabled(), true);
  await confirm.getByLabel(/to confirm/).fill("CI runner (logs)");
  await shot("portal-revoke.png");
  await revoke.click();
  await confirm.waitFor({ state: "detached" });
  assert.equal(await call(rotated), 401);
  await page.getByText(/revoked/).first().waitFor();
  // The one failed load is the refused empty name above.
  assert.deepEqual(
    problems.filter((p) => !/status of 400/.test(p)),
    [],
    "no script, CSP or loading errors in the page",
  );
});

test("in the browser: a reused link, a change without the CSRF token, another product's key", async () => {
  await page.setViewportSize({ width: 1100, height: 760 });
  const mail = await gw.admin("POST", "/accounts/acct_browser/keys", { product: "mailforge", name: "Mail key" });
  assert.equal(mail.status, 201);
  const granted = await gw.admin("POST", "/accounts/acct_browser/portal-sessions", {
    return_url: "http://localhost:3000/settings", products: ["forgeai"],
  });
  await page.goto(granted.body.url);
  await page.getByRole("heading", { name: "API keys" }).waitFor();
  assert.equal(await page.getByText("Mail key").count(), 0, "another product's keys are not listed");
  const refused = await page.evaluate(async (id) => {
    const noCsrf = await fetch("/_keygate/keys/api/keys", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ product: "forgeai", name: "sneaky" }),
    });
    const csrf = document.querySelector('meta[name="keygate-csrf"]').content;
    const other = await fetch(`/_keygate/keys/api/keys/${id}`, {
      method: "DELETE", headers: { "X-Keygate-CSRF": csrf },
    });
    return { noCsrf: [noCsrf.status, (await noCsrf.json()).code], other: [other.status, (await other.json()).code] };
  }, mail.body.id);
  assert.deepEqual(refused.noCsrf, [403, "csrf_failed"]);
  assert.deepEqual(refused.other, [404, "key_not_found"]);
  const still = await gw.admin("GET", `/accounts/acct_browser/keys/${mail.body.id}`);
  assert.equal(still.body.status, "active");
  await page.goto(granted.body.url);
  await page.getByText(/already used/).waitFor();
  await page.getByRole("link", { name: "Go back" }).waitFor();
});

test("in the browser: Sign out ends the session, not only the cookie, and goes back", async () => {
  const granted = await gw.admin("POST", "/accounts/acct_browser/portal-sessions", {
    return_url: "http://localhost:3000/settings", products: ["forgeai"],
  });
  assert.equal(granted.status, 201);
  // The product's own page, served here in its stead.
  await page.route("http://localhost:3000/**", (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>Settings</title><p>settings</p>" }));
  try {
    await page.goto(granted.body.url);
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.path.startsWith("/_keygate/keys"));
    assert.ok(session, "signed in with a cookie");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("http://localhost:3000/settings");
  } finally {
    await page.unroute("http://localhost:3000/**");
  }
  const list = await gw.admin("GET", "/accounts/acct_browser/portal-sessions");
  assert.equal(list.body.sessions.find((s) => s.id === granted.body.id).status, "revoked");
  assert.equal((await page.context().cookies()).filter((c) => c.path.startsWith("/_keygate/keys")).length, 0,
    "the cookie is gone too");
});

test("the page works at 360 px wide", async () => {
  const granted = await gw.admin("POST", "/accounts/acct_browser/portal-sessions", {
    return_url: "http://localhost:3000/settings",
  });
  await page.goto(granted.body.url);
  await page.setViewportSize({ width: 360, height: 740 });
  await page.getByRole("heading", { name: "API keys" }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`);
});

test("accessible: axe finds no WCAG A/AA violation, dialogs trap and return focus, Escape closes", async () => {
  // axe is injected as a script, which the page's CSP rightly refuses:
  // this page alone bypasses the CSP, for the audit.
  const auditPage = await browser.newPage();
  const cdp = await browser.newCDPSession(auditPage);
  await cdp.send("Page.setBypassCSP", { enabled: true });
  const granted = await gw.admin("POST", "/accounts/acct_browser/portal-sessions", {
    return_url: "http://localhost:3000/settings", products: ["forgeai"],
  });
  await auditPage.goto(granted.body.url);
  await auditPage.getByRole("heading", { name: "API keys" }).waitFor();
  const axeSource = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
  const run = async () => {
    await auditPage.addScriptTag({ content: axeSource });
    return auditPage.evaluate(async () => {
      const result = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
      return {
        violations: result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
        checked: result.passes.map((p) => p.id),
      };
    });
  };
  const list = await run();
  assert.deepEqual(list.violations, [], "the key list");
  for (const rule of ["color-contrast", "label", "button-name"]) {
    assert.ok(list.checked.includes(rule) || rule === "label", `axe checked ${rule}`);
  }
  const opener = auditPage.getByRole("button", { name: "Create key" });
  await opener.click();
  const dialog = auditPage.getByRole("dialog");
  // Focus moves into the dialog (fails by timeout if it never does).
  await auditPage.waitForFunction(() => document.activeElement?.id === "key-name", null, { timeout: 10_000 });
  const create = await run();
  assert.deepEqual(create.violations, [], "the create dialog");
  assert.ok(create.checked.includes("label"), "axe checked the form's labels");
  await auditPage.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  // Focus returns to the opener.
  await auditPage.waitForFunction(() => document.activeElement?.textContent === "Create key", null, { timeout: 10_000 });
  // Keyboard only: Tab reaches the first key's Edit button.
  let reached = false;
  for (let i = 0; i < 15 && !reached; i++) {
    await auditPage.keyboard.press("Tab");
    reached = await auditPage.evaluate(() => /^Edit /.test(document.activeElement?.getAttribute("aria-label") ?? ""));
  }
  assert.ok(reached, "the row actions are reachable with Tab");
  // The audit can fail: a faint, unlabelled field is found.
  await auditPage.evaluate(() => {
    const field = document.createElement("input");
    document.querySelector("main").append(field);
    const faint = document.createElement("p");
    faint.textContent = "faint";
    faint.className = "probe";
    document.querySelector("main").append(faint);
    document.styleSheets[0].insertRule(".probe { color: #c8c8c8 }");
  });
  const broken = await run();
  assert.ok(broken.violations.some((v) => v.startsWith("label")), broken.violations.join("; "));
  assert.ok(broken.violations.some((v) => v.startsWith("color-contrast")), broken.violations.join("; "));
  await auditPage.close();
});

test("in the browser: an expired link is refused with a way back", async () => {
  await new Promise((r) => setTimeout(r, Math.max(0, expiring.at + 61_000 - Date.now())));
  await page.goto(expiring.url);
  await page.getByText(/expired/).waitFor();
  await page.getByRole("link", { name: "Go back" }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/_keygate/keys/start");
  const cookies = await browser.cookies();
  assert.ok(!cookies.some((c) => c.value.includes(expiring.url.split("~")[1])), "no cookie for the expired session");
});
