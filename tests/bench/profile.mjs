// CPU profile of the Workers under wrk load (issue 13: the "why" behind the
// CPU ratios). Run after `bash scripts/build.sh` and `cargo build -p
// keygate-cli`, with nginx and wrk installed (scripts/bench-setup.sh):
//
//   node tests/bench/profile.mjs
//
// Each Worker runs under `wrangler dev` with its inspector on; the script
// speaks the Chrome DevTools protocol to it (Profiler.start / stop) while
// wrk drives one case, then sorts the sampled self time into: wasm code
// (by function; the gateway runs its copy with function names,
// build/symbols/gateway.wasm, for the duration), the wasm-bindgen and
// worker-build JavaScript glue (build/gateway/index.js and its shims), the
// Worker's own JavaScript, and what V8 reports as "(program)" (the
// runtime's native code: workerd, KJ, V8 outside JS) and "(garbage
// collector)". Environment: PROFILE_SECONDS (per case, 6),
// PROFILE_INTERVAL_US (sampling, 100), PROFILE_CONNECTIONS (8).
// The profiler itself costs CPU: compare shares, not times, and not with
// `make bench`. Output: a summary on stdout; raw profiles in
// target/bench/profile-<case>.cpuprofile (open them in Chrome DevTools).
import { spawn, execFile, execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import WebSocket from "ws";

const { ROOT, freePort, startGateway } = await import("../e2e/harness.mjs");
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 6);
const INTERVAL_US = Number(process.env.PROFILE_INTERVAL_US ?? 100);
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 8);
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startNginx() {
  const dir = mkdtempSync(join(tmpdir(), "keygate-profile-nginx-"));
  const port = await freePort();
  for (const d of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, d));
  writeFileSync(join(dir, "nginx.conf"), `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${port}; location / { default_type application/json; return 200 '{"ok":true}\\n'; } } }
`);
  const child = spawn("/usr/sbin/nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { stdio: "ignore", detached: true });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) { try { if ((await fetch(url)).ok) break; } catch {} await sleep(50); }
  return { url, stop: () => { try { process.kill(-child.pid, "SIGTERM"); } catch {} rmSync(dir, { recursive: true, force: true }); } };
}

/** A plain JS Worker from bench/<name>/ under wrangler dev, with its inspector. */
async function startJs(name, origin) {
  const dir = mkdtempSync(join(tmpdir(), `keygate-profile-${name}-`));
  writeFileSync(join(dir, "index.js"), readFileSync(join(ROOT, `bench/${name}/index.js`)));
  writeFileSync(join(dir, "wrangler.toml"), readFileSync(join(ROOT, `bench/${name}/wrangler.toml`), "utf8").replaceAll("__ORIGIN__", origin));
  const port = await freePort();
  const inspectorPort = await freePort();
  const child = spawn(WRANGLER, ["dev", "--config", join(dir, "wrangler.toml"), "--ip", "127.0.0.1", "--port", String(port),
    "--inspector-port", String(inspectorPort), "--local", "--persist-to", join(dir, "state"), "--show-interactive-dev-session=false"],
  { cwd: dir, env: { ...process.env, CI: "true", NO_COLOR: "1", WRANGLER_SEND_METRICS: "false" }, stdio: "ignore", detached: true });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (i > 600) throw new Error(`${name} did not start`);
    try { await (await fetch(url + "/salesforge/v1/leads")).arrayBuffer(); break; } catch {}
    await sleep(100);
  }
  return { url, inspectorPort, stop: async () => { try { process.kill(-child.pid, "SIGTERM"); } catch {} await sleep(300); try { process.kill(-child.pid, "SIGKILL"); } catch {} rmSync(dir, { recursive: true, force: true }); } };
}

/**
 * Profiles the Workers behind inspector `port` while `load` runs; with
 * several (the gateway and the control Worker), keeps the busiest profile.
 */
async function profile(port, load) {
  // wrangler's proxy (`port`) shows one Worker; workerd's own inspectors
  // (--inspector-addr) show each Worker of every running workerd.
  const addrs = [`127.0.0.1:${port}`];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const m = /--inspector-addr=([\d.]+:\d+)/.exec(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
      if (m) addrs.push(m[1]);
    } catch {}
  }
  const targets = [];
  for (const a of addrs) {
    try {
      for (const t of await (await fetch(`http://${a}/json`)).json()) {
        if (t.webSocketDebuggerUrl) targets.push({ ...t, webSocketDebuggerUrl: t.webSocketDebuggerUrl.replace(/^ws:\/\/(localhost|[\d.]+)?(:\d+)?(?=\/)/, `ws://${a}`) });
      }
    } catch {}
  }
  const sessions = [];
  for (const t of targets) {
    // `ws` (a dev dependency): wrangler's inspector proxy wants an Origin
    // header, which Node's own WebSocket cannot send.
    const ws = new WebSocket(t.webSocketDebuggerUrl, { headers: { Origin: "http://localhost" } });
    try { await new Promise((ok, bad) => { ws.onopen = ok; ws.onerror = bad; }); } catch { continue; }
    let id = 0;
    const pending = new Map();
    ws.onmessage = (m) => { const msg = JSON.parse(m.data); pending.get(msg.id)?.(msg); pending.delete(msg.id); };
    const send = (method, params = {}) => new Promise((ok) => { const n = ++id; pending.set(n, ok); ws.send(JSON.stringify({ id: n, method, params })); });
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: INTERVAL_US });
    await send("Profiler.start");
    sessions.push({ ws, send });
  }
  const requests = await load();
  let best = null;
  for (const { ws, send } of sessions) {
    const p = (await send("Profiler.stop")).result?.profile;
    ws.close();
    const busy = (q) => q.samples.filter((s) => q.nodes.find((n) => n.id === s)?.callFrame.functionName !== "(idle)").length;
    if (p && (!best || busy(p) > busy(best))) best = p;
  }
  return { profile: best, requests };
}

