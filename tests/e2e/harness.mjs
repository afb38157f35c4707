// End-to-end harness: a real HTTP origin process and keygate's two Workers
// (the gateway and the control Worker) on workerd, in one `wrangler dev`
// with both configs, as `keygate render` writes them from the test's one
// template; keys minted by the native `keygate` tool into a scratch local
// KV. Everything binds to 127.0.0.1 and stops by itself.
import { spawn, execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = process.env.KEYGATE_CLI ?? join(ROOT, "target/debug/keygate");
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
export const SECRET = "e2e-origin-secret-" + randomBytes(16).toString("hex");
/** The default key-tagging secret written to .dev.vars and given to `keygate mint`. */
export const KEY_SECRET = "e2e-key-secret-" + randomBytes(16).toString("hex");
/** The default management API token written to .dev.vars: 40 random characters. */
export const ADMIN_TOKEN = randomBytes(20).toString("hex");
/** Where the management API is served unless the config says otherwise. */
export const ADMIN_PREFIX = "/_keygate/v1";

export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

async function waitFor(url, child, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited early (${child.exitCode})`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`${what} did not start within ${timeoutMs} ms`);
}

/**
 * The address `wrangler dev` says it serves on, once keygate itself answers
 * there (a problem+json refusal of the readiness path). Trusting only the
 * port asked for is not enough: another process can take it between
 * freePort() and wrangler's bind, and then a test would talk to a stranger.
 */
async function waitForKeygate(child, lines, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early (${child.exitCode})`);
    const ready = /Ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(lines.join(""));
    if (ready) {
      try {
        const res = await fetch(`${ready[1]}/__keygate_ready`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if ((res.headers.get("content-type") ?? "").startsWith("application/problem+json")) return ready[1];
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not serve keygate within ${timeoutMs} ms`);
}

/** The pids below `pid` (children, grandchildren, ...), from /proc. */
export function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {}
  }
  const out = [];
  const walk = (p) => (children.get(p) ?? []).forEach((c) => { out.push(c); walk(c); });
  walk(pid);
  return out;
}

/** The TCP ports `pid` listens on, from /proc/<pid>/fd and /proc/net/tcp. */
export function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {}
  }
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === "0A" && inodes.has(f[9]))
    .map((f) => parseInt(f[1].split(":")[1], 16));
}

/**
 * The URL of the runtime process that runs the Workers, without wrangler
 * dev's own proxy in front (that proxy drops `Connection`, as an edge
 * proxy that is not RFC 9110's would). Found as the workerd child
 * (`--socket-addr=entry=127.0.0.1:0`) port that answers keygate's
 * problem+json.
 */
async function runtimeUrl(wranglerPid) {
  for (const pid of descendants(wranglerPid)) {
    let cmdline = "";
    try { cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8"); } catch {}
    if (!cmdline.includes("--socket-addr=entry=127.0.0.1:0")) continue;
    for (const port of listeningPorts(pid)) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/__keygate_ready`, { signal: AbortSignal.timeout(2000) });
        const body = await res.text();
        if ((res.headers.get("content-type") ?? "").startsWith("application/problem+json") && body.includes("no_route")) {
          return `http://127.0.0.1:${port}`;
        }
      } catch {}
    }
  }
  throw new Error("no runtime entry socket answers keygate");
}

/** Every process this harness started that may still run: see stopAll. */
const running = new Set();

/**
 * Stops every process this harness started. A failed runtime-log check
 * (gateway stop()) does so before it throws: a test file's `after` hook
 * stops its other processes only after the gateway, and one left running
 * would keep the file from ever ending.
 */
function stopAll() {
  return Promise.all([...running].map((stop) => stop()));
}

function track(child, name) {
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (d) => lines.push(d));
  }
  const stop = () =>
    new Promise((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      child.once("exit", ok);
      try { process.kill(-child.pid, "SIGTERM"); } catch { child.kill("SIGTERM"); }
      setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch {} }, 5000).unref();
    });
  running.add(stop);
  child.once("exit", () => running.delete(stop));
  // pid: the process group of the tracked child (make bench finds workerd in it).
  return { lines, stop, name, pid: child.pid };
}

/** Starts an origin script (default demo/origin.mjs) on a free port. */
export async function startOrigin(script = "demo/origin.mjs") {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, script), String(port)], {
    env: { ...process.env, KEYGATE_ORIGIN_SECRET: SECRET },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const tracked = track(child, "origin");
  const url = `http://127.0.0.1:${port}`;
  await waitFor(url, child, "origin");
  return { url, port, ...tracked };
}

