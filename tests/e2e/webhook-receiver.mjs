// A webhook receiver for the end-to-end tests (tests/e2e/webhooks.test.mjs):
// it records every delivery and verifies each with the official Standard
// Webhooks library (npm `standardwebhooks`), never with keygate's code.
//
// Usage: node tests/e2e/webhook-receiver.mjs <port>
//
// A delivery's path says how to answer: /<mode>/<name>
//   ok        200
//   fail2     500 twice, then 200
//   gone      410 Gone
//   redirect  302 to /ok/<name>-followed (which must never be reached)
// Controls, for the test:
//   POST /_admin/secrets {"name", "secrets": ["whsec_…", …]}  the secrets of <name>
//   GET  /_admin/log?name=<name>  its deliveries, each with `verified_by`:
//        for each secret, whether the library verified the delivery with it
//   GET  /dns-query?name=&type=  a stand-in DNS-over-HTTPS resolver
//   GET  /_admin/lookups          the names it was asked for
//   POST /_admin/github-keys <document>  what GET /github-keys serves (a
//        stand-in for GitHub's secret-scanning public-key document)
//   POST /_admin/github-keys-status {"status"}  what GET /github-keys
//        answers instead of the document (0: the document; 403: rate limited)
//   GET  /_admin/github-fetches   how many times /github-keys was fetched
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const port = Number(process.argv[2] ?? 8790);
const deliveries = [];
const secrets = new Map();
const counts = new Map();
let githubKeys = JSON.stringify({ public_keys: [] });
let githubKeysStatus = 0;
let githubFetches = 0;
const lookups = [];

function verify(delivery) {
  const headers = {
    "webhook-id": delivery.headers["webhook-id"],
    "webhook-timestamp": delivery.headers["webhook-timestamp"],
    "webhook-signature": delivery.headers["webhook-signature"],
  };
  return (secrets.get(delivery.name) ?? []).map((secret) => {
    try {
      new Webhook(secret).verify(delivery.body, headers);
      return true;
    } catch {
      return false;
    }
  });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://receiver");
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks).toString("utf8");
  const json = (status, value) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };
  if (url.pathname === "/_admin/secrets") {
    const { name, secrets: list } = JSON.parse(body);
    secrets.set(name, list);
    return json(200, {});
  }
  if (url.pathname === "/_admin/github-keys") {
    githubKeys = body;
    return json(200, {});
  }
  if (url.pathname === "/dns-query") {
    // A stand-in DNS-over-HTTPS resolver (JSON API): *.inward.test points
    // at a private address, *.public.test at a public one, the rest does
    // not exist.
    const name = url.searchParams.get("name") ?? "";
    const type = url.searchParams.get("type");
    lookups.push({ name, type, accept: req.headers.accept });
    const address = name.endsWith(".inward.test") ? "10.0.0.7" : name.endsWith(".public.test") ? "93.184.215.14" : null;
    if (!address) return json(200, { Status: 3 });
    const answer = type === "A" ? [{ name, type: 1, TTL: 60, data: address }] : [];
    return json(200, { Status: 0, Answer: answer });
  }
  if (url.pathname === "/_admin/lookups") {
    return json(200, lookups);
  }
  if (url.pathname === "/_admin/github-keys-status") {
    githubKeysStatus = JSON.parse(body).status;
    return json(200, {});
  }
  if (url.pathname === "/_admin/github-fetches") {
    return json(200, { fetches: githubFetches });
  }
  if (url.pathname === "/github-keys") {
    githubFetches += 1;
    if (githubKeysStatus) {
      return json(githubKeysStatus, { message: "API rate limit exceeded" });
    }
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(githubKeys);
  }
  if (url.pathname === "/_admin/log") {
    const name = url.searchParams.get("name");
    return json(
      200,
      deliveries.filter((d) => d.name === name).map((d) => ({ ...d, verified_by: verify(d) })),
    );
  }
  if (req.method !== "POST") return json(200, { ready: true });
  const [, mode, name] = url.pathname.split("/");
  const n = (counts.get(url.pathname) ?? 0) + 1;
  counts.set(url.pathname, n);
  deliveries.push({ name, mode, n, at: Date.now(), headers: { ...req.headers }, body });
  switch (mode) {
    case "ok":
      return json(200, { ok: true });
    case "fail2":
      return n <= 2 ? json(500, { failing: n }) : json(200, { ok: true });
    case "gone":
      return json(410, { gone: true });
    case "redirect":
      res.writeHead(302, { location: `/ok/${name}-followed` });
      return res.end();
    default:
      return json(404, {});
  }
});
server.listen(port, "127.0.0.1");
