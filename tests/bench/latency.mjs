// make bench, part 2: request latency through keygate on workerd (wrangler
// dev, local) versus straight to the same origin, on loopback. Bounded: a
// fixed number of sequential requests per case, then everything stops.
//
// Local workerd is not Cloudflare's edge; compare cases with each other,
// not with production numbers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startGateway, startOrigin } from "../e2e/harness.mjs";
import { forgedKey } from "../e2e/forge.mjs";

const N = Number(process.env.BENCH_REQUESTS ?? 400);
const FORGED = Number(process.env.BENCH_FORGED_KEYS ?? 10_000);
// Salesforge has consistency = "edge", Strictforge "strict".
const template = readFileSync(join(ROOT, "tests/e2e/wrangler.manage.toml"), "utf8");

const origin = await startOrigin();
const gw = await startGateway({ template, origin: origin.url });
const create = async (product) => {
  const res = await gw.admin("POST", "/accounts/acct_bench/keys", { product, name: "bench" });
  if (res.status !== 201) throw new Error(`creating a ${product} key: ${res.status}`);
  return res.body.key;
};
const keys = { sf: await create("salesforge"), st: await create("strictforge") };

async function measure(name, url, headers = {}) {
  for (let i = 0; i < 20; i++) await (await fetch(url, { headers })).arrayBuffer(); // warm-up
  const times = [];
  let status = 0;
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    times.push(performance.now() - t0);
    status = res.status;
  }
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(2);
  console.log(`${name.padEnd(34)} status ${status}  p50 ${q(0.5)} ms  p90 ${q(0.9)} ms  p99 ${q(0.99)} ms  (n=${N})`);
}

// Forged keys: right shape and checksum, wrong tag. Each must cost no KV read.
async function forged() {
  const path = "/salesforge/v1/forged";
  const keys = Array.from({ length: FORGED }, () => forgedKey("sf", "live"));
  const t0 = performance.now();
  let next = 0;
  let refused = 0;
  const worker = async () => {
    while (next < keys.length) {
      const res = await fetch(gw.url + path, { headers: { "X-Salesforge-Key": keys[next++] } });
      if (res.status === 401 && (await res.json()).code === "invalid_key") refused++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const seconds = (performance.now() - t0) / 1000;
  let lines = [];
  for (let i = 0; i < 100 && lines.length < FORGED; i++) {
    lines = gw.logEntries().filter((e) => e.path === path);
    if (lines.length < FORGED) await new Promise((r) => setTimeout(r, 100));
  }
  const reads = lines.reduce((sum, e) => sum + e.kv_reads, 0);
  console.log(
    `${"gateway: forged keys (tag fails)".padEnd(34)} ${refused}/${FORGED} invalid_key  ` +
      `KV reads ${reads} (over ${lines.length} log lines)  ${(FORGED / seconds).toFixed(0)} req/s`,
  );
  if (reads !== 0 || refused !== FORGED) process.exitCode = 1;
}

try {
  await measure("origin direct", `${origin.url}/salesforge/v1/leads`);
  await measure("gateway: public path", `${gw.url}/salesforge/health`);
  await measure("gateway: valid key (cached record)", `${gw.url}/salesforge/v1/leads`, { "X-Salesforge-Key": keys.sf });
  await measure("gateway: valid key, strict", `${gw.url}/strictforge/v1/leads`, { "X-Strictforge-Key": keys.st });
  await measure("gateway: malformed key (no KV read)", `${gw.url}/salesforge/v1/leads`, { "X-Salesforge-Key": "sf_live_bad" });
  await measure("gateway: no route", `${gw.url}/nowhere`);
  await forged();
} finally {
  await gw.stop();
  await origin.stop();
}