/**
 * Starts an origin program in any language on a free port: `command` with
 * `args` and then the port. Its KEYGATE_ORIGIN_SECRET is `secret` (default
 * SECRET); `env` adds variables. Ready once it answers HTTP at all.
 */
export async function startOriginCommand(command, args = [], { secret = SECRET, env = {} } = {}) {
  const port = await freePort();
  const child = spawn(command, [...args, String(port)], {
    env: { ...process.env, ...env, KEYGATE_ORIGIN_SECRET: secret },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const tracked = track(child, "origin");
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(url, child, `origin ${command}`);
  } catch (e) {
    await tracked.stop();
    throw new Error(`${e.message}\n${tracked.lines.join("")}`);
  }
  return { url, port, ...tracked };
}

/** SHA-256 of a key, lowercase hex: its KV key. */
export const kvKeyOf = (key) => createHash("sha256").update(key).digest("hex");

/** Rewrites the rendered configs for a broken seam (see startGateway's `seam`). */
function breakSeam(seam, dir) {
  const gatewayToml = join(dir, "gateway.toml");
  const controlToml = join(dir, "control.toml");
  if (seam === "unbound") {
    const text = readFileSync(gatewayToml, "utf8").replace(
      /^\[\[(durable_objects\.bindings|services)\]\]\n(?:[^[\n][^\n]*\n)*/gm,
      "",
    );
    if (/script_name|CONTROL/.test(text)) throw new Error("unbound: bindings left in gateway.toml");
    writeFileSync(gatewayToml, text);
  } else if (seam === "mismatch") {
    const text = readFileSync(controlToml, "utf8");
    const changed = text.replace(/^cache_ttl_seconds = (\d+)$/m, (_, n) => `cache_ttl_seconds = ${n > 0 ? n - 1 : 1}`);
    if (changed === text) throw new Error("mismatch: no cache_ttl_seconds line in control.toml");
    writeFileSync(controlToml, changed);
  } else if (seam === "misbehaving") {
    for (const [toml, standIn] of [[gatewayToml, "misbehaving-gateway.mjs"], [controlToml, "misbehaving-control.mjs"]]) {
      const text = readFileSync(toml, "utf8");
      writeFileSync(toml, text.replace(/^main = .*$/m, `main = ${JSON.stringify(join(ROOT, "tests/e2e", standIn))}`));
    }
  } else if (seam === "failing") {
    const text = readFileSync(controlToml, "utf8");
    writeFileSync(
      controlToml,
      text.replace(/^main = .*$/m, `main = ${JSON.stringify(join(ROOT, "tests/e2e/failing-control.mjs"))}`),
    );
  }
}

/**
 * Starts keygate's two Workers under one `wrangler dev`.
 * - template: wrangler config text; __BUILD__, __ORIGIN__, __DEAD_PORT__ are replaced.
 * - keys: { name: [mint args…] } minted and stored; { name: { unstored: [args] } } minted only;
 *   { name: { args: [args], secret } } minted with another key secret and stored.
 * - raw: extra [{ key, value }] KV entries, or a function of the minted keys returning them.
 * - secret: the origin secret in .dev.vars (omit with null).
 * - adminToken: KEYGATE_ADMIN_TOKEN in .dev.vars (omit with null); default ADMIN_TOKEN.
 * - keySecret: KEYGATE_KEY_SECRET in .dev.vars (omit with null); default KEY_SECRET.
 * - keySecretPrevious: KEYGATE_KEY_SECRET_PREVIOUS in .dev.vars; default none.
 * - mintSecret: the secret `keygate mint` tags the `keys` with; default keySecret.
 * - dev: write KEYGATE_DEV=1 to .dev.vars (allows http://localhost webhooks); default true.
 * - vars: more { NAME: value } lines for .dev.vars (e.g. verifier tokens); default none.
 * - adminPrefix: the management API's path prefix, for admin(); default ADMIN_PREFIX.
 * - knownRuntimeProblems: regexps of runtime log lines this file tolerates, each an
 *   open defect named where it is passed; every other runtime problem fails the file.
 * - seam: "pair" (default): both Workers; "missing": the gateway alone, bound
 *   to a control Worker that is not running; "unbound": the gateway alone,
 *   without the ACCOUNTS and CONTROL bindings; "mismatch": the control
 *   Worker with another KEYGATE_CONFIG; "failing": a control Worker whose
 *   every fetch throws (tests/e2e/failing-control.mjs); "misbehaving": both
 *   Workers replaced by stand-ins that throw, reject and warn on request
 *   (tests/e2e/misbehaving-gateway.mjs, for runtime-log.test.mjs).
 */
export async function startGateway({
  template,
  origin,
  keys = {},
  raw = [],
  secret = SECRET,
  adminToken = ADMIN_TOKEN,
  keySecret = KEY_SECRET,
  keySecretPrevious = null,
  mintSecret = keySecret ?? KEY_SECRET,
  dev = true,
  vars: extraVars = {},
  adminPrefix = ADMIN_PREFIX,
  knownRuntimeProblems = [],
  seam = "pair",
}) {
  const dir = mkdtempSync(join(tmpdir(), "keygate-e2e-"));
  const config = join(dir, "wrangler.toml");
  const deadPort = await freePort();
  // A control Worker name of its own, so that no other dev session's
  // control Worker can answer for this one.
  const controlName = `keygate-e2e-control-${randomBytes(4).toString("hex")}`;
  writeFileSync(
    config,
    template
      .replaceAll("__BUILD__", join(ROOT, "build"))
      .replaceAll("__ORIGIN__", origin ?? "http://127.0.0.1:9")
      .replaceAll("__DEAD_PORT__", String(deadPort)) +
      `\n[keygate]\ncontrol_name = "${controlName}"\n`,
  );
  // The two Workers' configs, rendered by the CLI as an operator would.
  // --allow-invalid-config: the Workers' own refusal of one is under test.
  execFileSync(
    CLI,
    ["render", "--config", config, "--out", dir, "--main-dir", join(ROOT, "build"), "--allow-invalid-config"],
    { stdio: "pipe" },
  );
  breakSeam(seam, dir);
  const configs = ["gateway.toml", "control.toml"]
    .slice(0, seam === "missing" || seam === "unbound" ? 1 : 2)
    .flatMap((file) => ["--config", join(dir, file)]);
  const vars = [
    secret !== null && `KEYGATE_ORIGIN_SECRET=${secret}`,
    adminToken !== null && `KEYGATE_ADMIN_TOKEN=${adminToken}`,
    keySecret !== null && `KEYGATE_KEY_SECRET=${keySecret}`,
    keySecretPrevious !== null && `KEYGATE_KEY_SECRET_PREVIOUS=${keySecretPrevious}`,
    dev && "KEYGATE_DEV=1",
    ...Object.entries(extraVars).map(([name, value]) => `${name}=${value}`),
  ].filter(Boolean);
  if (vars.length) writeFileSync(join(dir, ".dev.vars"), vars.map((v) => v + "\n").join(""));

  const bulk = join(dir, "bulk.json");
  writeFileSync(bulk, "[]");
  const minted = {};
  for (const [name, spec] of Object.entries(keys)) {
    const args = Array.isArray(spec) ? spec : spec.unstored ?? spec.args;
    const store = Array.isArray(spec) || spec.args ? ["--kv-bulk", bulk] : [];
    minted[name] = execFileSync(CLI, ["mint", "--config", config, "--quiet", ...store, ...args], {
      encoding: "utf8",
      env: { ...process.env, KEYGATE_KEY_SECRET: spec.secret ?? mintSecret },
    }).trim();
  }
  const extra = typeof raw === "function" ? raw(minted) : raw;
  const entries = JSON.parse(readFileSync(bulk, "utf8")).concat(extra);
  writeFileSync(bulk, JSON.stringify(entries));
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" };
  const persist = join(dir, "state");
  execFileSync(
    WRANGLER,
    ["kv", "bulk", "put", bulk, "--binding", "KEYS", "--local", "--persist-to", persist, "--config", config],
    { env, stdio: "pipe" },
  );

  const port = await freePort();
  const inspector = await freePort();
  const child = spawn(
    WRANGLER,
    ["dev", ...configs, "--ip", "127.0.0.1", "--port", String(port),
      "--inspector-port", String(inspector), "--persist-to", persist, "--local", "--show-interactive-dev-session=false",
      // workerd --verbose: see RUNTIME_LOG_ENV.
      "--log-level", "debug"],
    { cwd: dir, env: { ...env, ...RUNTIME_LOG_ENV, WRANGLER_LOG_PATH: join(dir, "wrangler-logs") },
      stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  const tracked = track(child, "gateway");
  let url;
  try {
    url = await waitForKeygate(child, tracked.lines);
  } catch (e) {
    await tracked.stop();
    throw new Error(`${e.message}\n${tracked.lines.join("")}`);
  }
  return {
    url,
    keys: minted,
    dir,
    adminToken,
    adminPrefix,
    /** The runtime's own socket, without wrangler dev's proxy (see runtimeUrl). */
    runtimeUrl: () => runtimeUrl(child.pid),
    /**
     * The inspector port asked of wrangler dev. Its inspector proxy is off
     * (RUNTIME_LOG_ENV); tests/bench/profile.mjs also finds workerd's own.
     */
    inspectorPort: inspector,
    /**
     * Calls the management API: `path` is below the prefix (query included).
     * `body`: an object (sent as JSON), a string or Buffer (sent as is), or undefined.
     * Options: token (a string, or null for no Authorization header; default the
     * gateway's admin token), headers (extra request headers).
     * Returns { status, type, body (parsed JSON, or the text if not JSON), headers }.
     */
    admin: (method, path, body, options = {}) =>
      adminCall(url + adminPrefix + path, method, body, { token: adminToken, ...options }),
    /**
     * Mints a key into the running gateway's KV (tagged with `secret`, default
     * mintSecret); resolves to the key. Asynchronous, so the event loop keeps
     * serving sockets meanwhile (a blocked loop misses a keep-alive close, and
     * the next fetch fails with "other side closed").
     */
    mint: async (args, secret = mintSecret) => {
      const file = join(dir, `mint-${Date.now()}-${Math.random()}.json`);
      writeFileSync(file, "[]");
      const run = promisify(execFile);
      const { stdout } = await run(CLI, ["mint", "--config", config, "--quiet", "--kv-bulk", file, ...args], {
        encoding: "utf8",
        env: { ...process.env, KEYGATE_KEY_SECRET: secret },
      });
      await run(
        WRANGLER,
        ["kv", "bulk", "put", file, "--binding", "KEYS", "--local", "--persist-to", persist, "--config", config],
        { env },
      );
      return stdout.trim();
    },
    /** Reads a value from the gateway's local KV with wrangler. */
    kvGet: (name) =>
      execFileSync(
        WRANGLER,
        ["kv", "key", "get", name, "--binding", "KEYS", "--local", "--persist-to", persist, "--config", config, "--text"],
        { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
      ).trim(),
    /** The request log lines printed so far, parsed. */
    logEntries: () =>
      tracked.lines
        .join("")
        .split("\n")
        .map((line) => /\{".*"outcome":.*\}/.exec(line)?.[0])
        .filter(Boolean)
        .map((json) => JSON.parse(json)),
    ...tracked,
    /** What the runtime logged that it must never log (see runtimeProblems). */
    runtimeProblems: () => runtimeProblems(tracked.lines),
    stop: async () => {
      await tracked.stop();
      rmSync(dir, { recursive: true, force: true });
      const problems = runtimeProblems(tracked.lines).filter(
        (line) => !knownRuntimeProblems.some((re) => re.test(line)),
      );
      if (problems.length) {
        await stopAll();
        throw new Error(`the runtime logged what it never should:\n${problems.join("\n")}`);
      }
    },
  };
}

/**
 * How `wrangler dev` runs so that its output holds every runtime problem of
 * every Worker in the session (with `--log-level debug`, which makes
 * wrangler start workerd with --verbose).
 *
 * wrangler prints a Worker's uncaught exceptions ("Uncaught ...") only
 * through its own inspector session, and with two Workers it attaches that
 * session to one of them (seen: the control Worker): the other's were never
 * printed. (A fetch handler's throw it prints as "[wrangler:error] Error:
 * ...", which the check did not match: with the old setup,
 * runtime-log.test.mjs missed the gateway's throw and background rejection
 * and the control Worker's throw in 3 runs of 3.) workerd
 * itself logs every uncaught exception of every isolate, at info level
 * ("uncaught exception; source = Uncaught (in promise); stack = ..."),
 * which only --verbose prints; wrangler's inspector session adds nothing
 * then, and is off (VSCODE_INSPECTOR_OPTIONS set: wrangler 4.86 skips its
 * inspector proxy, workerd keeps its own inspector). The Workers'
 * console lines (logEntries) come from workerd's structured stdout, not
 * from the inspector. tests/e2e/runtime-log.test.mjs proves the detection
 * for both Workers.
 */
export const RUNTIME_LOG_ENV = { VSCODE_INSPECTOR_OPTIONS: "{}" };

/**
 * Lines of a wrangler/workerd log that fail a test file: an uncaught
 * exception (workerd's "uncaught exception; ..." or wrangler's
 * "[wrangler-UserWorker:error] Error: ..." for a fetch handler that threw),
 * "Your worker restarted", or a runtime warning (such as a null-body status
 * built with a body).
 */
export const RUNTIME_PROBLEMS = [
  /uncaught/i,
  /^\[wrangler[\w-]*:error\]/,
  /Your worker restarted/i,
  /worker restarted mid-request/i,
  /null body status/i,
  /workerd\/[^\n]*\b(warning|error)\b/i,
  /A hanging Promise was canceled/i,
];

/**
 * workerd's own account of a subrequest whose connection was refused (a
 * test's dead origin): the KJ exception, then, for the fetch() promise,
 * "uncaught exception" lines for "Network connection lost." with sources
 * "in promise" and "in response". workerd logs those two even when the
 * Worker catches the rejection (a plain-JS Worker doing
 * `try { await fetch(deadPort) } catch {}` logs the same), so they are not
 * the Worker's uncaught exceptions. Only the two lines right after such a
 * refusal are passed over: a WebSocket's "Network connection lost." (its
 * KJ exception: "other end of WebSocketPipe was destroyed") still counts.
 */
const REFUSED_CONNECT = /disconnected: connect\(\): Connection refused/;
const REFUSED_FETCH = /^uncaught exception; source = Uncaught \(in (promise|response)\); stack = Error: Network connection lost\.$/;

export function runtimeProblems(lines) {
  let refused = 0;
  return lines
    .join("")
    .split("\n")
    .filter((line) => {
      if (REFUSED_CONNECT.test(line)) {
        refused = 2;
        return false;
      }
      if (refused > 0 && REFUSED_FETCH.test(line)) {
        refused -= 1;
        return false;
      }
      if (RUNTIME_PROBLEMS.some((re) => re.test(line))) {
        refused = 0;
        return true;
      }
      return false;
    });
}

/**
 * fetch, sent again once when the pooled keep-alive socket it went out on
 * had been closed by wrangler dev's proxy while idle (undici: "other side
 * closed"). That happens when the test process was busy (a long synchronous
 * step, such as compiling the OpenAPI document's schemas on a loaded
 * machine) for longer than the proxy's keep-alive timeout: the close was
 * not read before the socket was reused. A server closes only idle sockets,
 * so the request never reached it; any other failure is thrown as is.
 */
export async function fetchOnFreshSocket(url, init) {
  try {
    return await fetch(url, init);
  } catch (e) {
    const code = e?.cause?.code;
    if (code !== "UND_ERR_SOCKET" && code !== "ECONNRESET") throw e;
    console.error(`# ${init?.method ?? "GET"} ${url}: ${code} (${e.cause?.message}); sent again on a new socket`);
    return await fetch(url, init);
  }
}

async function adminCall(url, method, body, { token, headers = {} }) {
  const init = { method, redirect: "manual", headers: { ...headers } };
  if (token !== null && token !== undefined) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    const raw = typeof body === "string" || Buffer.isBuffer(body);
    init.body = raw ? body : JSON.stringify(body);
    if (!Object.keys(init.headers).some((h) => h.toLowerCase() === "content-type")) {
      init.headers["Content-Type"] = "application/json";
    }
  }
  const res = await fetchOnFreshSocket(url, init);
  const text = await res.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch {}
  return { status: res.status, type: res.headers.get("content-type"), body: parsed, headers: res.headers };
}

/**
 * Sends `method path` to `baseUrl` through node:http, which sends the path
 * and every header exactly as written (fetch would normalise them);
 * resolves { status, headers, body (parsed JSON, or the text) }.
 */
export function rawRequest(baseUrl, method, path, headers = {}) {
  return new Promise((ok, fail) => {
    const url = new URL(baseUrl);
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        let body = text;
        try { body = JSON.parse(text); } catch {}
        ok({ status: res.statusCode, headers: res.headers, body });
      });
    });
    req.on("error", fail);
    req.end();
  });
}

/** Reads a problem+json response. */
export async function problem(res) {
  const type = res.headers.get("content-type");
  const body = await res.json();
  return { status: res.status, type, body, challenge: res.headers.get("www-authenticate") };
}
