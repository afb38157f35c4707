// make bench, part 2: workerd CPU per request, keygate against a bare
// JavaScript pass-through Worker (bench/passthrough), both forwarding to the
// same real origin (nginx, a fixed small answer) on loopback.
//
// Method (issue 13): wrk at 8 and 32 connections; ROUNDS interleaved rounds,
// each case at least MIN_REQUESTS requests per round; CPU per request is the
// user CPU time (utime, /proc/<pid>/stat) of the workerd child that runs the
// Worker(s), divided by the requests wrk completed. A case's ratio is taken
// against the pass-through in the same round and at the same connection
// count; the table shows the median ratio over the rounds and its range.
// Raw figures: target/bench/latest.json. The gateway's and the control
// Worker's sizes come from `wrangler deploy --dry-run`; the run fails when
// the gateway is over GATEWAY_BUDGET_KIB gzipped.
//
// Local workerd is not Cloudflare's edge: compare the ratios, not the
// absolute times. Environment: BENCH_ROUNDS (4), BENCH_MIN_REQUESTS (2500),
// BENCH_SECONDS (per wrk run, 2), BENCH_CONNECTIONS ("8,32"), BENCH_CASES (a
// regexp: only the cases it matches, besides the floor; the size check
// still runs).
import { spawn, execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

// wrangler skips its inspector proxy with this set (less noise, and the
// workerd child we measure is the only busy process).
process.env.VSCODE_INSPECTOR_OPTIONS ??= "{}";
process.env.WRANGLER_SEND_METRICS = "false";
const { ROOT, freePort, startGateway } = await import("../e2e/harness.mjs");

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const MIN_REQUESTS = Number(process.env.BENCH_MIN_REQUESTS ?? 2500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? "8,32").split(",").map(Number);
const GATEWAY_BUDGET_KIB = 200;
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- origin
async function startNginx() {
  const dir = mkdtempSync(join(tmpdir(), "keygate-bench-nginx-"));
  const port = await freePort();
  const bin = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => {
    try { execFileSync(p, ["-v"], { stdio: "ignore" }); return true; } catch { return false; }
  });
  if (!bin) throw new Error("nginx missing: run scripts/bench-setup.sh");
  for (const d of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, d));
  writeFileSync(
    join(dir, "nginx.conf"),
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / {
      default_type application/json;
      return 200 '{"ok":true}\\n';
    }
  }
}
`,
  );
  const child = spawn(bin, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode})`);
    try { if ((await fetch(url)).ok) break; } catch {}
    await sleep(50);
  }
  return {
    url,
    stop: () => {
      try { process.kill(-child.pid, "SIGTERM"); } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------- pass-through
async function startPassthrough(origin) {
  const dir = mkdtempSync(join(tmpdir(), "keygate-bench-pass-"));
  writeFileSync(join(dir, "index.js"), readFileSync(join(ROOT, "bench/passthrough/index.js")));
  writeFileSync(
    join(dir, "wrangler.toml"),
    readFileSync(join(ROOT, "bench/passthrough/wrangler.toml"), "utf8").replaceAll("__ORIGIN__", origin),
  );
  const port = await freePort();
  const inspector = await freePort();
  const child = spawn(
    WRANGLER,
    ["dev", "--config", join(dir, "wrangler.toml"), "--ip", "127.0.0.1", "--port", String(port),
      "--inspector-port", String(inspector), "--local", "--persist-to", join(dir, "state"),
      "--show-interactive-dev-session=false"],
    { cwd: dir, env: { ...process.env, CI: "true", NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  const lines = [];
  child.stdout.on("data", (d) => lines.push(String(d)));
  child.stderr.on("data", (d) => lines.push(String(d)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || i > 600) throw new Error(`pass-through did not start:\n${lines.join("")}`);
    try { if ((await fetch(url + "/salesforge/v1/leads")).status === 200) break; } catch {}
    await sleep(100);
  }
  return {
    url,
    pid: child.pid,
    dir,
    stop: async () => {
      try { process.kill(-child.pid, "SIGTERM"); } catch {}
      await sleep(300);
      try { process.kill(-child.pid, "SIGKILL"); } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------ workerd CPU
/** The workerd processes (wrangler's Worker runtime) in process group `pgid`. */
function workerdPids(pgid) {
  const pids = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue; // field 5: pgrp
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (cmdline.includes("--socket-addr=entry=127.0.0.1:0")) pids.push(Number(name));
    } catch {}
  }
  if (!pids.length) throw new Error(`no workerd child in process group ${pgid}`);
  return pids;
}

/** User CPU seconds of `pids` (field 14 of /proc/<pid>/stat). */
function userCpu(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    ticks += Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[11]);
  }
  return ticks / CLK_TCK;
}

// ------------------------------------------------------------------- wrk
async function wrk(url, headers, connections, seconds) {
  const args = ["-t", "2", "-c", String(connections), "-d", `${seconds}s`, "--latency"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  const { stdout } = await run("wrk", [...args, url], { maxBuffer: 1 << 20 });
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(stdout)?.[1] ?? null;
  return { requests, non2xx, errors };
}

async function measure(c, connections) {
  let requests = 0;
  let non2xx = 0;
  let cpu = 0;
  let wall = 0;
  const errors = [];
  while (requests < MIN_REQUESTS) {
    const before = userCpu(c.pids);
    const t0 = performance.now();
    const r = await wrk(c.url, c.headers, connections, SECONDS);
    wall += (performance.now() - t0) / 1000;
    cpu += userCpu(c.pids) - before;
    requests += r.requests;
    non2xx += r.non2xx;
    if (r.errors) errors.push(r.errors);
    if (r.requests === 0) throw new Error(`${c.name}: wrk completed no request`);
  }
  const wrongStatus = c.status === 200 ? non2xx : requests - non2xx;
  if (wrongStatus > 0) throw new Error(`${c.name}: ${wrongStatus} answers were not ${c.status}`);
  return { requests, cpu_s: cpu, wall_s: wall, us_per_request: (cpu / requests) * 1e6, errors };
}

// -------------------------------------------------------------- sizes
async function sizes(dir) {
  const out = {};
  for (const worker of ["gateway", "control"]) {
    const { stdout, stderr } = await run(
      WRANGLER,
      ["deploy", "--dry-run", "--outdir", join(dir, `dry-${worker}`), "--config", join(dir, `${worker}.toml`)],
      { cwd: dir, env: { ...process.env, CI: "true", NO_COLOR: "1" }, maxBuffer: 1 << 22 },
    );
    const m = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stdout + stderr);
    if (!m) throw new Error(`wrangler deploy --dry-run printed no size for ${worker}:\n${stdout}${stderr}`);
    out[worker] = { kib: Number(m[1]), gzip_kib: Number(m[2]) };
  }
  return out;
}

// ------------------------------------------------------------------- main
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const template = readFileSync(join(ROOT, "tests/bench/wrangler.bench.toml"), "utf8");
const origin = await startNginx();
const running = [];
let failed = false;
try {
  const pass = await startPassthrough(origin.url);
  running.push(pass);
  const gateways = {};
  for (const log of ["all", "refusals", "off"]) {
    const gw = await startGateway({ template: template.replaceAll("__LOG__", `log = "${log}"`), origin: origin.url });
    running.push(gw);
    const create = async (product) => {
      const res = await gw.admin("POST", "/accounts/acct_bench/keys", { product, name: "bench" });
      if (res.status !== 201) throw new Error(`creating a ${product} key: ${res.status}`);
      return res.body.key;
    };
    gw.benchKeys = {
      sf: await create("salesforge"),
      st: log === "all" ? await create("strictforge") : null,
      bd: log === "all" ? await create("boundedforge") : null,
    };
    gateways[log] = gw;
  }
  const size = await sizes(gateways.all.dir);

  const kg = (log) => (gateways[log] ? { url: gateways[log].url, pids: workerdPids(gateways[log].pid) } : {});
  const cases = [
    { name: "pass-through (floor)", url: pass.url, pids: workerdPids(pass.pid), path: "/salesforge/v1/leads", status: 200 },
    { name: "valid key, hot", ...kg("all"), path: "/salesforge/v1/leads", key: "sf", log: "all", status: 200 },
    { name: "public path", ...kg("all"), path: "/salesforge/health", log: "all", status: 200 },
    { name: "valid key, strict", ...kg("all"), path: "/strictforge/v1/leads", key: "st", log: "all", status: 200 },
    { name: "valid key, bounded", ...kg("all"), path: "/boundedforge/v1/leads", key: "bd", log: "all", status: 200 },
    { name: "malformed key refused", ...kg("all"), path: "/salesforge/v1/leads", bad: true, log: "all", status: 401 },
    { name: "valid key, hot, log=refusals", ...kg("refusals"), path: "/salesforge/v1/leads", key: "sf", log: "refusals", status: 200 },
    { name: "valid key, hot, log=off", ...kg("off"), path: "/salesforge/v1/leads", key: "sf", log: "off", status: 200 },
    { name: "malformed key refused, log=off", ...kg("off"), path: "/salesforge/v1/leads", bad: true, log: "off", status: 401 },
  ].filter((c, i) => i === 0 || !process.env.BENCH_CASES || new RegExp(process.env.BENCH_CASES).test(c.name));
  for (const c of cases) {
    const gw = c.log ? gateways[c.log] : null;
    c.headers = {};
    if (c.key === "sf") c.headers["X-Salesforge-Key"] = gw.benchKeys.sf;
    if (c.key === "st") c.headers["X-Strictforge-Key"] = gw.benchKeys.st;
    if (c.key === "bd") c.headers["X-Boundedforge-Key"] = gw.benchKeys.bd;
    if (c.bad) c.headers["X-Salesforge-Key"] = "sf_live_bad";
    c.url = c.url + c.path;
    const res = await fetch(c.url, { headers: c.headers });
    await res.arrayBuffer();
    if (res.status !== c.status) throw new Error(`${c.name}: expected ${c.status}, got ${res.status}`);
  }
  // Warm-up: JIT, caches, connections.
  for (const c of cases) await wrk(c.url, c.headers, 8, 1);

  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const connections of CONNECTIONS) {
      // Rotate the order per round so no case always follows another.
      const order = cases.map((_, i) => cases[(i + round) % cases.length]);
      const results = {};
      for (const c of order) results[c.name] = await measure(c, connections);
      const floor = results[cases[0].name].us_per_request;
      for (const c of cases) results[c.name].ratio = results[c.name].us_per_request / floor;
      rounds.push({ round, connections, results });
      process.stderr.write(`[bench] round ${round + 1}/${ROUNDS}, ${connections} connections done\n`);
    }
  }

  const table = [];
  for (const connections of CONNECTIONS) {
    for (const c of cases) {
      const rs = rounds.filter((r) => r.connections === connections).map((r) => r.results[c.name]);
      const ratios = rs.map((r) => r.ratio);
      table.push({
        case: c.name,
        connections,
        ratio_median: median(ratios),
        ratio_min: Math.min(...ratios),
        ratio_max: Math.max(...ratios),
        us_per_request_median: median(rs.map((r) => r.us_per_request)),
        requests_per_round_min: Math.min(...rs.map((r) => r.requests)),
      });
    }
  }
  const ratioOf = (name, conns) => table.find((t) => t.case === name && t.connections === conns)?.ratio_median;
  const goals = CONNECTIONS.map((n) => ({
    connections: n,
    P1_valid_hot_vs_pass: ratioOf("valid key, hot", n),
    P2_refusal_vs_pass: ratioOf("malformed key refused", n),
    P3_strict_vs_edge: ratioOf("valid key, strict", n) / ratioOf("valid key, hot", n),
    bounded_vs_edge: ratioOf("valid key, bounded", n) / ratioOf("valid key, hot", n),
  }));

  console.log("\nworkerd user CPU per request, relative to the bare JS pass-through (median of rounds, [min-max])\n");
  console.log(`| case | ${CONNECTIONS.map((n) => `${n} connections`).join(" | ")} |`);
  console.log(`|---|${CONNECTIONS.map(() => "---|").join("")}`);
  for (const c of cases) {
    const cells = CONNECTIONS.map((n) => {
      const t = table.find((x) => x.case === c.name && x.connections === n);
      return `${t.ratio_median.toFixed(2)} [${t.ratio_min.toFixed(2)}–${t.ratio_max.toFixed(2)}]`;
    });
    console.log(`| ${c.name} | ${cells.join(" | ")} |`);
  }
  console.log("\ngoals (targets: P1 ≤ 1.05, P2 ≤ 0.30, P3 ≤ 1.4)");
  const fmt = (x) => (Number.isFinite(x) ? x.toFixed(2) : "-");
  for (const g of goals) {
    console.log(
      `  ${g.connections} connections: P1 ${fmt(g.P1_valid_hot_vs_pass)}  P2 ${fmt(g.P2_refusal_vs_pass)}  P3 ${fmt(g.P3_strict_vs_edge)}` +
        `  (bounded vs edge ${fmt(g.bounded_vs_edge)})`,
    );
  }
  const passUs = table.filter((t) => t.case === cases[0].name).map((t) => `${t.us_per_request_median.toFixed(0)} µs`);
  console.log(`  (pass-through: ${passUs.join(", ")} of workerd user CPU per request on this machine)`);
  console.log(
    `\nsizes (wrangler deploy --dry-run): gateway ${size.gateway.kib} KiB / gzip ${size.gateway.gzip_kib} KiB` +
      ` (budget ${GATEWAY_BUDGET_KIB} KiB gzip); control ${size.control.kib} KiB / gzip ${size.control.gzip_kib} KiB`,
  );
  mkdirSync(join(ROOT, "target/bench"), { recursive: true });
  const file = join(ROOT, "target/bench/latest.json");
  writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), clk_tck: CLK_TCK, rounds_n: ROUNDS, min_requests: MIN_REQUESTS, sizes: size, goals, table, rounds }, null, 1),
  );
  console.log(`raw figures: ${file}`);
  if (size.gateway.gzip_kib > GATEWAY_BUDGET_KIB) {
    console.error(`FAIL: the gateway is ${size.gateway.gzip_kib} KiB gzipped, over the ${GATEWAY_BUDGET_KIB} KiB budget`);
    failed = true;
  }
} finally {
  for (const r of running.reverse()) {
    try { await r.stop(); } catch (e) { console.error(String(e.message ?? e)); }
  }
  origin.stop();
}
if (failed) process.exitCode = 1;
