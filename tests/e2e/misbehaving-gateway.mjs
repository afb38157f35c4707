// A gateway stand-in for runtime-log.test.mjs: answers the harness's
// readiness probe as keygate does (a problem+json refusal), and otherwise
// does on request what the runtime must report, each with its own marker,
// or passes the request to the control stand-in (misbehaving-control.mjs)
// by the gateway's real bindings: CONTROL (service) and ACCOUNTS (object).
//   /__logcheck/gateway/<kind>, /__logcheck/control/<kind>,
//   /__logcheck/control-object/<kind>; kinds: throw, background,
//   warning; gateway only: websocket, refused (a caught fetch failure).
export default {
  async fetch(request, env, ctx) {
    const [, prefix, where, kind] = new URL(request.url).pathname.split("/");
    if (prefix !== "__logcheck") {
      return Response.json(
        { type: "about:blank", title: "No route", status: 404, code: "no_route" },
        { status: 404, headers: { "content-type": "application/problem+json" } },
      );
    }
    // As keygate does, a failure across the seam is caught here (and
    // answered 502): only the control side can report the problem.
    if (where === "control" || where === "control-object") {
      try {
        const target = where === "control" ? env.CONTROL : env.ACCOUNTS.get(env.ACCOUNTS.idFromName("logcheck"));
        return await target.fetch(request);
      } catch {
        return new Response("control failed", { status: 502 });
      }
    }
    const marker = `logcheck gateway ${kind}`;
    if (kind === "throw") throw new Error(marker);
    if (kind === "background") {
      ctx.waitUntil(Promise.reject(new Error(marker)));
      return new Response("background");
    }
    if (kind === "warning") return new Response("", { status: 204 });
    if (kind === "refused") {
      // Not a problem: a fetch to a closed port, caught (as keygate
      // catches an unreachable origin's failure).
      try {
        await fetch("http://127.0.0.1:9/");
        return new Response("port 9 answered", { status: 500 });
      } catch {
        return new Response("refused", { status: 502 });
      }
    }
    if (kind === "websocket") {
      // Accepting before the 101 is returned: workerd reports "Network
      // connection lost" after the close handshake (see accept_both in
      // src/gateway/websocket.rs), a DISCONNECTED-type uncaught exception.
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener("close", (e) => server.close(e.code, e.reason));
      return new Response(null, { status: 101, webSocket: client });
    }
    return new Response("unknown kind", { status: 404 });
  },
};
