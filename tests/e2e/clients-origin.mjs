// An origin for the real-client tests (tests/e2e/clients.test.mjs): it
// answers uploads with their size and SHA-256, streams SSE, sends cookie
// lists, gzip, redirects, ranges and conditional answers, stray interim
// responses, a WebSocket echo (npm `ws`) and an MCP server over streamable
// HTTP (the official SDK). Every answer says which headers arrived.
//
// Usage: node tests/e2e/clients-origin.mjs <port>
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { WebSocketServer } from "ws";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import { productKey, verifyKeygate } from "../../demo/verify.mjs";

const port = Number(process.argv[2] ?? 8790);
const BIG = Buffer.alloc(1 << 20, "0123456789abcdef");
const ETAG = '"v1"';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secret = process.env.KEYGATE_ORIGIN_SECRET ?? "";
const keyFor = (product) => productKey(secret, product);
/** Whether keygate's signature verifies (the body is not signed here). */
const signed = async (req) => (await verifyKeygate(req, Buffer.alloc(0), { keyFor, nonces: new Map() })).ok;

function mcpServer() {
  const server = new McpServer({ name: "e2e-origin", version: "1.0.0" });
  server.registerTool(
    "count",
    { description: "Counts to n, one progress notification every 150 ms", inputSchema: { n: z.number() } },
    async ({ n }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= n; i++) {
        await sleep(150);
        if (token !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken: token, progress: i, total: n, message: `sent ${Date.now()}` },
          });
        }
      }
      return { content: [{ type: "text", text: `counted to ${n}` }] };
    },
  );
  return server;
}

const json = (res, status, value, headers = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(value));
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://origin");
  const path = url.pathname.replace(/^\/clients/, "");
  if (path === "/mcp") {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const text = Buffer.concat(chunks).toString("utf8");
    const mcp = mcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => { transport.close(); mcp.close(); });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, text ? JSON.parse(text) : undefined);
    return;
  }
  if (path === "/interim") {
    // A misbehaving origin: an interim answer nobody asked for.
    res.writeContinue();
    await sleep(50);
    return json(res, 200, { after: "interim" });
  }
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of req) {
    hash.update(chunk);
    size += chunk.length;
  }
  const seen = {
    method: req.method, url: req.url, headers: req.headers, size, sha256: hash.digest("hex"),
    signature_valid: await signed(req),
  };
  switch (path) {
    case "/sse": {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      for (let i = 1; i <= 3; i++) {
        res.write(`id: ${i}\ndata: {"n":${i},"at":${Date.now()}}\n\n`);
        await sleep(300);
      }
      return res.end();
    }
    case "/cookies":
      res.setHeader("set-cookie", ["a=1; Path=/; HttpOnly", "b=2; Path=/; Secure", "c=3, with comma; Path=/"]);
      return json(res, 200, { ok: true });
    case "/gzip": {
      const body = gzipSync(JSON.stringify({ zipped: true, pad: "x".repeat(4096) }));
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": body.length });
      return res.end(body);
    }
    case "/redirect":
      res.writeHead(302, { location: "/clients/elsewhere?from=redirect" });
      return res.end();
    case "/big": {
      if (req.headers["if-none-match"] === ETAG) {
        res.writeHead(304, { etag: ETAG });
        return res.end();
      }
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
      if (range) {
        const [start, end] = [Number(range[1]), Number(range[2])];
        res.writeHead(206, {
          etag: ETAG, "accept-ranges": "bytes", "content-range": `bytes ${start}-${end}/${BIG.length}`,
          "content-type": "application/octet-stream", "content-length": end - start + 1,
        });
        return res.end(BIG.subarray(start, end + 1));
      }
      res.writeHead(200, { etag: ETAG, "accept-ranges": "bytes", "content-type": "application/octet-stream", "content-length": BIG.length });
      return res.end(req.method === "HEAD" ? undefined : BIG);
    }
    case "/empty":
      res.writeHead(204, { "keygate-leak": "from-origin", "x-kind": "empty" });
      return res.end();
    case "/cors-by-origin":
      res.writeHead(req.method === "OPTIONS" ? 204 : 200, {
        "access-control-allow-origin": req.headers.origin ?? "*",
        "access-control-allow-headers": "x-from-origin",
        "x-answered-by": "origin",
      });
      return res.end();
    default:
      return json(res, 200, seen);
  }
});

const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => [...protocols][0] ?? false });
server.on("upgrade", (req, socket, head) => {
  if (req.url.includes("refuse-upgrade")) {
    // A refused upgrade whose answer sets keygate's cookie and a Keygate-*
    // header among its own: keygate must strip both.
    socket.end(
      "HTTP/1.1 403 Forbidden\r\n" +
        "Content-Type: text/plain\r\n" +
        "Set-Cookie: sid=1; Path=/\r\n" +
        "Set-Cookie: keygate_portal=forged; Path=/_keygate/keys\r\n" +
        "Keygate-Account: acct_from_origin\r\n" +
        "Content-Length: 2\r\n" +
        "Connection: close\r\n\r\nno",
    );
    return;
  }
  wss.handleUpgrade(req, socket, head, async (ws) => {
    const valid = await signed(req);
    ws.send(JSON.stringify({ hello: { url: req.url, headers: req.headers, protocol: ws.protocol, signature_valid: valid } }));
    ws.on("message", (data, binary) => {
      if (!binary && data.toString() === "close-me") return ws.close(4001, "asked");
      ws.send(data, { binary });
    });
  });
});

server.listen(port, "127.0.0.1", () => console.log(`clients origin on ${port}`));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => { wss.close(); server.close(() => process.exit(0)); });
