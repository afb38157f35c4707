// A demo origin that echoes what it receives, as JSON.
//
// It verifies every request's RFC 9421 signature with demo/verify.mjs
// (the same code docs/origin.md shows), reporting `signature_valid` and, when
// it fails, `signature_error`. It serves every product, deriving each
// product's key from KEYGATE_ORIGIN_SECRET; an origin that serves one
// product should hold only that product's key (`keygate origin-key`).
//
// Usage: node demo/origin.mjs [port]   (KEYGATE_ORIGIN_SECRET from the env)
//
// Request controls (used by the end-to-end tests):
//   x-echo-status: 418         answer with this status
//   x-echo-header: name=value  add this response header
//   x-echo-mode: body          stream the request body back instead of JSON
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { productKey, verifyKeygate } from "./verify.mjs";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8788);
const secret = process.env.KEYGATE_ORIGIN_SECRET ?? "";
const keys = new Map();
const keyFor = (product) => {
  if (!keys.has(product)) keys.set(product, productKey(secret, product));
  return keys.get(product);
};
const nonces = new Map();

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
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", async () => {
    const received = Buffer.concat(chunks);
    const verdict = await verifyKeygate(req, received, { keyFor, nonces });
    const body = JSON.stringify({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body_length: received.length,
      body_sha256: createHash("sha256").update(received).digest("hex"),
      signature_valid: verdict.ok,
      ...(verdict.ok ? {} : { signature_error: verdict.error }),
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
