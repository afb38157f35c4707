// An origin that routes as leniently as real frameworks do, for the
// canonical-path tests: it percent-decodes the path, ignores case (Express,
// Koa, ASP.NET), drops `;` parameters (Tomcat), trims trailing dots and
// spaces (IIS), drops a format suffix from the last segment (Rails, Django
// REST Framework) and ignores a trailing `/`. It answers which handler the
// request reached, and what it received.
//
// Usage: node tests/e2e/lenient-origin.mjs <port>
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 8789);

/** [method or "*", route segments ("*" one, "**" the rest), handler name] */
const ROUTES = [
  ["GET", ["api", "v1", "logs", "**"], "logs"],
  ["*", ["api", "v1", "deployments", "**"], "deployments"],
  ["POST", ["v1", "campaigns", "*", "send"], "send"],
  ["*", ["admin", "**"], "admin"],
  ["*", ["docs", "**"], "docs"],
];

function decode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return unescape(segment);
  }
}

export function routeOf(path) {
  const raw = [];
  for (const segment of path.split("?")[0].split("/").map(decode)) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") raw.pop();
    else raw.push(segment);
  }
  return raw
    .map((segment, i) => {
      let s = segment.split(";")[0].replace(/[. ]+$/, "").toLowerCase()
        .replaceAll("ſ", "s").replaceAll("\u212a", "k").replaceAll("ı", "i");
      if (i === raw.length - 1) s = s.split(".")[0];
      return s;
    })
    .filter((s) => s !== "");
}

function matches(route, segments) {
  let i = 0;
  for (const part of route) {
    if (part === "**") return true;
    if (segments[i] === undefined) return false;
    if (part !== "*" && part !== segments[i]) return false;
    i += 1;
  }
  return i === segments.length;
}

export function handlerFor(method, path) {
  const segments = routeOf(path);
  const get = method === "HEAD" ? "GET" : method;
  const hit = ROUTES.find(([m, route]) => (m === "*" || m === get) && matches(route, segments));
  return hit ? hit[2] : "other";
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop())) {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const body = JSON.stringify({
        handler: handlerFor(req.method, req.url),
        method: req.method,
        url: req.url,
        headers: req.headers,
      });
      res.writeHead(200, { "content-type": "application/json", "keygate-account": "acct_from_origin" });
      res.end(req.method === "HEAD" ? undefined : body);
    });
  });
  server.listen(port, "127.0.0.1", () => console.log(`lenient origin on ${port}`));
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
}
