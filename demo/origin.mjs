// A demo origin that echoes what it receives, as JSON.
//
// It also shows origin-side verification of Keygate-Signature (the same
// lines README.md shows), reporting the result as `signature_valid`.
//
// Usage: node demo/origin.mjs [port]   (KEYGATE_ORIGIN_SECRET from the env)
//
// Request controls (used by the end-to-end tests):
//   x-echo-status: 418         answer with this status
//   x-echo-header: name=value  add this response header
//   x-echo-mode: body          stream the request body back instead of JSON
import { createServer } from "node:http";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8788);
const secret = process.env.KEYGATE_ORIGIN_SECRET ?? "";

// --- Origin-side verification (README: "Verifying requests at the origin") ---
function verifyKeygate(req, secret, toleranceSeconds = 300) {
  const sig = req.headers["keygate-signature"] ?? "";
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const h = (name) => req.headers[name] ?? "";
  const signed = ["keygate-v1", m[1], req.method, req.url,
    h("keygate-key-id"), h("keygate-account"), h("keygate-product"),
    h("keygate-environment"), h("keygate-scopes")].join("\n");
  const expected = createHmac("sha256", secret.trim()).update(signed).digest();
  return timingSafeEqual(expected, Buffer.from(m[2], "hex"));
}
// --- end ---

const server = createServer((req, res) => {
  const status = Number(req.headers["x-echo-status"] ?? 200);
  const extra = req.headers["x-echo-header"];
  if (extra) {
    const [name, ...value] = extra.split("=");
    res.setHeader(name, value.join("="));
  }
  if (req.headers["x-echo-mode"] === "body") {
    res.writeHead(status, { "content-type": "application/octet-stream" });
    req.pipe(res);
    return;
  }
  const hash = createHash("sha256");
  let length = 0;
  req.on("data", (chunk) => {
    hash.update(chunk);
    length += chunk.length;
  });
  req.on("end", () => {
    const body = JSON.stringify({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body_length: length,
      body_sha256: hash.digest("hex"),
      signature_valid: verifyKeygate(req, secret),
    });
    res.writeHead(status, { "content-type": "application/json" });
    res.end(body);
  });
});

server.listen(port, "127.0.0.1", () => {
  console.log(`demo origin listening on http://127.0.0.1:${port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
