/**
 * Verifies the RFC 9421 signature keygate puts on every request it forwards,
 * and returns the identity it vouches for.
 *
 * Web Crypto only (Node 20+, Deno, Bun, Workers): no runtime dependency.
 * Invariants: every rule docs/origin.md lists is checked before an identity
 * is returned; a nonce is remembered only once everything else verified;
 * the MAC is compared by `crypto.subtle.verify` (constant time); keys and
 * secrets are never put in an error or a log.
 */

/** The label of keygate's member in `Signature-Input` and `Signature`. */
export const LABEL = "keygate";
/** The only algorithm keygate signs with. */
export const ALG = "hmac-sha256";
/** HKDF salt of the per-product keys. */
export const SALT = "keygate/rfc9421/origin-key/v1";
/** Components every keygate signature must cover. */
export const REQUIRED = ["@method", "@authority", "@path", "@query", "keygate-product", "keygate-request-id"] as const;
/** Shortest `KEYGATE_ORIGIN_SECRET` keygate accepts, trimmed. */
export const MIN_SECRET_LENGTH = 32;

/**
 * Which rule a request failed. Stable strings, one per rule:
 * - `malformed`: `Signature`/`Signature-Input` missing, unparseable, or not
 *   exactly one member labelled `keygate`; a parameter missing.
 * - `algorithm`: `alg` is not `hmac-sha256`.
 * - `unknown_product`: `keyid` is not a product this origin serves.
 * - `product_mismatch`: `keyid` is not the `Keygate-Product` header.
 * - `not_covered`: a required component is not covered.
 * - `missing_header`: a covered header is absent.
 * - `uncovered_header`: a `Keygate-*` header (or `Content-Digest`) is
 *   present that the signature does not cover.
 * - `expired`: `expires` has passed. `not_yet_valid`: `created` is in the
 *   future beyond the allowed skew.
 * - `nonce_mismatch`: `nonce` is not the `Keygate-Request-Id` header.
 * - `digest_required`: the product signs bodies (`signBody`) but
 *   `content-digest` is not covered.
 * - `digest_mismatch`: `Content-Digest` does not match the body.
 * - `body_unavailable`: the body had to be checked but was already consumed.
 * - `signature_mismatch`: the MAC does not match (wrong key, or anything
 *   covered was changed).
 * - `replay`: the nonce was seen before its signature expired.
 * - `nonce_store_full`: the nonce store cannot remember another nonce.
 */
export type Rule =
  | "malformed"
  | "algorithm"
  | "unknown_product"
  | "product_mismatch"
  | "not_covered"
  | "missing_header"
  | "uncovered_header"
  | "expired"
  | "not_yet_valid"
  | "nonce_mismatch"
  | "digest_required"
  | "digest_mismatch"
  | "body_unavailable"
  | "signature_mismatch"
  | "replay"
  | "nonce_store_full";

/** A request keygate's signature does not vouch for. */
export class KeygateError extends Error {
  override readonly name = "KeygateError";
  constructor(readonly rule: Rule, message: string) {
    super(`${rule}: ${message}`);
  }
}

/** What keygate vouches for. Key fields are `null` on a public path. */
export interface Identity {
  product: string;
  keyId: string | null;
  account: string | null;
  environment: "live" | "test" | null;
  scopes: string[];
  /** The key's forwarded `meta` members (`forward_meta`), or `null` when the product forwards none. */
  meta: Record<string, unknown> | null;
  clientIp: string | null;
  requestId: string;
  /** The signature's `created` and `expires`, Unix seconds. */
  created: number;
  expires: number;
}

/**
 * Remembers nonces until they expire. `remember` must be atomic: it stores
 * `nonce` until `expires` (Unix seconds) and returns `true`, or returns
 * `false` when the nonce is already stored (a replay). With Redis:
 * `(await redis.set("keygate:" + nonce, "1", { NX: true, EXAT: expires })) === "OK"`.
 * Throw a `KeygateError("nonce_store_full", …)` to refuse when full.
 */
export interface NonceStore {
  remember(nonce: string, expires: number, now: number): boolean | Promise<boolean>;
}

/** In-memory {@link NonceStore}: bounded, expiring, for one process. */
export class MemoryNonceStore implements NonceStore {
  readonly #seen = new Map<string, number>();
  constructor(readonly capacity = 100_000) {}

