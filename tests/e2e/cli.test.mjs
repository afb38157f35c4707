// The operator CLI (target/debug/keygate keys|accounts|events) against the
// management API on workerd (`wrangler dev`, both Workers), as an operator
// runs it: --url, the admin token in KEYGATE_ADMIN_TOKEN, tables or --json.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_PREFIX, ROOT, startGateway, startOrigin } from "./harness.mjs";

const CLI = process.env.KEYGATE_CLI ?? join(ROOT, "target/debug/keygate");
const template = readFileSync(join(ROOT, "tests/e2e/wrangler.manage.toml"), "utf8");

let origin, gw;

before(async () => {
  origin = await startOrigin();
  gw = await startGateway({ template, origin: origin.url });
});

after(async () => {
  await gw?.stop();
  await origin?.stop();
});

/** Runs the CLI; resolves { code, stdout, stderr }. Asynchronous, so wrangler keeps serving. */
function cli(args, { token = gw.adminToken, input, url = gw.url + ADMIN_PREFIX } = {}) {
  return new Promise((ok, fail) => {
    const env = { ...process.env };
    delete env.KEYGATE_ADMIN_TOKEN;
    delete env.KEYGATE_URL;
    if (token !== null) env.KEYGATE_ADMIN_TOKEN = token;
    const full = url === null ? args : [...args, "--url", url];
    // Standard input only for lookup: a command that never reads it may
    // exit before a write, which would fail with EPIPE.
    const child = spawn(CLI, full, { env, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", fail);
    child.on("close", (code) => ok({ code, stdout, stderr }));
    if (child.stdin) {
      child.stdin.on("error", () => {});
      child.stdin.end(input);
    }
  });
}

const json = (res) => {
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout);
};

test("keys: create, list, get, update, rotate, lookup, revoke", async () => {
  const account = "acct_cli";
  const created = json(
    await cli(["keys", "create", "--account", account, "--product", "salesforge", "--name", "ci",
      "--scopes", "read,write", "--owner-id", "user_9", "--meta", '{"plan":"pro"}', "--json"]),
  );
  assert.match(created.key, /^sf_live_/);
  assert.deepEqual(created.scopes, ["read", "write"]);
  assert.deepEqual(created.meta, { plan: "pro" });

  // The table form prints the key once, with a warning on stderr.
  const table = await cli(["keys", "create", "--account", account, "--product", "salesforge", "--name", "second"]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^key: sf_live_[0-9A-Za-z]{58}\n/);
  assert.match(table.stderr, /only time the key is shown; store it now/);

  // The key works at the edge.
  const edge = await fetch(`${gw.url}/salesforge/v1/leads`, { headers: { "X-Salesforge-Key": created.key } });
  assert.equal(edge.status, 200);
  await edge.arrayBuffer();

  const list = await cli(["keys", "list", "--account", account]);
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trim().split("\n");
  assert.match(lines[0], /^ID\s+NAME\s+PRODUCT\s+ENVIRONMENT\s+MASKED\s+STATUS\s+ENABLED\s+EXPIRES_AT$/);
  assert.equal(lines.length, 3);
  assert.ok(lines.some((l) => l.startsWith(created.id) && /\bci\b/.test(l) && /\bactive\b/.test(l)));
  assert.ok(!list.stdout.includes(created.key), "a listing never shows a key");
  const filtered = json(await cli(["keys", "list", "--account", account, "--owner-id", "user_9", "--json"]));
  assert.deepEqual(filtered.keys.map((k) => k.id), [created.id]);

  const got = await cli(["keys", "get", "--account", account, created.id]);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, new RegExp(`^id:\\s+${created.id}$`, "m"));
  assert.match(got.stdout, /^owner_id:\s+user_9$/m);

  const updated = json(await cli(["keys", "update", "--account", account, created.id,
    "--name", "renamed", "--disable", "--expires-in-days", "30", "--json"]));
  assert.equal(updated.name, "renamed");
  assert.equal(updated.enabled, false);
  assert.ok(updated.expires_at);
  const cleared = json(await cli(["keys", "update", "--account", account, created.id, "--enable", "--no-expiry", "--json"]));
  assert.equal(cleared.enabled, true);
  assert.equal(cleared.expires_at, null);

  const rotated = await cli(["keys", "rotate", "--account", account, created.id, "--grace-seconds", "0", "--json"]);
  const fresh = json(rotated);
  assert.match(rotated.stderr, /store it now/);
  assert.match(fresh.key, /^sf_live_/);
  assert.notEqual(fresh.id, created.id);
  assert.equal(fresh.previous.id, created.id);

  // Lookup reads the key from standard input, never from a flag.
  const found = json(await cli(["keys", "lookup", "--json"], { input: fresh.key + "\n" }));
  assert.equal(found.account, account);
  assert.equal(found.key.id, fresh.id);
  const foundTable = await cli(["keys", "lookup"], { input: fresh.key });
  assert.equal(foundTable.code, 0, foundTable.stderr);
  assert.match(foundTable.stdout, /^account: acct_cli$/m);
  assert.ok(!foundTable.stdout.includes(fresh.key));

  const revoked = json(await cli(["keys", "revoke", "--account", account, fresh.id, "--json"]));
  assert.equal(revoked.status, "revoked");
});

