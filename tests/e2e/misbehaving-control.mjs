// A control Worker stand-in for runtime-log.test.mjs: on request (from
// misbehaving-gateway.mjs, by service binding or Durable Object stub) it
// does what the runtime must report, each with its own marker in the
// message, so that the test can tell which Worker's problem was logged.
function misbehave(kind, where, ctx) {
  const marker = `logcheck ${where} ${kind}`;
  if (kind === "throw") throw new Error(marker);
  if (kind === "background") {
    const rejected = Promise.reject(new Error(marker));
    if (ctx) ctx.waitUntil(rejected);
    return new Response("background");
  }
  // A runtime warning: a null-body status built with a (zero-length) body.
  if (kind === "warning") return new Response("", { status: 204 });
  return new Response("unknown kind", { status: 404 });
}

export class Account {
  async fetch(request) {
    return misbehave(new URL(request.url).pathname.split("/").pop(), "control-object", null);
  }
}

export default {
  async fetch(request, env, ctx) {
    return misbehave(new URL(request.url).pathname.split("/").pop(), "control", ctx);
  },
};
