// An origin that routes as leniently as real frameworks do, for the
// canonical-path tests: it percent-decodes the path, ignores case (Express,
// Koa, ASP.NET), drops `;` parameters (Tomcat), trims trailing dots and
// spaces (IIS), drops a format suffix from the last segment (Rails, Django
// REST Framework) and ignores a trailing `/`; it also decodes twice, and
// folds Unicode with NFKC (as normalising routers and Windows "best-fit"
// conversions do), dropping zero-width characters and reading Unicode
// spaces as spaces. It answers which handler the request reached, and
// what it received. A path holding `set-cookies` gets Set-Cookie headers,
// one of them for keygate's own cookie (for the cookie test).
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

/** NFKC, without default-ignorable characters, Unicode spaces as spaces. */
export function fold(text) {
  return text
    .normalize("NFKC")
    .replace(/[\u00AD\u034F\u061C\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFE00-\uFE0F\uFEFF]/g, "")
    .replace(/\s/gu, " ");
}

export function routeOf(path) {
  const raw = [];
  for (const decoded of path.split("?")[0].split("/").map((s) => fold(decode(decode(s))))) {
    for (const segment of decoded.split("/")) {
      if (segment === "" || segment === ".") continue;
      if (segment === "..") raw.pop();
      else raw.push(segment);
    }
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

/** What the origin sets on a `set-cookies` path: keygate's cookie names
 * among others, one of them with an `Expires` that holds a comma. */
export const SET_COOKIES = [
  "sid=abc; Path=/; HttpOnly",
  "keygate_portal=kgpc.forged; Path=/_keygate/keys; HttpOnly",
  "theme=dark; Expires=Wed, 09 Jun 2027 10:18:14 GMT; Path=/",
  "__Host-keygate_portal=forged; Path=/; Secure",
  "KEYGATE_PORTAL=forged",
  "=keygate_portal=forged",
  "prefs=keygate_portal; Path=/",
];
export const OWN_COOKIES = [1, 3, 4, 5];

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
      const headers = [
        ["content-type", "application/json"],
        ["keygate-account", "acct_from_origin"],
      ];
      if (req.url.includes("set-cookies")) {
        for (const cookie of SET_COOKIES) headers.push(["set-cookie", cookie]);
      }
      res.writeHead(200, headers.flat());
      res.end(req.method === "HEAD" ? undefined : body);
    });
  });
  server.listen(port, "127.0.0.1", () => console.log(`lenient origin on ${port}`));
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
}