async function wrk(url, headers) {
  const args = ["-t", "2", "-c", String(CONNECTIONS), "-d", `${SECONDS}s`];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  const { stdout } = await run("wrk", [...args, url]);
  return Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
}

/** Self time by category and the top functions. */
function summarize(p, glue) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const s of p.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const cat = new Map();
  const fn = new Map();
  let total = 0;
  for (const [nid, c] of counts) {
    const { functionName, url } = byId.get(nid).callFrame;
    let k;
    if (functionName === "(idle)") continue;
    if (url.startsWith("wasm://")) k = "wasm";
    else if (/^\(.*\)$/.test(functionName)) k = functionName;
    else if (!url) k = "runtime builtins (native functions)";
    else if (/^node-internal:|^cloudflare:|^node:/.test(url)) k = "runtime JS (node-internal, cloudflare:)";
    else k = glue ? "JS glue (wasm-bindgen, worker-build shim)" : "Worker JS (the whole Worker)";
    total += c;
    cat.set(k, (cat.get(k) ?? 0) + c);
    const name = `${functionName || "(anonymous)"} [${k === "wasm" ? "wasm" : url.split("/").pop() || k}]`;
    fn.set(name, (fn.get(name) ?? 0) + c);
  }
  const pct = (c) => ((100 * c) / total).toFixed(1).padStart(5) + "%";
  return {
    total,
    categories: [...cat].sort((a, b) => b[1] - a[1]).map(([k, c]) => ({ k, pct: pct(c) })),
    top: [...fn].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, c]) => ({ k, pct: pct(c) })),
  };
}

const running = [];
const wasm = join(ROOT, "build/gateway/index_bg.wasm");
const saved = join(ROOT, "build/gateway/index_bg.wasm.profile-saved");
try {
  const origin = await startNginx();
  running.push(origin);
  // Function names for the profile: the same module with its name section.
  copyFileSync(wasm, saved);
  copyFileSync(join(ROOT, "build/symbols/gateway.wasm"), wasm);
  const template = readFileSync(join(ROOT, "tests/bench/wrangler.bench.toml"), "utf8").replaceAll("__LOG__", 'log = "all"');
  const gw = await startGateway({ template, origin: origin.url });
  running.push(gw);
  const res = await gw.admin("POST", "/accounts/acct_bench/keys", { product: "salesforge", name: "bench" });
  if (res.status !== 201) throw new Error(`creating a key: ${res.status}`);
  const refusal = await startJs("refusal", origin.url);
  running.push(refusal);
  const pass = await startJs("passthrough", origin.url);
  running.push(pass);
  const path = "/salesforge/v1/leads";
  const cases = [
    { name: "keygate-malformed", w: gw, headers: { "X-Salesforge-Key": "sf_live_bad" } },
    { name: "js-refusal-malformed", w: refusal, headers: { "X-Salesforge-Key": "sf_live_bad" } },
    { name: "keygate-valid", w: gw, headers: { "X-Salesforge-Key": res.body.key } },
    { name: "passthrough", w: pass, headers: {} },
  ];
  mkdirSync(join(ROOT, "target/bench"), { recursive: true });
  for (const c of cases) {
    const port = c.w.inspectorPort;
    if (!port) throw new Error(`${c.name}: no inspector port`);
    await wrk(c.w.url + path, c.headers); // warm-up: JIT tiers, caches
    const { profile: p, requests } = await profile(port, () => wrk(c.w.url + path, c.headers));
    writeFileSync(join(ROOT, `target/bench/profile-${c.name}.cpuprofile`), JSON.stringify(p));
    const s = summarize(p, c.w === gw);
    const busyUs = (s.total * INTERVAL_US) / requests;
    console.log(`\n== ${c.name}: ${requests} requests, ${s.total} busy samples, ~${busyUs.toFixed(0)} µs sampled busy per request`);
    for (const { k, pct } of s.categories) console.log(`  ${pct}  ${k}`);
    console.log("  top self time:");
    for (const { k, pct } of s.top) console.log(`    ${pct}  ${k}`);
  }
} finally {
  for (const r of running.reverse()) await r.stop();
  try { renameSync(saved, wasm); } catch {}
}
