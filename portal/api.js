// The portal's calls to its own API: same origin, the session cookie, and
// the session's CSRF token on every change. A problem+json answer becomes a
// thrown ApiError carrying `detail` and, per field, what is wrong.

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute("content") ?? "";

export const BASE = meta("keygate-portal");
const CSRF = meta("keygate-csrf");

export class ApiError extends Error {
  constructor(problem, status) {
    super(problem?.detail || problem?.title || `The request failed (${status}).`);
    this.status = status;
    this.code = problem?.code ?? "error";
    this.fields = {};
    for (const e of problem?.errors ?? []) if (e.field) this.fields[e.field] = e.reason || e.detail || problem.detail;
    if (problem?.field && !this.fields[problem.field]) this.fields[problem.field] = problem.detail;
  }
}

/** A fresh Idempotency-Key: one per create or rotate the user asks for. */
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function api(method, path, body, extra = {}) {
  const headers = { Accept: "application/json", ...extra };
  if (method !== "GET") headers["X-Keygate-CSRF"] = CSRF;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(`${BASE}/api${path}`, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError({ detail: "The network request failed. Check your connection and try again." }, 0);
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch {}
  if (!res.ok) throw new ApiError(json, res.status);
  return json;
}

/** Ends the session (not only the cookie); the caller then leaves the page. */
export async function signOut() {
  try {
    await fetch(`${BASE}/logout`, { method: "POST", headers: { "X-Keygate-CSRF": CSRF }, credentials: "same-origin" });
  } catch {}
}
