/**
 * Express (4 and 5) middleware: verifies keygate's signature on every
 * request and puts the identity on `req.keygate`; refuses with 401 and a
 * problem+json body naming the rule otherwise.
 *
 * Invariant: the next handler runs only for a request that verified. The
 * body is read only when a `Content-Digest` is signed: from `req.rawBody`
 * (a body parser's `verify` hook), a Buffer `req.body` (`express.raw()`),
 * or the stream itself when no parser has read it (at most `maxBody`
 * bytes, then kept as `req.rawBody`).
 */
import { KeygateError, Verifier, type Identity, type VerifyOptions } from "./index.js";

export { KeygateError, type Identity, type VerifyOptions } from "./index.js";

/** The parts of Express's request this middleware reads (structural, no express import). */
export interface ExpressRequest {
  method: string;
  originalUrl?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: string[];
  body?: unknown;
  rawBody?: Uint8Array;
  keygate?: Identity;
  _body?: boolean;
  readableEnded?: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export interface ExpressResponse {
  status(code: number): ExpressResponse;
  set(field: string, value: string): ExpressResponse;
  send(body: string): unknown;
}

export interface ExpressMiddlewareOptions extends VerifyOptions {
  /** The longest body read to check a digest (default 16 MiB); a longer one is refused (`body_unavailable`). */
  maxBody?: number;
  /** Called on a refusal instead of the 401 answer. */
  onError?: (error: KeygateError, req: ExpressRequest, res: ExpressResponse, next: (e?: unknown) => void) => void;
}

function readStream(req: ExpressRequest, maxBody: number): Promise<Uint8Array> {
  return new Promise((ok, fail) => {
    const chunks: Uint8Array[] = [];
    let length = 0;
    req.on("data", (c: Uint8Array) => {
      length += c.length;
      if (length > maxBody) fail(new Error(`the body is longer than ${maxBody} bytes`));
      else chunks.push(c);
    });
    req.on("end", () => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) { out.set(c, at); at += c.length; }
      ok(out);
    });
    req.on("error", fail);
  });
}

async function bodyOf(req: ExpressRequest, maxBody: number): Promise<Uint8Array> {
  if (req.rawBody instanceof Uint8Array) return req.rawBody;
  if (req.body instanceof Uint8Array) return req.body;
  if (req._body || req.readableEnded) {
    throw new Error("a body parser read the body: give it verify: (req, res, buf) => { req.rawBody = buf }, or use express.raw()");
  }
  req.rawBody = await readStream(req, maxBody);
  return req.rawBody;
}

/** Header lines as received (each line once, duplicates kept). */
function headerLines(req: ExpressRequest): [string, string][] {
  const raw = req.rawHeaders;
  if (raw) {
    const out: [string, string][] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
    return out;
  }
  return Object.entries(req.headers).flatMap(([n, v]) =>
    v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => [n, x] as [string, string]),
  );
}

/** `app.use(keygate({ secret: process.env.KEYGATE_ORIGIN_SECRET, products: ["salesforge"] }))`. */
export function keygate(options: ExpressMiddlewareOptions) {
  const verifier = new Verifier(options);
  return (req: ExpressRequest, res: ExpressResponse, next: (e?: unknown) => void): void => {
    const target = req.originalUrl ?? req.url ?? "/";
    const q = target.indexOf("?");
    const host = req.headers.host;
    verifier
      .verify({
        method: req.method,
        authority: Array.isArray(host) ? host.join(", ") : host ?? "",
        path: q < 0 ? target : target.slice(0, q),
        query: q < 0 ? null : target.slice(q + 1),
        headers: headerLines(req),
        body: () => bodyOf(req, options.maxBody ?? 16 << 20),
      })
      .then(
        (identity) => {
          req.keygate = identity;
          next();
        },
        (error: unknown) => {
          if (!(error instanceof KeygateError)) return next(error);
          if (options.onError) return options.onError(error, req, res, next);
          res
            .status(401)
            .set("Content-Type", "application/problem+json")
            .send(JSON.stringify({ type: "about:blank", title: "keygate signature refused", status: 401, code: error.rule }));
        },
      );
  };
}
