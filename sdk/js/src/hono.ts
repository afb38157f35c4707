/**
 * Hono middleware: verifies keygate's signature and sets the identity as
 * `c.get("keygate")`; refuses with 401 and a problem+json body naming the
 * rule otherwise.
 *
 * Invariant: the next handler runs only for a request that verified. The
 * body is read (through Hono's cache, so handlers can read it again) only
 * when a `Content-Digest` is signed.
 */
import { KeygateError, Verifier, received, type Identity, type VerifyOptions } from "./index.js";

export { KeygateError, type Identity, type VerifyOptions } from "./index.js";

/** The parts of Hono's context this middleware uses (structural, no hono import). */
export interface HonoContext {
  req: { raw: Request; arrayBuffer(): Promise<ArrayBuffer> };
  set(key: "keygate", value: Identity): void;
}

export interface HonoMiddlewareOptions extends VerifyOptions {
  /** Builds the refusal instead of the 401 answer. */
  onError?: (error: KeygateError, c: HonoContext) => Response | Promise<Response>;
}

/** `app.use("*", keygate({ secret: env.KEYGATE_ORIGIN_SECRET, products: ["salesforge"] }))`. */
export function keygate(options: HonoMiddlewareOptions) {
  const verifier = new Verifier(options);
  return async (c: HonoContext, next: () => Promise<void>): Promise<Response | void> => {
    let identity: Identity;
    try {
      identity = await verifier.verify(received(c.req.raw, async () => new Uint8Array(await c.req.arrayBuffer())));
    } catch (error) {
      if (!(error instanceof KeygateError)) throw error;
      if (options.onError) return options.onError(error, c);
      return new Response(
        JSON.stringify({ type: "about:blank", title: "keygate signature refused", status: 401, code: error.rule }),
        { status: 401, headers: { "content-type": "application/problem+json" } },
      );
    }
    c.set("keygate", identity);
    await next();
  };
}
