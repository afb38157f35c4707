// `make dev PORT=… ORIGIN_PORT=…` (scripts/dev.sh) on ports other than the
// defaults: the demo's upstreams follow ORIGIN_PORT, so the printed
// "passes" request answers 200 from the demo origin with a valid signature.
// The config is a copy in a scratch directory (its .dev.vars is written
// there) and the local state goes to a scratch directory too, so a
// developer's own `make dev` state is not touched.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, freePort } from "./harness.mjs";

let dev;
let output = "";
let scratch;
let ports;

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), "keygate-dev-"));
  copyFileSync(join(ROOT, "wrangler.toml"), join(scratch, "wrangler.toml"));
  ports = { gateway: await freePort(), origin: await freePort(), inspector: await freePort() };
  dev = spawn(
    "bash",
    [join(ROOT, "scripts/dev.sh"), join(scratch, "wrangler.toml"), String(ports.gateway), String(ports.origin), String(ports.inspector)],
    {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, KEYGATE_DEV_STATE: join(scratch, "state"), WRANGLER_SEND_METRICS: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  dev.stdout.on("data", (d) => (output += d));
  dev.stderr.on("data", (d) => (output += d));
  const deadline = Date.now() + 120_000;
  while (!output.includes("Stop with Ctrl-C.")) {
    if (dev.exitCode !== null) throw new Error(`make dev exited ${dev.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`make dev did not come up:\n${output}`);
    await new Promise((ok) => setTimeout(ok, 250));
  }
});

after(async () => {
  if (dev && dev.exitCode === null) {
    try {
      process.kill(-dev.pid, "SIGTERM");
    } catch {}
    await new Promise((ok) => {
      const t = setTimeout(() => {
        try {
          process.kill(-dev.pid, "SIGKILL");
        } catch {}
        ok();
      }, 5000);
      dev.on("close", () => {
        clearTimeout(t);
        ok();
      });
    });
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test("make dev on other ports: the demo's upstreams follow ORIGIN_PORT", async () => {
  assert.match(output, new RegExp(`demo origin http://127\\.0\\.0\\.1:${ports.origin}`));
  const passes = /# passes: .*\n\s*curl -i -H '([^:]+): ([^']+)' '([^']+)'/.exec(output);
  assert.ok(passes, output);
  const [, header, value, url] = passes;
  assert.ok(url.startsWith(`http://127.0.0.1:${ports.gateway}/`), url);
  const res = await fetch(url, { headers: { [header]: value } });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  const echo = JSON.parse(body);
  assert.equal(echo.signature_valid, true, body);
  assert.ok(echo.headers["keygate-key-id"]);
});
