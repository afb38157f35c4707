// CPU profile of the Workers under wrk load (issue 13: the "why" behind the
// CPU ratios). Run after `bash scripts/build.sh` and `cargo build -p
// keygate-cli`, with nginx and wrk installed (scripts/bench-setup.sh):
//
//   node tests/bench/profile.mjs
//
// Each Worker runs under its own `wrangler dev` (wrangler's inspector proxy
// off). For each case (a malformed key refused by keygate and by the JS
// refusal Worker bench/refusal, a valid hot key forwarded by keygate, and
// the pass-through bench/passthrough), after a warm-up, two passes:
// 1. perf: `perf record` of the runtime process (the workerd child of the
//    wrangler this script started, never another one) while wrk runs, no
//    inspector attached: its CPU per request (/proc, user+sys) and self
//    time by DSO and by kind (V8 JIT code, which holds all wasm, i.e.
//    keygate's Rust, and optimised JS; V8's builtins and interpreter; the
//    runtime's C++: KJ, jsg, api; malloc; V8 GC and JSON; the kernel).
// 2. V8: the CPU profiler (Chrome DevTools protocol Profiler.start/stop)
//    on the Worker's own inspector target in that workerd
//    (`core:user:<name>`, from its /json list) while wrk runs again; self
//    time sorted into wasm (by function: the gateway runs its copy with
//    function names, build/symbols/gateway.wasm, for the duration), the
//    wasm-bindgen and worker-build JavaScript glue (build/gateway/index.js),
//    the Worker's own JavaScript, runtime builtins, "(program)" and GC.
// Environment: PROFILE_SECONDS (per pass, 6), PROFILE_INTERVAL_US (V8
// sampling, 100), PROFILE_CONNECTIONS (8), PROFILE_PERF_HZ (4999),
// PROFILE_CASES (comma-separated case names; default all). The profilers
// cost CPU: compare shares, not times, and not with `make bench`. Output: a
// summary on stdout; raw data in target/bench/profile-<case>.cpuprofile
// (Chrome DevTools) and target/bench/perf-<case>.data (`perf report -i`).
import { spawn, execFile, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import WebSocket from "ws";

const { ROOT, freePort, startGateway, descendants, listeningPorts } = await import("../e2e/harness.mjs");
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 6);
const INTERVAL_US = Number(process.env.PROFILE_INTERVAL_US ?? 100);
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 8);
// wrangler skips its inspector proxy with this set (as in ratios.mjs): the
// proxy would hold the runtime's one session with a single-config Worker,
// and an attached inspector adds per-request work (events as JSON).
process.env.VSCODE_INSPECTOR_OPTIONS ??= "{}";
const PERF_HZ = Number(process.env.PROFILE_PERF_HZ ?? 4999);
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
  return { url, pid: child.pid, name: `keygate-bench-${name}`, stop: async () => { try { process.kill(-child.pid, "SIGTERM"); } catch {} await sleep(300); try { process.kill(-child.pid, "SIGKILL"); } catch {} rmSync(dir, { recursive: true, force: true }); } };
}

/**
 * The inspector target of Worker `name` in the workerd that the wrangler
 * we started (process group leader `wranglerPid`) runs. wrangler dev runs
 * two workerd processes: a proxy, and the runtime
 * (`--socket-addr=entry=127.0.0.1:0`) whose own inspector
 * (`--inspector-addr=localhost:0`, an ephemeral port found from /proc)
 * lists one target per Worker, `core:user:<name>`. wrangler's
 * `--inspector-port` proxy is not used: it shows one Worker only. Only our
 * own descendants are searched, never another wrangler's workerd.
 */
async function findTarget(wranglerPid, name) {
  const seen = [];
  for (const pid of descendants(wranglerPid)) {
    let cmdline = "";
    try { cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8"); } catch {}
    if (!cmdline.includes("--socket-addr=entry=127.0.0.1:0")) continue;
    for (const port of listeningPorts(pid)) {
      let list;
      try { list = await (await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(2000) })).json(); } catch { continue; }
      if (!Array.isArray(list)) continue;
      seen.push(...list.map((t) => t.id));
      const t = list.find((t) => t.id === `core:user:${name}`);
      if (t) return { url: `ws://127.0.0.1:${port}/${t.id}`, pid };
    }
  }
  throw new Error(`no inspector target core:user:${name} under wrangler ${wranglerPid} (saw: ${seen.join(", ") || "none"})`);
}

