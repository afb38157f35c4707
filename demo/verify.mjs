// Origin-side verification of keygate's RFC 9421 signature, with the
// independent `http-message-signatures` package (npm) doing the RFC 9421
// work. docs/origin.md ("Reference: verifying by hand") shows this file.
import { createHash, hkdfSync } from "node:crypto";
import { createVerifier, httpbis } from "http-message-signatures";

/** A product's signing key: HKDF-SHA256(secret, salt, info = product id). */
export function productKey(originSecret, productId) {
  const salt = "keygate/rfc9421/origin-key/v1";
  return Buffer.from(hkdfSync("sha256", originSecret.trim(), salt, productId, 32));
}

/** What every keygate signature must cover. */
const REQUIRED = ["@method", "@authority", "@path", "@query", "keygate-product", "keygate-request-id"];

/**
 * Verifies a request received from keygate. Returns { ok: true, params } or
 * { ok: false, error }.
 * - req: a node:http IncomingMessage; body: the whole body as a Buffer.
 * - keyFor(productId): that product's key (a Buffer), or undefined when this
 *   origin does not serve the product. An origin given one product's key
 *   (`keygate origin-key --product ID`) returns it only for that id.
 * - nonces: a Map used to refuse replays (nonce -> expires).
 * - scheme: "http" or "https", as the origin is reached (for @authority).
 */
export async function verifyKeygate(req, body, { keyFor, nonces, scheme = "http", now = Date.now() }) {
  let params;
  try {
    const ok = await httpbis.verifyMessage(
      {
        requiredFields: REQUIRED,
        requiredParams: ["created", "expires", "nonce", "keyid", "alg"],
        tolerance: 5, // seconds of clock skew
        keyLookup: async ({ keyid }) => {
          const key = keyFor(keyid);
          if (!key) return null;
          const hmac = createVerifier(key, "hmac-sha256");
          return {
            id: keyid,
            algs: ["hmac-sha256"],
            verify: async (data, signature, p) => {
              params = p;
              return hmac(data, signature);
            },
          };
        },
      },
      { method: req.method, url: `${scheme}://${req.headers.host}${req.url}`, headers: req.headers },
    );
    if (ok !== true) return { ok: false, error: ok === null ? "no keygate signature" : "signature mismatch" };
  } catch (e) {
    return { ok: false, error: e.message };
  }
  const input = req.headers["signature-input"];
  const covered = /^keygate=\(([^)]*)\)/.exec(input)?.[1].split(" ").map((c) => c.slice(1, -1)) ?? [];
  if (/,/.test(input.replace(/"[^"]*"/g, ""))) return { ok: false, error: "more than one signature" };
  // Identity headers the signature does not cover were added by someone else.
  const stray = Object.keys(req.headers).find((h) => h.startsWith("keygate-") && !covered.includes(h));
  if (stray) return { ok: false, error: `${stray} is not signed` };
  if (params.keyid !== req.headers["keygate-product"]) return { ok: false, error: "keyid is not the product" };
  if (params.nonce !== req.headers["keygate-request-id"]) return { ok: false, error: "nonce mismatch" };
  if (covered.includes("content-digest")) {
    const digest = `sha-256=:${createHash("sha256").update(body).digest("base64")}:`;
    if (req.headers["content-digest"] !== digest) return { ok: false, error: "Content-Digest does not match the body" };
  }
  // Replays: a nonce is accepted once while its signature is unexpired.
  const seconds = Math.floor(now / 1000);
  for (const [nonce, expires] of nonces) if (expires < seconds) nonces.delete(nonce);
  if (nonces.has(params.nonce)) return { ok: false, error: "nonce already used (replay)" };
  nonces.set(params.nonce, params.expires);
  return { ok: true, params };
}
