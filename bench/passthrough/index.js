// The floor `make bench` measures keygate against: a bare JavaScript
// Worker that forwards every request to ORIGIN unchanged (same method,
// headers and streamed body; the path and query appended to ORIGIN's), and
// returns the origin's response as is. No verification, no logging.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(new Request(env.ORIGIN + url.pathname + url.search, request));
  },
};