test("accounts get, suspend, reactivate; events", async () => {
  const account = "team:cli";
  json(await cli(["keys", "create", "--account", account, "--product", "salesforge", "--name", "a", "--json"]));
  const shown = await cli(["accounts", "get", account]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^id:\s+team:cli$/m);
  assert.match(shown.stdout, /^status:\s+active$/m);
  assert.equal(json(await cli(["accounts", "suspend", account, "--json"])).status, "suspended");
  assert.equal(json(await cli(["accounts", "reactivate", account, "--json"])).status, "active");

  const events = await cli(["events", "--account", account]);
  assert.equal(events.code, 0, events.stderr);
  const header = events.stdout.split("\n")[0];
  assert.match(header, /^ID\s+TYPE\s+AT\s+KEY_ID\s+PRODUCT$/);
  for (const type of ["key.created", "account.suspended", "account.reactivated"]) {
    assert.ok(events.stdout.includes(type), `${type} listed`);
  }
  const page = json(await cli(["events", "--account", account, "--limit", "1", "--json"]));
  assert.equal(page.events.length, 1);
  assert.equal(page.events[0].type, "account.reactivated");
  assert.ok(page.next_cursor);
});

test("failures exit non-zero with the problem's code and detail", async () => {
  const missing = await cli(["keys", "get", "--account", "acct_cli", "key_00000000000000000"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^keygate: key_not_found \(404\): \S/m);
  assert.equal(missing.stdout, "");

  const badScope = await cli(["keys", "create", "--account", "acct_cli", "--product", "salesforge", "--name", "x", "--scopes", "nope"]);
  assert.equal(badScope.code, 1);
  assert.match(badScope.stderr, /invalid_field \(400\)/);

  const wrongToken = await cli(["accounts", "get", "acct_cli"], { token: "x".repeat(40) });
  assert.equal(wrongToken.code, 1);
  assert.match(wrongToken.stderr, /unauthorized \(401\)/);

  const noToken = await cli(["accounts", "get", "acct_cli"], { token: null });
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /KEYGATE_ADMIN_TOKEN/);

  const noUrl = await cli(["accounts", "get", "acct_cli"], { url: null });
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.stderr, /--url/);

  const flagToken = await cli(["accounts", "get", "acct_cli", "--token", gw.adminToken]);
  assert.equal(flagToken.code, 2, "there is no --token flag");

  const emptyLookup = await cli(["keys", "lookup"], { input: "" });
  assert.equal(emptyLookup.code, 2);
});

test("the existing commands keep their flags", async () => {
  const check = await cli(["check", "--config", join(ROOT, "wrangler.toml")], { url: null });
  assert.equal(check.code, 0, check.stderr);
  // The demo config names no host for the API Keys page's links (issue 18).
  assert.match(check.stderr, /^warning: .*portal\.public_url/m);
});
