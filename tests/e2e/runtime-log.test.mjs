// The harness's runtime-log check catches what it must, from both Workers,
// in every run: stand-ins for the gateway and the control Worker
// (misbehaving-gateway.mjs, misbehaving-control.mjs) throw, reject in the
// background, build a 204 with a body, and
// (gateway) drop a WebSocket's other end; every one of those must show up
// in gw.runtimeProblems(), and gw.stop() must then fail; a fetch failure
// that the Worker catches must not. Several sessions
// (KEYGATE_LOGCHECK_RUNS, default 3): wrangler's own printing of uncaught
// exceptions depended on which Worker its inspector found first.
// Not covered: a rejected promise that nothing awaits or hands to
// waitUntil. workerd reports it nowhere, neither in its log (--verbose)
// nor to an inspector session (Runtime.exceptionThrown); checked with a
// session of our own on each Worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { ROOT, startGateway } from "./harness.mjs";

const template = readFileSync(join(ROOT, "tests/e2e/wrangler.manage.toml"), "utf8");
const RUNS = Number(process.env.KEYGATE_LOGCHECK_RUNS ?? 3);

/** [path, what a runtime problem line must contain]. */
const CASES = [
  ["gateway/throw", "logcheck gateway throw"],
  ["gateway/background", "logcheck gateway background"],
  ["control/throw", "logcheck control throw"],
  ["control/background", "logcheck control background"],
  ["control-object/throw", "logcheck control-object throw"],
];
const WARNINGS = ["gateway/warning", "control/warning"];

function websocketClose(url) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/__logcheck/gateway/websocket`);
    ws.once("error", fail);
    ws.once("open", () => ws.close(1000, "closed by the client"));
    ws.once("close", ok);
  });
}

for (let run = 1; run <= RUNS; run++) {
  test(`run ${run}: every runtime problem of both Workers is caught`, async () => {
    const gw = await startGateway({ template, seam: "misbehaving" });
    let stopped = false;
    try {
      for (const [path] of CASES) {
        const res = await fetch(`${gw.url}/__logcheck/${path}`);
        await res.arrayBuffer();
        // A throw across the seam is answered 500 by the runtime, or caught
        // (502) by the gateway stand-in: the gateway does not throw.
        if (path.endsWith("/throw")) assert.ok([500, 502].includes(res.status), `${path}: ${res.status}`);
      }
      for (const path of WARNINGS) await (await fetch(`${gw.url}/__logcheck/${path}`)).arrayBuffer();
      // A caught fetch failure is no runtime problem (see REFUSED_CONNECT in
      // the harness), though workerd logs it as "uncaught exception".
      const refused = await fetch(`${gw.url}/__logcheck/gateway/refused`);
      assert.equal(refused.status, 502, await refused.text());
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(gw.runtimeProblems().filter((l) => /Network connection lost/.test(l)), []);
      await websocketClose(gw.url);

      const seen = () => {
        const lines = gw.runtimeProblems();
        return {
          missing: CASES.filter(([, marker]) => !lines.some((l) => l.includes(marker))).map(([p]) => p),
          // One warning line per Worker.
          warnings: lines.filter((l) => /null body status/.test(l)).length,
          lost: lines.filter((l) => /Network connection lost/.test(l)).length,
        };
      };
      // The runtime logs some of them after the response: wait a little.
      const deadline = Date.now() + 15_000;
      let now = seen();
      while ((now.missing.length || now.warnings < 2 || now.lost < 1) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        now = seen();
      }
      assert.deepEqual(now.missing, [], "uncaught exceptions not caught");
      assert.ok(now.warnings >= 2, `null-body warnings caught: ${now.warnings} of 2`);
      assert.ok(now.lost >= 1, "the WebSocket's lost connection is caught");

      stopped = true;
      await assert.rejects(gw.stop(), (e) =>
        /the runtime logged what it never should/.test(e.message) && CASES.every(([, m]) => e.message.includes(m)),
      );
    } finally {
      if (!stopped) await gw.stop().catch(() => {});
    }
  });
}
