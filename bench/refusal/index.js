// The JavaScript refusal `tests/bench/profile.mjs` compares keygate's with:
// a hand-written Worker that reads the product's key header, refuses a key
// that is not `<prefix>_<env>_<32 base62><6 checksum>`-shaped with the
// same 401 problem+json and one log line, and forwards anything else
// unchanged to ORIGIN (as bench/passthrough does). No storage, no HMAC.
const SHAPE = /^sf_(live|test)_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$/;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = request.headers.get("x-salesforge-key");
    if (key === null || !SHAPE.test(key)) {
      const id = crypto.randomUUID();
      console.log(JSON.stringify({ request_id: id, product: "salesforge", outcome: "malformed_key", status: 401 }));
      return new Response(
        JSON.stringify({
          type: "https://keygate.dev/problems/malformed_key",
          title: "Malformed API key",
          status: 401,
          code: "malformed_key",
          detail: "The key in X-Salesforge-Key is not a Salesforge key.",
          request_id: id,
        }),
        { status: 401, headers: { "content-type": "application/problem+json", "www-authenticate": 'ApiKey header="X-Salesforge-Key"' } },
      );
    }
    return fetch(new Request(env.ORIGIN + url.pathname + url.search, request));
  },
};
