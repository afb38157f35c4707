// Repro (not a test, not in the suite) of the runtime side of a keygate fix
// (accept_both in src/gateway/websocket.rs), with no keygate code: a plain-JS
// echo Worker (the WebSocketPair pattern of the Workers docs) under
// `wrangler dev`, and `ws` clients. When the Worker accepts its end before
// returning the other end in the 101 response, workerd reports "Uncaught
// Error: Network connection lost." (standalone `workerd --verbose`: "info:
// uncaught exception; ... disconnected: other end of WebSocketPipe was
// destroyed") once per socket after the close handshake, whether the
// client closes (`client`) or the Worker does (`worker`). Accepting one
// timer turn later (`lateaccept`: the Worker closes) logs nothing. Without
// a reply to the client's close (`noreply`) nothing is logged either, but
// the client gets 1006 after ws's 30 s close timeout. With a second Worker
// in the same session (`second`), wrangler prints the line in some runs
// only. Prints the close codes the clients saw and the runtime problems.
//
// Usage: node tests/e2e/ws-close-repro.mjs [client|worker|lateaccept|noreply] [n] [second]
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
    if (env.MODE === "lateaccept") setTimeout(() => server.accept(), 0);
    else server.accept();
    server.addEventListener("message", (e) => server.send(e.data));
    server.addEventListener("close", (e) => { if (env.MODE !== "noreply") server.close(e.code, e.reason); });
    if (env.MODE === "worker" || env.MODE === "lateaccept") {
      setTimeout(() => server.close(1008, "closed by the Worker"), 300);
    }
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
    ws.once("open", () => { if (mode === "client" || mode === "noreply") ws.close(1000, "closed by the client"); });
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
