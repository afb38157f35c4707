// Schemathesis against the served OpenAPI document on workerd (`wrangler
// dev`): every check (`--checks all`) in every phase — examples, coverage,
// fuzzing and stateful (through the document's links: create → get, patch,
// rotate, revoke) — must report no failure. schemathesis.toml tells one
// check this API's documented contract (a 412 for a stale If-Match), one
// check is left out (use_after_free: DELETE revokes, and a revoked key
// stays readable, 200 with status "revoked", by contract), and schemathesis_hooks.py keeps rules JSON
// Schema cannot say (the expiry window, the product's permissions, the
// lookup key's checksum). 150 examples per operation keep the run
// near two minutes on a 2-core machine (SCHEMATHESIS_EXAMPLES overrides it).
// Needs the venv scripts/setup.sh makes (`make test` passes it as PYTHON);
// fails, saying so, where schemathesis is missing: a skip would let a
// broken set-up pass.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ADMIN_PREFIX, ADMIN_TOKEN, ROOT, startGateway, startOrigin } from "./harness.mjs";

const python = process.env.PYTHON ?? join(ROOT, ".tools/venv/bin/python");
const schemathesis = join(dirname(python), "schemathesis");
let available = true;
try {
  execFileSync(schemathesis, ["--version"], { stdio: "ignore" });
} catch {
  available = false;
}
const EXAMPLES = process.env.SCHEMATHESIS_EXAMPLES ?? "150";
const SEED = process.env.SCHEMATHESIS_SEED ?? "20261201";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.manage.toml"), "utf8");
let origin, gw, dir;

before(async () => {
  if (!available) return;
  // The webhook receiver as origin: it also serves the leak endpoint's
  // public-key document (no keys), so a fuzzed report gets its 401.
  origin = await startOrigin("tests/e2e/webhook-receiver.mjs");
  gw = await startGateway({ template, origin: origin.url });
  // A usable public-key document (one key, whose private half is thrown
  // away): a fuzzed GitHub report then fails its signature check (401).
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const document = { public_keys: [{ key_identifier: "schemathesis", key: publicKey.export({ type: "spki", format: "pem" }), is_current: true }] };
  const res = await fetch(`${origin.url}/_admin/github-keys`, { method: "POST", body: JSON.stringify(document) });
  assert.equal(res.status, 200);
  dir = mkdtempSync(join(tmpdir(), "keygate-schemathesis-"));
});

after(async () => {
  await gw?.stop();
  await origin?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `command args`, resolving { code, out } (stdout and stderr). */
function run(command, args, env) {
  return new Promise((resolve, reject) => {
    // In a scratch directory: nothing it writes lands in the worktree.
    const child = spawn(command, args, { env, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

test(
  "schemathesis finds no failure in any check or phase",
  { timeout: 10 * 60_000 },
  async (t) => {
    assert.ok(available, `${schemathesis} is missing: run scripts/setup.sh (make test does)`);
    const { code, out } = await run(
      schemathesis,
      [
        "--config-file", join(ROOT, "tests/e2e/schemathesis.toml"),
        "run",
        `${gw.url}${ADMIN_PREFIX}/openapi.json`,
        "--checks", "all",
        // A revoked key stays readable by contract (see schemathesis.toml).
        "--exclude-checks", "use_after_free",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", EXAMPLES,
        "--seed", SEED,
        "--workers", "1",
        "--header", `Authorization: Bearer ${ADMIN_TOKEN}`,
        "--request-timeout", "30",
        "--generation-database", "none",
        "--no-color",
      ],
      {
        ...process.env,
        PYTHONUNBUFFERED: "1",
        // Rules JSON Schema cannot say (see the file): kept by the generator.
        SCHEMATHESIS_HOOKS: join(ROOT, "tests/e2e/schemathesis_hooks.py"),
        HOME: dir,
      },
    );
    const tail = out.split("\n").slice(-400).join("\n");
    for (const line of out.split("\n").filter((l) => /Scenarios|API Links|generated|passed|failed/.test(l))) {
      t.diagnostic(line.trim());
    }
    assert.equal(code, 0, `schemathesis reported failures:\n${tail}`);
    // Every phase ran, the stateful one included.
    assert.match(out, /Stateful/i, tail);
    assert.doesNotMatch(out, /\b[1-9]\d* (failures?|errors?)\b/i, tail);
  },
);
