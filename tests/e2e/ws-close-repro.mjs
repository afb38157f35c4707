// Repro (not a test, not in the suite): workerd reports "Uncaught Error:
// Network connection lost." for a WebSocketPair socket whose close
// handshake completes, with no keygate code involved. A plain-JS echo
// Worker (the WebSocketPair pattern of the Workers docs) runs alone under
// `wrangler dev`; `ws` clients open sockets and close them, or wait for the
// Worker to close them. Prints the close codes the clients saw and how many
// runtime problem lines wrangler printed. Alone in its `wrangler dev`, the
// line shows once per socket; with a second Worker in the same session
// (`second`), only when wrangler's inspector attaches to the echo Worker.
// Without a reply to the client's close (`noreply`), nothing is logged, but
// the client gets 1006 instead of a clean close (after ws's 30 s timeout).
//
// Usage: node tests/e2e/ws-close-repro.mjs [client|worker|noreply] [n] [second]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { ROOT, freePort, runtimeProblems } from "./harness.mjs";

const [mode = "client", n = "10", second] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), "keygate-ws-repro-"));
writeFileSync(join(dir, "echo.js"), `export default {
  fetch(request, env) {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (e) => server.send(e.data));
    server.addEventListener("close", (e) => { if (env.MODE !== "noreply") server.close(e.code, e.reason); });
    if (env.MODE === "worker") setTimeout(() => server.close(1008, "closed by the Worker"), 300);
    return new Response(null, { status: 101, webSocket: client });
  },
};
`);
writeFileSync(join(dir, "wrangler.toml"), `name = "ws-close-repro"\nmain = "echo.js"\ncompatibility_date = "2026-01-01"\n`);
writeFileSync(join(dir, "second.js"), `export default { fetch: () => new Response("second") };\n`);
writeFileSync(join(dir, "second.toml"), `name = "ws-close-repro-second"\nmain = "second.js"\ncompatibility_date = "2026-01-01"\n`);
const port = await freePort();
const configs = second ? ["-c", "wrangler.toml", "-c", "second.toml"] : [];
const child = spawn(join(ROOT, "node_modules/.bin/wrangler"),
  ["dev", ...configs, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()),
    "--var", `MODE:${mode}`, "--show-interactive-dev-session=false"],
  { cwd: dir, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"], detached: true });
const lines = [];
for (const s of [child.stdout, child.stderr]) { s.setEncoding("utf8"); s.on("data", (d) => lines.push(d)); }
try {
  while (!/Ready on/.test(lines.join(""))) {
    if (child.exitCode !== null) throw new Error(lines.join(""));
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const codes = {};
  // In parallel: unanswered (noreply), each waits for ws's 30 s close timeout.
  const all = Array.from({ length: Number(n) }, () => new Promise((ok, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws.once("error", fail);
    ws.once("open", () => { if (mode !== "worker") ws.close(1000, "closed by the client"); });
    ws.once("close", ok);
  }));
  for (const code of await Promise.all(all)) codes[code] = (codes[code] ?? 0) + 1;
  await new Promise((r) => setTimeout(r, 1500));
  const problems = runtimeProblems(lines);
  console.log(JSON.stringify({ mode, second: Boolean(second), sockets: Number(n), codes, problems: problems.length }));
  if (problems.length) console.log(problems[0].replace(/\x1b\[[0-9;]*m/g, ""));
} finally {
  try { process.kill(-child.pid, "SIGTERM"); } catch {}
  rmSync(dir, { recursive: true, force: true });
}