/** A DevTools protocol session on `url`; send() rejects after `timeoutMs`. */
async function session(url, timeoutMs) {
  // `ws` (a dev dependency): wrangler's inspector proxy wants an Origin
  // header, which Node's own WebSocket cannot send.
  const ws = new WebSocket(url, { headers: { Origin: "http://localhost" } });
  await new Promise((ok, bad) => { ws.onopen = ok; ws.onerror = bad; });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (m) => { const msg = JSON.parse(m.data); pending.get(msg.id)?.(msg); pending.delete(msg.id); };
  const send = (method, params = {}) => new Promise((ok, bad) => {
    const n = ++id;
    const timer = setTimeout(() => bad(new Error(`no answer to ${method} from ${url}`)), timeoutMs);
    pending.set(n, (msg) => { clearTimeout(timer); ok(msg); });
    ws.send(JSON.stringify({ id: n, method, params }));
  });
  return { send, close: () => ws.close() };
}

/**
 * Profiles Worker `w` (its wrangler's pid and name) through the runtime's
 * own inspector target while `load` runs. A target serves one session:
 * wrangler's inspector proxy must be off (VSCODE_INSPECTOR_OPTIONS above),
 * or it holds a single-config Worker's session and nothing else answers.
 */
async function profile(w, load) {
  const target = await findTarget(w.pid, w.name);
  const s = await session(target.url, 10_000);
  await s.send("Profiler.enable");
  console.error(`[profile] ${w.name}: profiling through ${target.url} (workerd ${target.pid})`);
  await s.send("Profiler.setSamplingInterval", { interval: INTERVAL_US });
  await s.send("Profiler.start");
  const requests = await load();
  const stopped = await s.send("Profiler.stop");
  s.close();
  const p = stopped.result?.profile;
  if (!p) throw new Error(`${w.name}: Profiler.stop returned no profile: ${JSON.stringify(stopped).slice(0, 300)}`);
  return { profile: p, requests, workerdPid: target.pid };
}

/** User and system CPU seconds of `pid` (fields 14 and 15 of /proc/<pid>/stat). */
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // CLK_TCK
}

/** What a perf symbol line (`dso [.] symbol`) belongs to. */
function kind(line) {
  if (/^\[JIT\]|^\[unknown\]/.test(line)) return "V8 JIT code (optimised JS, and all wasm: keygate's Rust)";
  if (/^\[kernel|^\[vdso\]/.test(line)) return "kernel (syscalls, scheduling, loopback TCP)";
  if (/^lib/.test(line)) return "libc, libm (memcpy, ...)";
  if (/\] Builtins_/.test(line)) return "V8 builtins and interpreter (JS run in the workerd binary)";
  if (/\] tcmalloc|\] operator (new|delete)|\] malloc|\] free/.test(line)) return "malloc (tcmalloc)";
  if (/\] v8::internal::(Heap|Scavenger|MarkCompact|Sweeper|ConcurrentMarking|GlobalHandles|.*Marking)|\] cppgc/.test(line)) return "V8 GC and handles";
  if (/\] v8::internal::Json/.test(line)) return "V8 JSON (parse, stringify)";
  if (/\] v8::|\] v8_inspector/.test(line)) return "V8 runtime (other)";
  if (/\] workerd::jsg/.test(line)) return "workerd jsg (JS bindings)";
  if (/\] workerd::api/.test(line)) return "workerd api (Request, Response, Headers, fetch)";
  if (/\] workerd::/.test(line)) return "workerd other (io, server)";
  if (/\] kj::|\] capnp::/.test(line)) return "KJ and Cap'n Proto (event loop, HTTP, strings)";
  return "other native";
}

/**
 * The native view: `perf record` of the runtime process (`pid`, found as
 * our wrangler's workerd child) while `load` runs, without the inspector.
 * Self time by DSO (the workerd binary: the runtime's C++, KJ and V8's
 * own code; the kernel; libc; and anonymous executable memory, which is
 * V8's JIT code: JavaScript and wasm alike, since V8 writes no perf map
 * here), and the top symbols. Skipped when `perf` cannot run.
 */