  remember(nonce: string, expires: number, now: number): boolean {
    const seen = this.#seen.get(nonce);
    if (seen !== undefined && seen >= now) return false;
    if (this.#seen.size >= this.capacity) {
      for (const [n, e] of this.#seen) if (e < now) this.#seen.delete(n);
      if (this.#seen.size >= this.capacity) {
        // Forgetting an unexpired nonce would reopen its replay window.
        throw new KeygateError("nonce_store_full", `more than ${this.capacity} unexpired nonces`);
      }
    }
    this.#seen.delete(nonce);
    this.#seen.set(nonce, expires);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}

/** The store `verify` uses when the options name none: one per process. */
export const defaultNonceStore = new MemoryNonceStore();

export interface VerifyOptions {
  /** `KEYGATE_ORIGIN_SECRET`; each product's key is derived from it. Give `products` with it. */
  secret?: string;
  /** With `secret`: the products this origin serves. */
  products?: readonly string[];
  /** Per-product keys, as `keygate origin-key --product ID` prints them (base64), or raw bytes. */
  keys?: Readonly<Record<string, string | Uint8Array>>;
  /** Products that set `sign_body = true` (or `true` for all): their signatures must cover `content-digest`. */
  signBody?: boolean | readonly string[];
  /** Seconds a `created` may lie in the future (clock skew). Default 5. */
  maxSkew?: number;
  /** Where nonces are remembered; default {@link defaultNonceStore}. */
  nonces?: NonceStore;
  /** The `@authority` keygate signed (the upstream's host), when a proxy in front of the origin rewrites `Host`. */
  authority?: string;
  /** The clock, in milliseconds (tests). */
  now?: () => number;
}

/** A request as the origin received it, framework-neutral. */
export interface ReceivedRequest {
  method: string;
  /** The `Host` the origin received (or the `authority` option). */
  authority: string;
  /** The path as received: not decoded, without the query. */
  path: string;
  /** The query without `?`, as received; `null` when there is none. */
  query: string | null;
  /** Every header field line: name (any case) and value. */
  headers: Iterable<readonly [string, string]>;
  /** The body; read only when a digest must be checked. */
  body: () => Promise<Uint8Array>;
}

/**
 * A standard `Request` as a {@link ReceivedRequest}: the path and query as
 * they appear in `request.url`, the authority from `Host` (else the URL),
 * and by default a clone of the body.
 */
export function received(
  request: Request,
  body: () => Promise<Uint8Array> = async () => new Uint8Array(await request.clone().arrayBuffer()),
): ReceivedRequest {
  const raw = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)(?:\?([^#]*))?/i.exec(request.url);
  return {
    method: request.method,
    authority: request.headers.get("host") ?? new URL(request.url).host,
    path: raw?.[1] || "/",
    query: raw?.[2] ?? null,
    headers: request.headers,
    body,
  };
}

const encoder = new TextEncoder();

function base64ToBytes(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** The bytes in an ArrayBuffer of their own (Web Crypto takes no SharedArrayBuffer). */
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** A product's key: `HKDF-SHA256(IKM = secret trimmed, salt = SALT, info = product id)`, 32 bytes. */
export async function productKey(secret: string, product: string): Promise<Uint8Array> {
  const trimmed = secret.trim();
  if (trimmed.length < MIN_SECRET_LENGTH) {
    throw new TypeError(`KEYGATE_ORIGIN_SECRET must be at least ${MIN_SECRET_LENGTH} characters long`);
  }
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(trimmed), "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode(SALT), info: encoder.encode(product) },
    ikm,
    256,
  );
  return new Uint8Array(bits);
}

/** RFC 9530 `Content-Digest` of a body, as keygate writes it: `sha-256=:<base64>:`. */
export async function contentDigest(body: Uint8Array): Promise<string> {
  return `sha-256=:${bytesToBase64(new Uint8Array(await crypto.subtle.digest("SHA-256", own(body))))}:`;
}

interface Input {
  components: string[];
  created: number;
  expires: number;
  nonce: string;
  keyid: string;
  alg: string;
  /** The `@signature-params` value, re-serialised canonically. */
  params: string;
}

/** Dictionary members `name=value`, split at commas outside strings and parentheses. */
function members(value: string): [string, string][] | null {
  if (value.length > 8192) return null;
  const out: string[] = [];
  let start = 0, depth = 0, quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === "\\") return null; // keygate never escapes
      if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "(") depth++;
    else if (c === ")") { if (--depth < 0) return null; }
    else if (c === "," && depth === 0) { out.push(value.slice(start, i)); start = i + 1; }
  }
  out.push(value.slice(start));
  const pairs: [string, string][] = [];
  for (const m of out) {
    const t = m.trim();
    const eq = t.indexOf("=");
    if (eq <= 0) return null;
    pairs.push([t.slice(0, eq), t.slice(eq + 1)]);
  }
  return pairs;
}

/** keygate's member: the only one. */
function only(value: string | null): string {
  const all = value === null ? null : members(value);
  if (!all || all.length !== 1 || all[0]![0] !== LABEL) {
    throw new KeygateError("malformed", "expected exactly one signature, labelled keygate");
  }
  return all[0]![1];
}

const SF_STRING = /^"([\x20\x21\x23-\x5b\x5d-\x7e]*)"$/;
const COMPONENT = /^(@method|@authority|@path|@query|[a-z0-9!#$%&'*+\-.^_`|~]+)$/;
const INTEGER = /^-?[0-9]{1,15}$/;

function parseInput(member: string): Input {
  const bad = (why: string) => new KeygateError("malformed", `Signature-Input: ${why}`);
  const m = /^\(([^()]*)\)(.*)$/.exec(member);
  if (!m) throw bad("not an inner list");
  const components: string[] = [];
  for (const item of m[1]!.split(" ").filter(Boolean)) {
    const s = SF_STRING.exec(item)?.[1];
    if (s === undefined || !COMPONENT.test(s)) throw bad(`component ${item}`);
    if (components.includes(s)) throw bad(`component ${s} twice`);
    components.push(s);
  }
  const values = new Map<string, string>();
  let params = `(${components.map((c) => `"${c}"`).join(" ")})`;
  if (m[2]) {
    if (!m[2].startsWith(";")) throw bad("parameters");
    for (const p of m[2].slice(1).split(";")) {
      const eq = p.indexOf("=");
      const name = p.slice(0, eq).trim();
      const raw = p.slice(eq + 1);
      if (eq < 0 || values.has(name)) throw bad("parameters");
      if (name === "created" || name === "expires") {
        if (!INTEGER.test(raw)) throw bad(name);
        values.set(name, String(Number(raw)));
      } else if (name === "nonce" || name === "keyid" || name === "alg") {
        const s = SF_STRING.exec(raw)?.[1];
        if (s === undefined) throw bad(name);
        values.set(name, s);
      } else throw bad(`unknown parameter ${name}`);
      params += name === "created" || name === "expires" ? `;${name}=${values.get(name)}` : `;${name}="${values.get(name)}"`;
    }
  }
  const get = (name: string) => {
    const v = values.get(name);
    if (v === undefined) throw bad(`no ${name}`);
    return v;
  };
  return {
    components,
    created: Number(get("created")),
    expires: Number(get("expires")),
    nonce: get("nonce"),
    keyid: get("keyid"),
    alg: get("alg"),
    params,
  };
}

/** Headers by lowercase name, several lines joined by ", " (RFC 9421 §2.1), values trimmed. */
function collect(headers: Iterable<readonly [string, string]>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of headers) {
    const n = name.toLowerCase();
    const v = value.replace(/^[ \t]+|[ \t]+$/g, "");
    out.set(n, out.has(n) ? `${out.get(n)}, ${v}` : v);
  }
  return out;
}

const isReserved = (name: string) => name.replaceAll("_", "-").startsWith("keygate-");

/**
 * Checks a keygate signature with reusable state: the keys (derived once)
 * and the nonce store. Build one per process and call {@link Verifier.verify}.
 */
export class Verifier {
  readonly #keys = new Map<string, Promise<CryptoKey>>();
  readonly #signBody: (product: string) => boolean;
  readonly #skew: number;
  readonly #nonces: NonceStore;
  readonly #authority: string | undefined;
  readonly #now: () => number;

  constructor(options: VerifyOptions) {
    const importKey = (bytes: Uint8Array) =>
      crypto.subtle.importKey("raw", own(bytes), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    if (options.secret !== undefined) {
      if (!options.products?.length) throw new TypeError("with secret, name the products this origin serves");
      if (options.secret.trim().length < MIN_SECRET_LENGTH) {
        throw new TypeError(`KEYGATE_ORIGIN_SECRET must be at least ${MIN_SECRET_LENGTH} characters long`);
      }
      for (const p of options.products) this.#keys.set(p, productKey(options.secret, p).then(importKey));
    }
    for (const [product, key] of Object.entries(options.keys ?? {})) {
      const bytes = typeof key === "string" ? base64ToBytes(key.trim()) : key;
      if (!bytes || bytes.length !== 32) throw new TypeError(`the key for ${product} is not 32 bytes of base64`);
      this.#keys.set(product, importKey(bytes));
    }
    if (this.#keys.size === 0) throw new TypeError("give secret and products, or keys");
    for (const k of this.#keys.values()) k.catch(() => {});
    const sb = options.signBody ?? false;
    this.#signBody = typeof sb === "boolean" ? () => sb : (p) => sb.includes(p);
    this.#skew = options.maxSkew ?? 5;
    this.#nonces = options.nonces ?? defaultNonceStore;
    this.#authority = options.authority?.toLowerCase();
    this.#now = options.now ?? Date.now;
  }

  /** Verifies a standard `Request` (reads a clone of the body only when a digest is checked). */
  verifyRequest(request: Request): Promise<Identity> {
    return this.verify(received(request));
  }

  /** Verifies a framework-neutral request; resolves to its identity or rejects with a {@link KeygateError}. */
  async verify(request: ReceivedRequest): Promise<Identity> {
    const headers = collect(request.headers);
    const input = parseInput(only(headers.get("signature-input") ?? null));
    const presented = /^:([A-Za-z0-9+/=]*):$/.exec(only(headers.get("signature") ?? null))?.[1];
    const mac = presented === undefined ? null : base64ToBytes(presented);
    if (mac === null) throw new KeygateError("malformed", "Signature is not a byte sequence");
    if (input.alg !== ALG) throw new KeygateError("algorithm", `alg ${JSON.stringify(input.alg)} is not ${ALG}`);
    const key = this.#keys.get(input.keyid);
    if (!key) throw new KeygateError("unknown_product", `this origin does not serve ${JSON.stringify(input.keyid)}`);
    if (headers.get("keygate-product") !== input.keyid) {
      throw new KeygateError("product_mismatch", "keyid is not the Keygate-Product header");
    }
    for (const c of REQUIRED) {
      if (!input.components.includes(c)) throw new KeygateError("not_covered", `${c} is not covered`);
    }
    for (const name of headers.keys()) {
      if ((isReserved(name) || name === "content-digest") && !input.components.includes(name)) {
        throw new KeygateError("uncovered_header", `${name} is not signed`);
      }
    }
    const now = Math.floor(this.#now() / 1000);
    if (now > input.expires) throw new KeygateError("expired", "the signature has expired");
    if (input.created - this.#skew > now) throw new KeygateError("not_yet_valid", "created is in the future");
    if (headers.get("keygate-request-id") !== input.nonce) {
      throw new KeygateError("nonce_mismatch", "nonce is not the Keygate-Request-Id header");
    }
    const digested = input.components.includes("content-digest");
    if (!digested && this.#signBody(input.keyid)) {
      throw new KeygateError("digest_required", `${input.keyid} signs bodies, but content-digest is not covered`);
    }
    const lines: string[] = [];
    for (const c of input.components) {
      let value: string | undefined;
      if (c === "@method") value = request.method;
      else if (c === "@authority") value = (this.#authority ?? request.authority).toLowerCase();
      else if (c === "@path") value = request.path || "/";
      else if (c === "@query") value = `?${request.query ?? ""}`;
      else value = headers.get(c);
      if (value === undefined) throw new KeygateError("missing_header", `covered header ${c} is absent`);
      lines.push(`"${c}": ${value}`);
    }
    lines.push(`"@signature-params": ${input.params}`);
    if (digested) {
      let body: Uint8Array;
      try {
        body = await request.body();
      } catch (e) {
        throw new KeygateError("body_unavailable", e instanceof Error ? e.message : "the body could not be read");
      }
      if (headers.get("content-digest") !== (await contentDigest(body))) {
        throw new KeygateError("digest_mismatch", "Content-Digest does not match the body");
      }
    }
    if (!(await crypto.subtle.verify("HMAC", await key, own(mac), encoder.encode(lines.join("\n"))))) {
      throw new KeygateError("signature_mismatch", "the signature does not match");
    }
    const verified = identity(headers, input);
    if (!(await this.#nonces.remember(input.nonce, input.expires, now))) {
      throw new KeygateError("replay", "nonce already used");
    }
    return verified;
  }
}

function identity(headers: Map<string, string>, input: Input): Identity {
  const env = headers.get("keygate-environment");
  const metaText = headers.get("keygate-key-meta");
  let meta: Record<string, unknown> | null = null;
  if (metaText !== undefined) {
    try {
      meta = JSON.parse(metaText);
    } catch {
      throw new KeygateError("malformed", "Keygate-Key-Meta is not JSON");
    }
  }
  const scopes = headers.get("keygate-scopes");
  return {
    product: input.keyid,
    keyId: headers.get("keygate-key-id") ?? null,
    account: headers.get("keygate-account") ?? null,
    environment: env === "live" || env === "test" ? env : null,
    scopes: scopes ? scopes.split(" ").filter(Boolean) : [],
    meta,
    clientIp: headers.get("keygate-client-ip") ?? null,
    requestId: input.nonce,
    created: input.created,
    expires: input.expires,
  };
}

const verifiers = new WeakMap<VerifyOptions, Verifier>();

/**
 * Verifies a standard `Request` received from keygate. Resolves to the
 * identity, or rejects with a {@link KeygateError} naming the rule. Reuse
 * one options object (keys are derived once per object); nonces go to
 * `options.nonces`, else to one in-memory store per process.
 */
export function verify(request: Request, options: VerifyOptions): Promise<Identity> {
  let verifier = verifiers.get(options);
  if (!verifier) verifiers.set(options, (verifier = new Verifier(options)));
  return verifier.verifyRequest(request);
}
