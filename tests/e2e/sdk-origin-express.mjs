// An Express origin built on @keygate/origin (sdk/js, compiled to dist/):
// every request passes keygate's middleware, and the handler echoes the
// verified identity. tests/e2e/sdk-origins.test.mjs runs it behind keygate.
//
// Usage: node sdk-origin-express.mjs PRODUCT... PORT (KEYGATE_ORIGIN_SECRET
// from the env; KEYGATE_SIGN_BODY: comma-separated products that sign bodies)
import express from "express";
import { keygate } from "../../sdk/js/dist/express.js";

const args = process.argv.slice(2);
const port = Number(args.pop());
const signBody = (process.env.KEYGATE_SIGN_BODY ?? "").split(",").filter(Boolean);

const app = express();
app.use(express.raw({ type: () => true, limit: "1mb" }));
app.use(keygate({ secret: process.env.KEYGATE_ORIGIN_SECRET, products: args, signBody }));
app.use((req, res) => {
  const id = req.keygate;
  res.json({
    product: id.product, key_id: id.keyId, account: id.account, environment: id.environment, scopes: id.scopes,
    meta: id.meta, client_ip: id.clientIp, request_id: id.requestId,
    body_length: Buffer.isBuffer(req.body) ? req.body.length : 0, headers: req.headers,
  });
});
app.listen(port, "127.0.0.1");