async function perfPass(pid, name, load) {
  const out = join(ROOT, `target/bench/perf-${name}.data`);
  const rec = spawn("perf", ["record", "-q", "-F", String(PERF_HZ), "-p", String(pid), "-o", out], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  rec.stderr.on("data", (d) => { err += d; });
  let failed = null;
  const exited = new Promise((r) => { rec.on("exit", r); rec.on("error", (e) => { failed = e; r(); }); });
  await sleep(500);
  if (failed || rec.exitCode !== null) return { error: `perf record failed: ${failed?.message ?? err.trim()}` };
  const cpu0 = cpuSeconds(pid);
  const requests = await load();
  const cpu = cpuSeconds(pid) - cpu0;
  rec.kill("SIGINT");
  await exited;
  const report = async (sort) => {
    const { stdout } = await run("perf", ["report", "-i", out, "--no-children", "--sort", sort, "--stdio", "-q"], { maxBuffer: 1 << 26 });
    return stdout.split("\n").map((l) => /^\s*([\d.]+)%\s+(.*\S)\s*$/.exec(l)).filter(Boolean).map((m) => ({ pct: Number(m[1]), k: m[2].replace(/\s+/g, " ") }));
  };
  const label = (dso) => (/^\[JIT\]|^\[unknown\]|^\/memfd:|^\/\/anon/.test(dso) ? `${dso} (V8 JIT code: JS and wasm)` : dso);
  const dsos = (await report("dso")).map(({ pct, k }) => ({ pct, k: label(k) }));
  const all = await report("dso,sym");
  const kinds = new Map();
  for (const { pct, k } of all) kinds.set(kind(k), (kinds.get(kind(k)) ?? 0) + pct);
  const byKind = [...kinds].sort((a, b) => b[1] - a[1]).map(([k, pct]) => ({ k, pct }));
  return { requests, cpuUsPerRequest: (cpu * 1e6) / requests, dsos, byKind, syms: all.slice(0, 15) };
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
// Stop what we started on ^C or a timeout's SIGTERM too (their process groups).
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, async () => {
    for (const r of running.reverse()) { try { await r.stop(); } catch {} }
    try { renameSync(saved, wasm); } catch {}
    process.exit(130);
  });
}
try {
  const origin = await startNginx();
  running.push(origin);
  // Function names for the profile: the same module with its name section.
  // A copy left by a run that was killed is the shipped module: put it
  // back first, never save the named one in its place.
  if (existsSync(saved)) renameSync(saved, wasm);
  copyFileSync(wasm, saved);
  copyFileSync(join(ROOT, "build/symbols/gateway.wasm"), wasm);
  const template = readFileSync(join(ROOT, "tests/bench/wrangler.bench.toml"), "utf8").replaceAll("__LOG__", 'log = "all"');
  const gw = await startGateway({ template, origin: origin.url });
  gw.name = /^name = "([^"]+)"/m.exec(template)[1];
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
  const only = process.env.PROFILE_CASES?.split(",");
  for (const c of cases) {
    if (only && !only.includes(c.name)) continue;
    console.error(`[profile] ${c.name}: warm-up`);
    await wrk(c.w.url + path, c.headers); // warm-up: JIT tiers, caches
    const { pid: workerdPid } = await findTarget(c.w.pid, c.w.name);
    // The native view first, before any inspector session has been opened.
    const n = await perfPass(workerdPid, c.name, () => wrk(c.w.url + path, c.headers));
    const { profile: p, requests } = await profile(c.w, () => wrk(c.w.url + path, c.headers));
    writeFileSync(join(ROOT, `target/bench/profile-${c.name}.cpuprofile`), JSON.stringify(p));
    const s = summarize(p, c.w === gw);
    const busyUs = (s.total * INTERVAL_US) / requests;
    console.log(`\n== ${c.name}: ${requests} requests, ${s.total} busy samples, ~${busyUs.toFixed(0)} µs sampled busy per request`);
    for (const { k, pct } of s.categories) console.log(`  ${pct}  ${k}`);
    console.log("  top self time:");
    for (const { k, pct } of s.top) console.log(`    ${pct}  ${k}`);
    if (n.error) { console.log(`  perf: ${n.error}`); continue; }
    console.log(`  perf (no inspector): ${n.requests} requests, workerd ${n.cpuUsPerRequest.toFixed(0)} µs CPU (user+sys) per request; self time by DSO:`);
    for (const { k, pct } of n.dsos.slice(0, 6)) console.log(`    ${pct.toFixed(1).padStart(5)}%  ${k}`);
    console.log("  perf self time by kind:");
    for (const { k, pct } of n.byKind) console.log(`    ${pct.toFixed(1).padStart(5)}%  ${k}`);
    console.log("  perf top symbols:");
    for (const { k, pct } of n.syms) console.log(`    ${pct.toFixed(1).padStart(5)}%  ${k.slice(0, 140)}`);
  }
} finally {
  for (const r of running.reverse()) await r.stop();
  try { renameSync(saved, wasm); } catch {}
}
